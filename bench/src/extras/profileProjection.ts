/**
 * Profiles one catch-up contender of `projections.ts` alone (no other contender in the process), for
 * `node --cpu-prof`:
 *
 * passes only (the seeding is left out of the profile, through `node:inspector`); `inline` or `plain` profiles
 * `commits` single-event appends with or without the inline upsert instead:
 *
 *   npm run profile:build && node node_modules/.profile-build/bench/src/extras/profileProjection.js \
 *     sqlite 100000 3 aett /tmp/aett-projection.cpuprofile
 *   npm run profile -- /tmp/aett-projection.cpuprofile 30
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { orThrow } from '../aett/contenders.js'
import { singleEvent } from './common.js'
import { catchupSetup, inlineSetup } from './projections.js'

const [backend = 'sqlite', commitsArg = '100000', passesArg = '3', who = 'aett', out] = process.argv.slice(2)
if (backend !== 'sqlite' && backend !== 'postgres') throw new Error('backend must be sqlite or postgres')
const commits = Number(commitsArg)

/** `inline` or `plain`: `commits` single-event appends, one after the other, with or without the inline upsert. */
const appends = async (inline: boolean): Promise<void> => {
  const s = await inlineSetup(backend)
  try {
    const unregister = inline ? orThrow('inlineProjection', await s.register()) : undefined
    const session = new Session()
    session.connect()
    if (out !== undefined) {
      await session.post('Profiler.enable')
      await session.post('Profiler.start')
    }
    const t0 = performance.now()
    for (let i = 0; i < commits; i++) orThrow('append', await s.store.commit(singleEvent(`s-${i % 50}`, Math.floor(i / 50) + 1)))
    process.stderr.write(`${who} ${backend}: ${(((performance.now() - t0) * 1000) / commits).toFixed(0)} µs per append\n`)
    if (out !== undefined) {
      const { profile } = await session.post('Profiler.stop')
      writeFileSync(out, JSON.stringify(profile))
      process.stderr.write(`wrote ${out}\n`)
    }
    session.disconnect()
    unregister?.()
  } finally {
    await s.close()
  }
}
if (who === 'inline' || who === 'plain') {
  await appends(who === 'inline')
  process.exit(0)
}
const setup = await catchupSetup(backend, commits, (line) => process.stderr.write(`${line}\n`))
try {
  // A comma list (`aett,raw`) alternates the contenders, pass by pass, as the bench does.
  const chosen = who.split(',').map((k) => {
    const c = setup.contenders.find((x) => x.key === k)
    if (c === undefined) throw new Error(`no contender ${k}`)
    return c
  })
  const session = new Session()
  session.connect()
  if (out !== undefined) {
    await session.post('Profiler.enable')
    await session.post('Profiler.start')
  }
  for (let round = 0; round < Number(passesArg); round++) {
    for (const c of chosen) {
      await c.reset()
      const ms = await c.pass(round)
      process.stderr.write(`${c.key} ${backend} pass ${round + 1}: ${ms.toFixed(0)} ms, ${(await c.applied()) === commits ? 'all applied' : 'NOT all applied'}\n`)
    }
  }
  if (out !== undefined) {
    const { profile } = await session.post('Profiler.stop')
    writeFileSync(out, JSON.stringify(profile))
    process.stderr.write(`wrote ${out}\n`)
  }
  session.disconnect()
} finally {
  await setup.close()
}
