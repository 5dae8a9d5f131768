// Commands per second with no cache (with and without snapshots), a fresh-mode cache and an allow-stale cache, on SQLite `:memory:` and on a
// file with synchronous=FULL, in the same run (not a timed test). Rounds interleave the three modes, so that a
// noisy neighbour slows them alike; the median round is reported with the ratio to "no cache".
//
//   npx tsx test/cache/measure.ts [commands per round, default 2000] [rounds, default 5]
import * as E from 'fp-ts/lib/Either.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { accountDecider, topics } from '../../bench/src/domain.js'
import { SnapshotPolicy, deciderRepository, stateCache } from '../../src/domain/index.js'
import type { Persistence } from '../../src/eventstore/index.js'
import { sqliteStore } from '../../src/sqlite/index.js'

const n = Number(process.argv[2] ?? 2000)
const rounds = Number(process.argv[3] ?? 5)
const STREAMS = 10

// "no cache" reads whole streams (they grow through a round); "snapshots/20" is the cache-less best practice.
type Mode = 'no cache' | 'snapshots/20' | 'cache (fresh)' | 'cache (stale)'
const MODES: readonly Mode[] = ['no cache', 'snapshots/20', 'cache (fresh)', 'cache (stale)']

const repoFor = (store: Persistence, mode: Mode) =>
  deciderRepository({
    decider: accountDecider,
    topics,
    store,
    ...(mode === 'no cache' ? {} : mode === 'snapshots/20' ? { snapshotPolicy: SnapshotPolicy.everyNEvents(20) } : { cache: stateCache({ maxEntries: 1_000 }) }),
    ...(mode === 'cache (stale)' ? { allowStaleMs: 60_000 } : {}),
  })

const commandsPerSecond = async (store: Persistence, mode: Mode, round: number): Promise<number> => {
  const repo = repoFor(store, mode)
  // Each stream gets a few events first, so that a command without a cache has a stream to read.
  const ids = Array.from({ length: STREAMS }, (_, i) => `${mode}-${round}-${i}`)
  for (const id of ids) for (let k = 0; k < 5; k++) await repo.handle(id, { type: 'Deposit', amount: 1 })()
  const started = performance.now()
  for (let i = 0; i < n; i++) {
    const r = await repo.handle(ids[i % STREAMS] as string, { type: 'Deposit', amount: 1 })()
    if (E.isLeft(r) || r.right._tag !== 'Appended') throw new Error(`${mode}: ${JSON.stringify(r)}`)
  }
  return (n / (performance.now() - started)) * 1000
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

const measure = async (label: string, store: Persistence) => {
  const init = await store.initialize()
  if (E.isLeft(init)) throw new Error(init.left.message)
  const runs: Record<Mode, number[]> = { 'no cache': [], 'snapshots/20': [], 'cache (fresh)': [], 'cache (stale)': [] }
  await commandsPerSecond(store, 'no cache', -1) // warm-up
  for (let round = 0; round < rounds; round++) for (const mode of MODES) runs[mode].push(await commandsPerSecond(store, mode, round))
  const base = median(runs['no cache'])
  console.log(`\n${label}: ${n} commands per round over ${STREAMS} streams, ${rounds} rounds`)
  for (const mode of MODES) {
    const m = median(runs[mode])
    const spread = `${Math.round(Math.min(...runs[mode]))}-${Math.round(Math.max(...runs[mode]))}`
    console.log(`  ${mode.padEnd(14)} ${Math.round(m).toString().padStart(7)} commands/s (rounds ${spread})  ${(m / base).toFixed(2)}x`)
  }
  await store.close()
}

const dir = mkdtempSync(join(tmpdir(), 'aett-cache-measure-'))
try {
  await measure('SQLite :memory:', sqliteStore({ filename: ':memory:' }))
  await measure('SQLite file, WAL, synchronous=FULL', sqliteStore({ filename: join(dir, 'measure.db'), synchronous: 'FULL' }))
} finally {
  rmSync(dir, { recursive: true, force: true })
}
