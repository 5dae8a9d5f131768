import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { EMMETT_MISSING, markdown, runBench, sizes, type SuiteName, type SuiteResult } from '../../bench/src/index.js'
import { mysqlUp as mysqlAvailable, postgresUp } from '../support/serverProbes.js'
import { mysqlUrl, pgUrl } from '../support/services.js'

/**
 * Keeps the benchmark harness working: a tiny run of every scenario, checked for shape only. Timings are
 * never asserted; they mean nothing at this size and on shared cores.
 */

const emmettInstalled = existsSync(
  fileURLToPath(new URL('../../bench/node_modules/@event-driven-io/emmett-sqlite/package.json', import.meta.url)),
)
if (!emmettInstalled) {
  const line = '!'.repeat(100)
  console.warn(`${line}\n!! ${EMMETT_MISSING}: the bench harness test runs aett and the raw drivers only.\n${line}`)
}

const tiny = (suites: readonly SuiteName[]) =>
  runBench({ sizes: sizes.tiny, rounds: 2, warmup: 1, suites, log: () => undefined })

const standard = ['global-read', 'fold', 'fold-snapshot', 'append-single', 'append-batch', 'commands', 'commands-cache-fresh', 'commands-cache-stale']

/** Every scenario ran without error, and every contender produced one timing per round. */
const expectComplete = (suite: SuiteResult, scenarios: readonly string[], emmett: 'expected' | 'absent'): void => {
  expect(suite.skipped).toBeUndefined()
  expect(suite.scenarios.map((s) => s.id)).toEqual(scenarios.map((s) => `${suite.id}/${s}`))
  for (const s of suite.scenarios) {
    expect(s.error, `${s.id} failed`).toBeUndefined()
    // Emmett's out-of-the-box SQLite mode (a connection per operation) can fail with SQLITE_BUSY on its own; the
    // harness reports that in the table. Nothing else may fail.
    const { emmett: emmettFailure, ...otherFailures } = s.failed
    expect(otherFailures, `${s.id}`).toEqual({})
    if (!s.id.endsWith('-emmett-default')) expect(emmettFailure, `${s.id}`).toBeUndefined()
    const libs = s.samples.map((x) => x.library)
    expect(libs).toContain('aett')
    for (const sample of s.samples) {
      if (s.failed[sample.library] === undefined) expect(sample.millis).toHaveLength(2)
      for (const ms of sample.millis) expect(Number.isFinite(ms) && ms >= 0).toBe(true)
    }
    // A library is either measured or its absence is explained; never both, never neither.
    for (const lib of ['emmett', 'raw'] as const) expect(libs.includes(lib) !== (s.missing[lib] !== undefined)).toBe(true)
    // Emmett has no snapshots and no state cache: those rows say so instead.
    if (emmett === 'expected' && !s.id.endsWith('fold-snapshot') && !s.id.includes('/commands-cache-')) {
      if (emmettInstalled) expect(libs).toContain('emmett')
      else expect(s.missing.emmett).toBe(EMMETT_MISSING)
    }
  }
}

describe('bench harness, tiny run', () => {
  it('runs every SQLite scenario in both synchronous modes for aett, Emmett and raw better-sqlite3', async () => {
    // Given the SQLite suites at the tiny size
    // When they run
    const [full, normal] = await tiny(['sqlite'])
    // Then every scenario has a timing per round for every contender (or says why a contender is missing)
    // (Emmett's out-of-the-box configuration gets a row of its own when Emmett is installed)
    const writes = ['append-single', 'append-batch', 'commands', 'commands-cache-fresh', 'commands-cache-stale']
    expectComplete(full!, emmettInstalled ? [...writes, 'append-single-emmett-default'] : writes, 'expected')
    expectComplete(normal!, standard, 'expected')
    expect(full!.notes.join(' ')).toContain('synchronous=FULL')
    expect(normal!.notes.join(' ')).toContain('synchronous=NORMAL')
    // And the report renders one row per scenario
    const md = markdown({ date: 'd', machine: 'm', command: 'c', size: 'tiny', rounds: 2, warmup: 1 }, [full!, normal!])
    const rows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| ---') && !l.startsWith('| scenario'))
    expect(rows).toHaveLength(full!.scenarios.length + normal!.scenarios.length)
  }, 120_000)

  it('runs the DynamoDB scenarios against dynalite, labelled as an emulator', async () => {
    const [dynamo] = await tiny(['dynamodb'])
    expectComplete(dynamo!, ['append-single', 'loads', 'commands', 'commands-cache-fresh', 'commands-cache-stale'], 'absent')
    expect(dynamo!.title).toContain('emulator')
  }, 120_000)
})

const pgUp = await postgresUp('bench')

describe.skipIf(!pgUp)('bench harness, tiny run on PostgreSQL', () => {
  it('runs every PostgreSQL scenario for aett, Emmett and raw pg, and drops its database', async () => {
    const [suite] = await tiny(['postgres'])
    expectComplete(suite!, standard, 'expected')
    const c = new pg.Client({ connectionString: pgUrl })
    await c.connect()
    const left = await c.query("SELECT datname FROM pg_database WHERE datname LIKE 'aett_bench_' || $1 || '_%'", [String(process.pid)])
    await c.end()
    expect(left.rows).toEqual([])
  }, 120_000)
})

const mysqlUp = await mysqlAvailable('bench')

describe.skipIf(!mysqlUp)('bench harness, tiny run on MySQL/MariaDB', () => {
  it('runs every MariaDB scenario for aett and raw mysql2, says Emmett has no MySQL store, and drops its database', async () => {
    const [suite] = await tiny(['mysql'])
    expectComplete(suite!, standard, 'absent')
    expect(suite!.scenarios[0]?.missing.emmett).toContain('no MySQL store')
    const c = await mysql.createConnection({ uri: mysqlUrl })
    const [rows] = await c.query('SHOW DATABASES LIKE ?', [`aett_bench_${process.pid}_%`])
    await c.end()
    expect(rows).toEqual([])
  }, 120_000)
})
