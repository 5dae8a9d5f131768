import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import * as E from 'fp-ts/lib/Either.js'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import type { Commit, Persistence } from '../../src/eventstore/index.js'
import { postgresStore } from '../../src/postgres/index.js'
import { sqliteStore } from '../../src/sqlite/index.js'
import { mysqlStore } from '../../src/mysql/index.js'
import { freshPrefix, mysqlAvailable, testPool as mysqlPool } from '../mysql/support.js'
import { pgAvailable } from '../postgres/support.js'
import { orThrow, tempDir, tempFile } from '../sqlite/support.js'
import { pgUrl, uniqueName } from '../support/services.js'
import { dynamoCounters, writeCommits } from './fixtures.js'
import { documentsOf } from '../../src/projections/index.js'
import { startDynalite } from '../dynamodb/server.js'
import { dynamoDbStore } from '../../src/dynamodb/index.js'

// Exactly once across SIGKILL: a child process (test/projections/killWorker.ts) projects a counter per event into a
// table of the store's database while this process kills it with SIGKILL in the middle of a batch, again and again,
// restarting it each time and appending more commits meanwhile. At the end every event of the log has its counter
// at exactly 1: no event was lost (a counter of 0) or applied twice (2), whatever the kill interrupted.
// AETT_SOAK=1 asks for 50 kills mid-batch instead of 5. On SQLite (a file), PostgreSQL and MySQL/MariaDB; and on
// DynamoDB (dynalite, in this process), where the counters are document projection documents (one per stream)
// written one conditional write per document and commit, without a transaction: exactly once in effect.

const soak = process.env['AETT_SOAK'] === '1'
const killsWanted = soak ? 50 : 5
const root = fileURLToPath(new URL('../..', import.meta.url))
const workerScript = fileURLToPath(new URL('./killWorker.ts', import.meta.url))
const dir = tempDir()
const figures: string[] = []
afterAll(() => {
  if (figures.length > 0) console.info(`projection kill figures\n  ${figures.join('\n  ')}`)
})

interface Worker {
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  stderr: string
}

const startWorker = (kind: string, target: string, logFile: string, settings: Record<string, unknown>): Worker => {
  const child = spawn(process.execPath, ['--import', 'tsx', workerScript, kind, target, logFile, JSON.stringify(settings)], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] })
  const worker: Worker = { child, stderr: '', exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal === null ? code : -1))) }
  child.stderr?.on('data', (chunk: Buffer) => (worker.stderr += chunk.toString()))
  return worker
}

const handledTokens = (logFile: string): number[] =>
  readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('h '))
    .map((l) => Number(l.slice(2)))

interface Target {
  readonly kind: 'sqlite' | 'postgres' | 'mysql' | 'dynamodb'
  readonly target: string
  readonly store: Persistence
  /** Every counter row: token, event index, count. */
  readonly counters: () => Promise<{ token: number; idx: number; n: number }[]>
  /**
   * How long each handler call spins (3 ms by default). DynamoDB's is longer: a write already sent reaches
   * dynalite (in this process) and lands after the kill, so only a kill before the send leaves a handled event
   * unwritten.
   */
  readonly spinMs?: number
}

/**
 * Kills the worker mid-batch until `killsWanted` kills landed while a transaction was open (the worker had
 * handled events that the read model does not hold), then lets a last worker catch up and checks every counter.
 */
const killLoop = async (t: Target) => {
  let head: Commit[] = await writeCommits(t.store, 150, 5)
  const all = [...head]
  let midBatch = 0
  let kills = 0
  const started = Date.now()
  for (let round = 0; midBatch < killsWanted && round < killsWanted * 4; round++) {
    const logFile = tempFile(dir) + '.log'
    writeFileSync(logFile, '')
    const worker = startWorker(t.kind, t.target, logFile, { batchSize: 25, spinMs: t.spinMs ?? 3, exitWhenCaughtUp: false })
    // Wait until it is inside a batch (it logged handled events), then a little more, at a varying point.
    const until = Date.now() + 20_000
    while (handledTokens(logFile).length === 0) {
      if (Date.now() > until) throw new Error(`the worker handled nothing: ${worker.stderr}`)
      if ((await Promise.race([worker.exited, sleep(5).then(() => 'running')])) !== 'running') throw new Error(`the worker exited: ${worker.stderr}`)
    }
    await sleep(5 + ((round * 17) % 40))
    worker.child.kill('SIGKILL')
    await worker.exited
    kills += 1
    const handled = handledTokens(logFile)
    const held = new Set((await t.counters()).map((c) => c.token))
    // A kill mid-batch: the worker handled an event whose write the database does not hold (rolled back).
    if (handled.some((token) => !held.has(token))) midBatch += 1
    head = await writeCommits(t.store, 10, 5, 1_000 + round * 10)
    all.push(...head)
  }
  const logFile = tempFile(dir) + '.log'
  writeFileSync(logFile, '')
  const last = startWorker(t.kind, t.target, logFile, { batchSize: 25, spinMs: 0, exitWhenCaughtUp: true })
  const code = await last.exited
  expect(code, last.stderr).toBe(0)
  figures.push(`${t.kind}: ${kills} SIGKILLs, ${midBatch} of them mid-batch, ${all.length} commits, ${Date.now() - started} ms`)
  const log: { token: number; idx: number }[] = []
  for await (const r of t.store.getFrom(0)) {
    if (E.isLeft(r)) throw new Error(r.left.message)
    r.right.events.forEach((_, idx) => log.push({ token: r.right.checkpointToken, idx }))
  }
  expect(log.length).toBe(all.length)
  expect(await t.counters()).toEqual(log.map((e) => ({ ...e, n: 1 })))
  // Checked after the counters, so that a store that applies twice fails on what it did, not on the kill count.
  expect(midBatch).toBeGreaterThanOrEqual(killsWanted)
}

const pgUp = await pgAvailable()
const myUp = await mysqlAvailable()

describe('transactional projections survive SIGKILL exactly once', () => {
  it(`on SQLite (a file): ${killsWanted} kills mid-batch`, { timeout: soak ? 600_000 : 60_000 }, async () => {
    const filename = tempFile(dir)
    const store = sqliteStore({ filename, busyRetries: 50 })
    orThrow(await store.initialize())
    const db = orThrow(await store.database())
    db.exec('CREATE TABLE counters (token INTEGER NOT NULL, idx INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (token, idx))')
    const counters = async () => db.prepare('SELECT token, idx, n FROM counters ORDER BY token, idx').all() as { token: number; idx: number; n: number }[]
    try {
      await killLoop({ kind: 'sqlite', target: filename, store, counters })
    } finally {
      await store.close()
    }
  })

  it.skipIf(!pgUp)(`on PostgreSQL: ${killsWanted} kills mid-batch`, { timeout: soak ? 600_000 : 60_000 }, async () => {
    const schema = uniqueName('aett_kill')
    const pool = new pg.Pool({ connectionString: pgUrl, max: 2 })
    pool.on('error', () => undefined)
    const store = postgresStore({ pool, schema, readWaitMs: 10_000 })
    orThrow(await store.initialize())
    await pool.query(`CREATE TABLE "${schema}".counters (token bigint NOT NULL, idx int NOT NULL, n int NOT NULL, PRIMARY KEY (token, idx))`)
    const counters = async () => (await pool.query(`SELECT token::int AS token, idx, n FROM "${schema}".counters ORDER BY token, idx`)).rows as { token: number; idx: number; n: number }[]
    try {
      await killLoop({ kind: 'postgres', target: schema, store, counters })
    } finally {
      await store.close()
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
      await pool.end()
    }
  })

  it(`on DynamoDB (dynalite, document projections): ${killsWanted} kills mid-batch`, { timeout: soak ? 900_000 : 90_000 }, async () => {
    const dynalite = await startDynalite()
    const prefix = `${uniqueName('aett_kill')}_`
    const store = dynamoDbStore({ client: dynalite.client, tables: { prefix } })
    orThrow(await store.initialize())
    // Every counter of every document: the document is a stream's, its keys "<token>:<index>".
    const counters = async () =>
      orThrow(await documentsOf(store, dynamoCounters()).all())
        .flatMap((d) => Object.entries(d.document).map(([k, n]) => ({ token: Number(k.split(':')[0]), idx: Number(k.split(':')[1]), n })))
        .sort((a, b) => a.token - b.token || a.idx - b.idx)
    try {
      await killLoop({ kind: 'dynamodb', target: JSON.stringify({ endpoint: dynalite.endpoint, prefix }), store, counters, spinMs: 20 })
    } finally {
      await store.drop()
      await store.close()
      await dynalite.close()
    }
  })

  it.skipIf(!myUp)(`on MySQL/MariaDB: ${killsWanted} kills mid-batch`, { timeout: soak ? 600_000 : 60_000 }, async () => {
    const prefix = freshPrefix()
    const pool = mysqlPool({ connectionLimit: 2 })
    const store = mysqlStore({ pool, tablePrefix: prefix })
    orThrow(await store.initialize())
    await pool.query(`CREATE TABLE \`${prefix}_counters\` (token BIGINT NOT NULL, idx INT NOT NULL, n INT NOT NULL, PRIMARY KEY (token, idx))`)
    const counters = async () =>
      ((await pool.query(`SELECT token, idx, n FROM \`${prefix}_counters\` ORDER BY token, idx`)) as unknown as [Record<string, unknown>[]])[0].map((r) => ({
        token: Number(r['token']),
        idx: Number(r['idx']),
        n: Number(r['n']),
      }))
    try {
      await killLoop({ kind: 'mysql', target: prefix, store, counters })
    } finally {
      await store.drop()
      await pool.query(`DROP TABLE IF EXISTS \`${prefix}_counters\``)
      await pool.end()
    }
  })
})
