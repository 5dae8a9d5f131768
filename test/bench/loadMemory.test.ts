import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { loadMemoryMarkdown, type StoreResult } from '../../bench/src/extras/loadMemory.js'
import { mysqlUp as mysqlAvailable, postgresUp } from '../support/serverProbes.js'

/**
 * Keeps `npm run bench:memory` working: one tiny run through tsx, as the npm script runs it, checked for shape
 * only. The bytes and milliseconds are never asserted; they mean nothing at this size and on shared cores.
 */

const pgUp = await postgresUp('bench memory')

const mysqlUp = await mysqlAvailable('bench memory')

const root = (path: string): string => fileURLToPath(new URL(`../../${path}`, import.meta.url))
const sizes = [200]

describe('bench memory, tiny run', () => {
  it('loads each stream in a child process per measurement and reports peaks above the baseline, or says why a store was skipped', async () => {
    // Given a short stream of 10-event commits on every store (one size: each measurement is a process of its own)
    // When the memory bench runs them once, as `npm run bench:memory` would
    const { stdout } = await promisify(execFile)(
      root('node_modules/.bin/tsx'),
      [root('bench/src/extras/loadMemory.ts'), '--events', sizes.join(','), '--per-commit', '10', '--rounds', '1', '--json'],
      { cwd: root('bench'), maxBuffer: 1 << 20 },
    )
    const results = JSON.parse(stdout) as StoreResult[]

    // Then every store has a result: SQLite with the kit and the raw reader, the servers with the kit
    expect(results.map((r) => r.store)).toEqual(['sqlite', 'postgres', 'mysql'])
    const up = { sqlite: true, postgres: pgUp, mysql: mysqlUp }
    for (const r of results) {
      if (!up[r.store]) {
        expect(r.skipped, r.store).toContain('unreachable')
        continue
      }
      expect(r.skipped, r.store).toBeUndefined()
      const contenders = r.store === 'sqlite' ? ['aett', 'raw'] : ['aett']
      expect(r.rows.map((row) => `${row.contender} ${row.events}`)).toEqual(sizes.flatMap((n) => contenders.map((c) => `${c} ${n}`)))
      // And each measurement (a child that checked it folded every event) sampled while loading
      for (const row of r.rows) {
        expect(row.rounds).toHaveLength(1)
        // And the live-heap probe collected 20 times during the load
        expect(row.liveSeries).toHaveLength(20)
        for (const m of row.rounds) {
          expect(m.samples, `${r.store} ${row.contender} ${row.events}`).toBeGreaterThan(0)
          expect(m.baselineHeap).toBeGreaterThan(0)
          for (const v of [m.peakHeap, m.peakRss, m.maxRss, m.elapsedMs]) expect(Number.isFinite(v)).toBe(true)
        }
      }
    }

    // And the report has one line per measured row
    const table = loadMemoryMarkdown(results, 10)
    const measured = results.reduce((n, r) => n + r.rows.length, 0)
    expect(table.split('\n').filter((l) => /^\| (sqlite|postgres|mysql) \| (aett|raw) /.test(l))).toHaveLength(measured)
    // About 12 s on a quiet machine (eight processes); the margin is for a full suite sharing two cores.
  }, 60_000)
})
