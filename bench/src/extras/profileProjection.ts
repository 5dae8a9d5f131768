/**
 * Profiles one catch-up contender of `projections.ts` alone (no other contender in the process), for
 * `node --cpu-prof`:
 *
 * passes only (the seeding is left out of the profile, through `node:inspector`):
 *
 *   npm run profile:build && node node_modules/.profile-build/bench/src/extras/profileProjection.js \
 *     sqlite 100000 3 aett /tmp/aett-projection.cpuprofile
 *   npm run profile -- /tmp/aett-projection.cpuprofile 30
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { catchupSetup } from './projections.js'

const [backend = 'sqlite', commitsArg = '100000', passesArg = '3', who = 'aett', out] = process.argv.slice(2)
if (backend !== 'sqlite' && backend !== 'postgres') throw new Error('backend must be sqlite or postgres')
const commits = Number(commitsArg)
const setup = await catchupSetup(backend, commits, (line) => process.stderr.write(`${line}\n`))
try {
  const c = setup.contenders.find((x) => x.key === who)
  if (c === undefined) throw new Error(`no contender ${who}`)
  const session = new Session()
  session.connect()
  if (out !== undefined) {
    await session.post('Profiler.enable')
    await session.post('Profiler.start')
  }
  for (let round = 0; round < Number(passesArg); round++) {
    await c.reset()
    const ms = await c.pass(round)
    process.stderr.write(`${who} ${backend} pass ${round + 1}: ${ms.toFixed(0)} ms, ${(await c.applied()) === commits ? 'all applied' : 'NOT all applied'}\n`)
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
