/**
 * Issue 15's projection figures, each against its baseline in the same run:
 *
 * - catch-up: a projection that upserts one row per event, run from the beginning over a seeded log, until the
 *   read model holds every event: aett's `startProjection` against a hand-written loop over the raw driver doing
 *   the same upserts and checkpoint in transactions of the same size, and against Emmett 0.42's projection;
 * - inline cost: a single-event append with an inline projection doing a one-row upsert against a plain append.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import * as E from 'fp-ts/lib/Either.js'
import mysql from 'mysql2/promise'
import pg from 'pg'
import type { Persistence } from '../../../src/eventstore/ports.js'
import { mysqlProjection, mysqlStore } from '../../../src/mysql/index.js'
import { postgresProjection, postgresStore } from '../../../src/postgres/index.js'
import { inlineProjection, startProjection, type RunningProjection } from '../../../src/projections/index.js'
import type { SqliteDatabase, SqliteStatement } from '../../../src/sqlite/config.js'
import { sqliteProjection, sqliteStore } from '../../../src/sqlite/index.js'
import { defaults } from '../../../src/subscriptions/options.js'
import { orThrow } from '../aett/contenders.js'
import { topics } from '../domain.js'
import { EMMETT_MISSING } from '../emmett/load.js'
import { uniqueName } from '../suites/common.js'
import { mysqlUrl } from '../suites/mysql.js'
import { pgUrl } from '../suites/postgres.js'
import { backend as backendOf, describeHolder, type Backend, type BackendId } from './backends.js'
import { message, now, rotate, seedSingles, singleEvent, sleep } from './common.js'
import { catchupBackends, inlineBackends, type InlineCostResult, type ProjectionCatchupResult, type ProjectionSizes, type ProjectionsResult } from './projectionTypes.js'
import type { Timed } from './types.js'

export interface ProjectionsOptions {
  readonly sizes: ProjectionSizes
  /** Overrides `sizes.commits` (the catch-up's log). */
  readonly commits?: number
  /** Timed catch-up rounds per contender; the inline-cost run takes `inlineRounds`. */
  readonly rounds: number
  readonly inlineRounds: number
  readonly warmup: number
  readonly suites?: readonly BackendId[]
  readonly log: (line: string) => void
}

/**
 * The size of every contender's transactions: aett's projection, started with default options, reads (and so
 * commits) `catchUpBatchSize` commits per batch while behind, so the raw loop and Emmett get the same.
 */
export const BATCH = defaults.catchUpBatchSize

/**
 * How long one pass may take before it counts as failed: generous (Emmett's PostgreSQL projection takes minutes
 * on the full log), but finite, so that a read held back for good fails the row with its reason instead of hanging.
 */
const deadlineOf = (commits: number): number => 60_000 + commits * 6

type Pass = (round: number) => Promise<number>

export interface Contender {
  readonly key: 'aett' | 'raw' | 'emmett'
  /** Empties the contender's read model (and its checkpoint), untimed, before each pass. */
  readonly reset: () => Promise<void>
  readonly pass: Pass
  /** Events the contender's read model holds, checked after each pass (untimed). */
  readonly applied: () => Promise<number>
}

// -------------------------------------------------------------------------------------
// the read model: one row per account, its total and its count of events
// -------------------------------------------------------------------------------------

const sqliteTable = (t: string): string => `CREATE TABLE ${t} (account TEXT PRIMARY KEY, total INTEGER NOT NULL, events INTEGER NOT NULL)`
const sqliteUpsert = (t: string): string =>
  `INSERT INTO ${t} (account, total, events) VALUES (?, ?, 1) ON CONFLICT (account) DO UPDATE SET total = total + excluded.total, events = events + 1`
const pgTable = (t: string): string => `CREATE TABLE ${t} (account text PRIMARY KEY, total bigint NOT NULL, events bigint NOT NULL)`
const pgUpsert = (t: string): string =>
  `INSERT INTO ${t} AS b (account, total, events) VALUES ($1, $2, 1) ON CONFLICT (account) DO UPDATE SET total = b.total + EXCLUDED.total, events = b.events + 1`
const mysqlTable = (t: string): string => `CREATE TABLE ${t} (account VARCHAR(200) PRIMARY KEY, total BIGINT NOT NULL, events BIGINT NOT NULL) ENGINE=InnoDB`
const mysqlUpsert = (t: string): string =>
  `INSERT INTO ${t} (account, total, events) VALUES (?, ?, 1) ON DUPLICATE KEY UPDATE total = total + VALUES(total), events = events + 1`

/** A SQLite handler's upsert, prepared once per connection (as an application would). */
const preparedOn = (sql: string) => {
  const cache = new WeakMap<SqliteDatabase, SqliteStatement>()
  return (db: SqliteDatabase): SqliteStatement => {
    let s = cache.get(db)
    if (s === undefined) cache.set(db, (s = db.prepare(sql)))
    return s
  }
}

/** The first column of a raw row as a number (a count). */
const firstNumber = (row: unknown): number => Number((row as readonly unknown[] | undefined)?.[0] ?? 0)

/** What a stored event body holds for the read model (the bench's Deposited event, as JSON). */
interface DepositBody {
  readonly id: string
  readonly amount: number
}

// -------------------------------------------------------------------------------------
// catch-up
// -------------------------------------------------------------------------------------

/** aett: `startProjection` with default options, timed until `caughtUp()` and every event in the read model. */
const aettPass =
  (start: (name: string) => RunningProjection, applied: () => Promise<number>, commits: number, hint: () => Promise<string>): Pass =>
  async (round) => {
    const t0 = now()
    const giveUp = t0 + deadlineOf(commits)
    const running = start(`bench-projection-${round}-${randomUUID()}`)
    try {
      orThrow('caughtUp', await running.caughtUp())
      // Caught up with what the horizon let it see: a live projection goes on applying the rest.
      let n = await applied()
      while (n < commits && now() < giveUp) {
        await sleep(5)
        n = await applied()
      }
      const elapsed = now() - t0
      if (n !== commits) throw new Error(`aett's projection applied ${n} events, expected ${commits}, within its deadline${await hint()}`)
      return elapsed
    } finally {
      await running.stop()
    }
  }

export interface CatchupSetup {
  readonly contenders: readonly Contender[]
  readonly stallHint: () => Promise<string>
  readonly close: () => Promise<void>
}

/**
 * SQLite: the store on a file (WAL, synchronous=NORMAL), seeded; aett's read model in the store's file through
 * its connection; the raw loop on a better-sqlite3 connection of its own to the same file.
 */
const sqliteCatchup = async (commits: number, log: (line: string) => void): Promise<CatchupSetup> => {
  const dir = mkdtempSync(join(tmpdir(), `aett-projections-${process.pid}-`))
  const filename = join(dir, 'log.db')
  const store = sqliteStore({ filename, synchronous: 'NORMAL' })
  let raw: Database.Database | undefined
  const close = async (): Promise<void> => {
    raw?.close()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    orThrow('initialize sqlite', await store.initialize())
    const t0 = now()
    await seedSingles(store, commits)
    log(`  projections sqlite: seeded ${commits} commits in ${(now() - t0).toFixed(0)} ms`)
    const db = orThrow('database', await store.database())
    db.exec(sqliteTable('bench_balances_aett'))
    const upsertAett = preparedOn(sqliteUpsert('bench_balances_aett'))
    const aettCount = db.prepare('SELECT coalesce(sum(events), 0) AS n FROM bench_balances_aett').raw(true)
    const aettApplied = async (): Promise<number> => firstNumber(aettCount.get())
    const projectionNamed = (name: string) =>
      sqliteProjection({
        name,
        topics,
        handlers: {
          Deposited: (tx, e) => {
            upsertAett(tx).run(e.id, e.amount)
            return undefined
          },
        },
      })

    const r = new Database(filename)
    raw = r
    r.pragma('journal_mode = WAL')
    r.pragma('synchronous = NORMAL')
    r.exec(sqliteTable('bench_balances_raw'))
    r.exec('CREATE TABLE bench_checkpoint_raw (name TEXT PRIMARY KEY, position INTEGER NOT NULL)')
    const read = r.prepare('SELECT checkpoint, payload FROM aett_commits WHERE checkpoint > ? ORDER BY checkpoint LIMIT ?').raw(true)
    const upsertRaw = r.prepare(sqliteUpsert('bench_balances_raw'))
    const loadCheckpoint = r.prepare('SELECT position FROM bench_checkpoint_raw WHERE name = ?').pluck(true)
    const saveCheckpoint = r.prepare('UPDATE bench_checkpoint_raw SET position = ? WHERE name = ?')
    const rawApplied = r.prepare('SELECT coalesce(sum(events), 0) AS n FROM bench_balances_raw').pluck(true)
    let applyBatch = 0
    const applyRows = r.transaction((rows: readonly (readonly unknown[])[], name: string, last: number) => {
      for (const row of rows) {
        const payload = JSON.parse(String(row[1])) as { readonly events: readonly { readonly body: DepositBody }[] }
        for (const ev of payload.events) {
          upsertRaw.run(ev.body.id, ev.body.amount)
          applyBatch += 1
        }
      }
      saveCheckpoint.run(last, name)
    })
    const rawPass: Pass = async () => {
      const t0 = now()
      const giveUp = t0 + deadlineOf(commits)
      let last = Number(loadCheckpoint.get('bench'))
      let seen = 0
      while (seen < commits && now() < giveUp) {
        const rows = read.all(last, BATCH) as (readonly unknown[])[]
        if (rows.length === 0) {
          await sleep(5)
          continue
        }
        const to = Number((rows[rows.length - 1] as readonly unknown[])[0])
        applyBatch = 0
        // BEGIN IMMEDIATE, as aett's projection transaction.
        applyRows.immediate(rows, 'bench', to)
        seen += applyBatch
        last = to
      }
      const elapsed = now() - t0
      if (seen !== commits) throw new Error(`the raw loop applied ${seen} events, expected ${commits}, within its deadline`)
      return elapsed
    }
    return {
      contenders: [
        {
          key: 'aett',
          reset: async () => void db.exec('DELETE FROM bench_balances_aett'),
          pass: aettPass((name) => orThrow('startProjection', startProjection(store, projectionNamed(name))), aettApplied, commits, async () => ''),
          applied: aettApplied,
        },
        {
          key: 'raw',
          reset: async () => {
            r.exec('DELETE FROM bench_balances_raw')
            r.prepare('INSERT OR REPLACE INTO bench_checkpoint_raw (name, position) VALUES (?, 0)').run('bench')
          },
          pass: rawPass,
          applied: async () => Number(rawApplied.get()),
        },
      ],
      stallHint: async () => '',
      close,
    }
  } catch (e) {
    await close().catch(() => undefined)
    throw e
  }
}

/**
 * PostgreSQL: the store in a schema of its own, seeded; both read models in that schema; the raw loop on a pg
 * client of its own, reading the store's commits table below the gap-free horizon (as Emmett and aett do).
 */
const postgresCatchup = async (commits: number, log: (line: string) => void): Promise<CatchupSetup> => {
  const schema = uniqueName('aett_projections')
  const q = `"${schema}"`
  const store = postgresStore({ connectionString: pgUrl, schema })
  const admin = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000, application_name: 'aett-bench-projections-admin' })
  const raw = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000, application_name: 'aett-bench-projections-raw' })
  admin.on('error', () => undefined)
  raw.on('error', () => undefined)
  let connected = false
  const close = async (): Promise<void> => {
    if (connected) await admin.query(`DROP TABLE IF EXISTS ${q}.bench_balances_aett, ${q}.bench_balances_raw, ${q}.bench_checkpoint_raw`)
    await raw.end().catch(() => undefined)
    await admin.end().catch(() => undefined)
    const dropped = await store.drop()
    await store.close()
    orThrow(`drop schema ${schema}`, dropped)
  }
  const stallHint = async (): Promise<string> => {
    const held = await store.horizonHolder()
    if (held._tag === 'Left') return `; who holds the horizon is unknown: ${held.left.message}`
    return held.right._tag === 'Some' ? describeHolder(held.right.value) : '; no transaction holds the horizon now'
  }
  try {
    orThrow('initialize postgres', await store.initialize())
    await admin.connect()
    await raw.connect()
    connected = true
    const t0 = now()
    await seedSingles(store, commits)
    log(`  projections postgres: seeded ${commits} commits in ${(now() - t0).toFixed(0)} ms`)
    await admin.query(pgTable(`${q}.bench_balances_aett`))
    await admin.query(pgTable(`${q}.bench_balances_raw`))
    await admin.query(`CREATE TABLE ${q}.bench_checkpoint_raw (name text PRIMARY KEY, position bigint NOT NULL)`)
    const applied = (t: string) => async (): Promise<number> => {
      const r = await admin.query<{ n: string | null }>(`SELECT sum(events)::text AS n FROM ${q}.${t}`)
      return Number(r.rows[0]?.n ?? 0)
    }
    const upsertAett = pgUpsert(`${q}.bench_balances_aett`)
    const projectionNamed = (name: string) =>
      postgresProjection({
        name,
        topics,
        handlers: {
          Deposited: async (client, e) => {
            await client.query({ text: upsertAett, values: [e.id, e.amount] })
            return undefined
          },
        },
      })

    // The store's schema version 4: tokens are transaction ids x 256 + ordinal, the horizon scaled alike.
    const read = `SELECT token::text AS token, events FROM ${q}.commits
      WHERE token > $1::bigint AND token < pg_snapshot_xmin(pg_current_snapshot())::text::bigint * 256
      ORDER BY token LIMIT $2`
    const upsertRaw = pgUpsert(`${q}.bench_balances_raw`)
    const save = `UPDATE ${q}.bench_checkpoint_raw SET position = $2::bigint WHERE name = $1`
    const rawPass: Pass = async () => {
      const t0 = now()
      const giveUp = t0 + deadlineOf(commits)
      const stored = await raw.query<{ position: string }>({ text: `SELECT position::text AS position FROM ${q}.bench_checkpoint_raw WHERE name = $1`, values: ['bench'] })
      let last = stored.rows[0]?.position ?? '0'
      let seen = 0
      while (seen < commits && now() < giveUp) {
        const { rows } = await raw.query<{ token: string; events: unknown }>({ text: read, values: [last, BATCH] })
        if (rows.length === 0) {
          await sleep(5)
          continue
        }
        const to = (rows[rows.length - 1] as { token: string }).token
        let applied = 0
        await raw.query('BEGIN')
        try {
          for (const row of rows) {
            const events = (typeof row.events === 'string' ? JSON.parse(row.events) : row.events) as readonly { readonly body: DepositBody }[]
            for (const ev of events) {
              await raw.query({ text: upsertRaw, values: [ev.body.id, ev.body.amount] })
              applied += 1
            }
          }
          await raw.query({ text: save, values: ['bench', to] })
          await raw.query('COMMIT')
        } catch (e) {
          await raw.query('ROLLBACK').catch(() => undefined)
          throw e
        }
        seen += applied
        last = to
      }
      const elapsed = now() - t0
      if (seen !== commits) throw new Error(`the raw loop applied ${seen} events, expected ${commits}, within its deadline${await stallHint()}`)
      return elapsed
    }
    return {
      contenders: [
        {
          key: 'aett',
          reset: async () => void (await admin.query(`TRUNCATE ${q}.bench_balances_aett`)),
          pass: aettPass(
            (name) => orThrow('startProjection', startProjection(store, projectionNamed(name))),
            applied('bench_balances_aett'),
            commits,
            stallHint,
          ),
          applied: applied('bench_balances_aett'),
        },
        {
          key: 'raw',
          reset: async () => {
            await admin.query(`TRUNCATE ${q}.bench_balances_raw`)
            await admin.query({
              text: `INSERT INTO ${q}.bench_checkpoint_raw (name, position) VALUES ($1, 0) ON CONFLICT (name) DO UPDATE SET position = 0`,
              values: ['bench'],
            })
          },
          pass: rawPass,
          applied: applied('bench_balances_raw'),
        },
      ],
      stallHint,
      close,
    }
  } catch (e) {
    await close().catch(() => undefined)
    throw e
  }
}

/** The seeded log and the aett and raw contenders on it (exported for `profileProjection.ts`). */
export const catchupSetup = (id: 'sqlite' | 'postgres', commits: number, log: (line: string) => void): Promise<CatchupSetup> =>
  id === 'sqlite' ? sqliteCatchup(commits, log) : postgresCatchup(commits, log)

/** What `projectionsEmmett.ts` offers, declared without an Emmett type (the kit's typecheck never sees Emmett). */
interface EmmettProjection {
  readonly via: string
  readonly reset: () => Promise<void>
  readonly pass: (round: number, deadlineMs: number) => Promise<number>
  readonly applied: () => Promise<number>
  readonly close: () => Promise<void>
}

interface EmmettProjectionModule {
  readonly openEmmettPgProjection: (adminUrl: string, commits: number, batchSize: number) => Promise<EmmettProjection>
  readonly openEmmettSqliteProjection: (fileName: string, commits: number, batchSize: number) => Promise<EmmettProjection>
}

/** Emmett's projection on the backend, or why it is not measured; never throws. */
const openEmmett = async (id: BackendId, commits: number, log: (line: string) => void): Promise<EmmettProjection | { readonly missing: string }> => {
  let module: EmmettProjectionModule
  try {
    module = (await import(new URL('./projectionsEmmett.js', import.meta.url).href)) as EmmettProjectionModule
  } catch (e) {
    const code = (e as { code?: unknown }).code
    const why = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' ? EMMETT_MISSING : `Emmett failed to load: ${message(e)}`
    log(`  projections ${id}: ${why}`)
    return { missing: why }
  }
  try {
    const t0 = now()
    let opened: EmmettProjection
    if (id === 'postgres') opened = await module.openEmmettPgProjection(pgUrl, commits, BATCH)
    else {
      const dir = mkdtempSync(join(tmpdir(), `aett-projections-${process.pid}-emmett-`))
      const sqlite = await module.openEmmettSqliteProjection(join(dir, 'emmett.db'), commits, BATCH).catch((e: unknown) => {
        rmSync(dir, { recursive: true, force: true })
        throw e
      })
      opened = { ...sqlite, close: async () => sqlite.close().finally(() => rmSync(dir, { recursive: true, force: true })) }
    }
    log(`  projections ${id}: seeded Emmett with ${commits} messages in ${(now() - t0).toFixed(0)} ms`)
    return opened
  } catch (e) {
    log(`  projections ${id}: Emmett FAILED to open ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
    return { missing: `Emmett failed to open: ${message(e)}` }
  }
}

const timedOf = (millis: readonly number[], failed: string | undefined): Timed => ({ millis, ...(failed === undefined ? {} : { failed }) })

/** Seeds the backend's log, then times the contenders in interleaved, rotated rounds, each from an empty read model. */
export const projectionCatchup = async (b: Backend, options: { readonly commits: number; readonly rounds: number; readonly warmup: number; readonly log: (line: string) => void }): Promise<ProjectionCatchupResult> => {
  const base = { backend: b.id, title: b.title, commits: options.commits, batchSize: BATCH }
  const empty = { aett: { millis: [] }, raw: { millis: [] } }
  const skipped = await b.probe()
  if (skipped !== undefined) {
    options.log(`  projections ${b.id}: SKIPPED: ${skipped}`)
    return { ...base, ...empty, emmett: { missing: 'skipped' }, skipped, notes: [] }
  }
  let setup: CatchupSetup | undefined
  let emmett: EmmettProjection | { readonly missing: string } = { missing: 'not opened' }
  try {
    setup = await catchupSetup(b.id === 'sqlite' ? 'sqlite' : 'postgres', options.commits, options.log)
    emmett = await openEmmett(b.id, options.commits, options.log)
    const hint = setup.stallHint
    const contenders: Contender[] = [
      ...setup.contenders,
      ...('pass' in emmett
        ? [
            {
              key: 'emmett' as const,
              reset: emmett.reset,
              applied: emmett.applied,
              pass: (async (round) => {
                try {
                  return await (emmett as EmmettProjection).pass(round, deadlineOf(options.commits))
                } catch (e) {
                  // Emmett waits for the horizon too: say who held it.
                  throw new Error(`${message(e)}${await hint()}`)
                }
              }) satisfies Pass,
            },
          ]
        : []),
    ]
    const millis = { aett: [] as number[], raw: [] as number[], emmett: [] as number[] }
    const failed: Partial<Record<Contender['key'], string>> = {}
    for (let round = 0; round < options.warmup + options.rounds; round++) {
      for (const c of rotate(contenders, round)) {
        if (failed[c.key] !== undefined) continue
        try {
          await c.reset()
          const ms = await c.pass(round)
          // Every event applied once: the read model's count of events is the log's (checked untimed).
          const n = await c.applied()
          if (n !== options.commits) throw new Error(`the read model holds ${n} events after the pass, expected ${options.commits}`)
          if (round >= options.warmup) millis[c.key].push(ms)
          options.log(`  projections ${b.id}: round ${round + 1} ${c.key} ${ms.toFixed(0)} ms`)
        } catch (e) {
          failed[c.key] = `round ${round + 1}: ${message(e)}`
          options.log(`  projections ${b.id}: ${c.key} FAILED ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
        }
      }
    }
    return {
      ...base,
      aett: timedOf(millis.aett, failed.aett),
      raw: timedOf(millis.raw, failed.raw),
      emmett: 'pass' in emmett ? timedOf(millis.emmett, failed.emmett) : emmett,
      notes: [b.describe(), ...('via' in emmett ? [`Emmett: ${emmett.via}; \`pulling: { batchSize: ${BATCH}, pullingFrequencyInMs: 0 }\` (its default sleeps 50 ms between batches even while behind).`] : [])],
    }
  } catch (e) {
    options.log(`  projections ${b.id}: FAILED ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
    return { ...base, ...empty, emmett: { missing: 'failed' }, error: message(e), notes: [] }
  } finally {
    if ('close' in emmett) await emmett.close().catch((e: unknown) => options.log(`  projections ${b.id}: Emmett cleanup failed: ${message(e)}`))
    await setup?.close().catch((e: unknown) => options.log(`  projections ${b.id}: cleanup failed: ${message(e)}`))
  }
}

// -------------------------------------------------------------------------------------
// inline cost
// -------------------------------------------------------------------------------------

export interface InlineSetup {
  readonly store: Persistence
  /** Registers the inline upsert on the store object: the call that unregisters it, or why the store has none. */
  readonly register: () => Promise<E.Either<string, () => void>>
  /** Events the inline read model holds. */
  readonly applied: () => Promise<number>
  readonly close: () => Promise<void>
}

const TABLE_INLINE = 'bench_balances_inline'

const registered = async (r: Promise<E.Either<{ readonly message: string }, () => void>>): Promise<E.Either<string, () => void>> => {
  const answer = await r
  return E.isLeft(answer) ? E.left(`${(answer.left as { readonly _tag?: string })._tag ?? 'Left'}: ${answer.left.message}`) : E.right(answer.right)
}

const sqliteInline = async (): Promise<InlineSetup> => {
  const dir = mkdtempSync(join(tmpdir(), `aett-projections-${process.pid}-inline-`))
  const store = sqliteStore({ filename: join(dir, 'log.db'), synchronous: 'NORMAL' })
  const close = async (): Promise<void> => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    orThrow('initialize sqlite', await store.initialize())
    const db = orThrow('database', await store.database())
    db.exec(sqliteTable(TABLE_INLINE))
    const upsert = preparedOn(sqliteUpsert(TABLE_INLINE))
    const count = db.prepare(`SELECT coalesce(sum(events), 0) FROM ${TABLE_INLINE}`).raw(true)
    const projection = sqliteProjection({
      name: 'bench-inline',
      topics,
      handlers: {
        Deposited: (tx, e) => {
          upsert(tx).run(e.id, e.amount)
          return undefined
        },
      },
    })
    return { store, register: () => registered(inlineProjection(store, projection)), applied: async () => firstNumber(count.get()), close }
  } catch (e) {
    await close().catch(() => undefined)
    throw e
  }
}

const postgresInline = async (): Promise<InlineSetup> => {
  const schema = uniqueName('aett_projections')
  const q = `"${schema}"`
  const store = postgresStore({ connectionString: pgUrl, schema })
  const admin = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 })
  admin.on('error', () => undefined)
  let connected = false
  const close = async (): Promise<void> => {
    if (connected) await admin.query(`DROP TABLE IF EXISTS ${q}.${TABLE_INLINE}`)
    await admin.end().catch(() => undefined)
    const dropped = await store.drop()
    await store.close()
    orThrow(`drop schema ${schema}`, dropped)
  }
  try {
    orThrow('initialize postgres', await store.initialize())
    await admin.connect()
    connected = true
    await admin.query(pgTable(`${q}.${TABLE_INLINE}`))
    const upsert = pgUpsert(`${q}.${TABLE_INLINE}`)
    const projection = postgresProjection({
      name: 'bench-inline',
      topics,
      handlers: {
        Deposited: async (client, e) => {
          await client.query({ text: upsert, values: [e.id, e.amount] })
          return undefined
        },
      },
    })
    return {
      store,
      register: () => registered(inlineProjection(store, projection)),
      applied: async () => {
        const r = await admin.query<{ n: string | null }>(`SELECT sum(events)::text AS n FROM ${q}.${TABLE_INLINE}`)
        return Number(r.rows[0]?.n ?? 0)
      },
      close,
    }
  } catch (e) {
    await close().catch(() => undefined)
    throw e
  }
}

const mysqlInline = async (): Promise<InlineSetup> => {
  const tablePrefix = uniqueName('ax')
  const table = `\`${tablePrefix}_${TABLE_INLINE}\``
  const store = mysqlStore({ uri: mysqlUrl, tablePrefix })
  let admin: mysql.Connection | undefined
  const close = async (): Promise<void> => {
    await admin?.query(`DROP TABLE IF EXISTS ${table}`)
    await admin?.end().catch(() => undefined)
    const dropped = await store.drop()
    await store.close()
    orThrow(`drop tables ${tablePrefix}_*`, dropped)
  }
  try {
    orThrow('initialize mysql', await store.initialize())
    admin = await mysql.createConnection({ uri: mysqlUrl, connectTimeout: 3000 })
    await admin.query(mysqlTable(table))
    const upsert = mysqlUpsert(table)
    const projection = mysqlProjection({
      name: 'bench-inline',
      topics,
      handlers: {
        Deposited: async (conn, e) => {
          await conn.execute(upsert, [e.id, e.amount])
          return undefined
        },
      },
    })
    const a = admin
    return {
      store,
      register: () => registered(inlineProjection(store, projection)),
      applied: async () => {
        const [rows] = await a.query(`SELECT CAST(coalesce(sum(events), 0) AS CHAR) AS n FROM ${table}`)
        return Number((rows as { n: string }[])[0]?.n ?? 0)
      },
      close,
    }
  } catch (e) {
    await close().catch(() => undefined)
    throw e
  }
}

/** A store with the inline upsert ready to register (exported for `profileProjection.ts`). */
export const inlineSetup = (id: BackendId): Promise<InlineSetup> => (id === 'sqlite' ? sqliteInline() : id === 'postgres' ? postgresInline() : mysqlInline())

/**
 * One store object, timed in interleaved, rotated rounds: `appends` single-event appends one after the other,
 * with the inline upsert registered (inline) or not (plain); µs per append. Registering and unregistering are
 * untimed; the read model's count is checked against the inline appends at the end.
 */
export const inlineCost = async (
  b: Backend,
  options: { readonly appends: number; readonly streams: number; readonly rounds: number; readonly warmup: number; readonly log: (line: string) => void },
): Promise<InlineCostResult> => {
  const base = { backend: b.id, title: b.title, appends: options.appends }
  const empty = { plain: { millis: [] }, inline: { millis: [] } }
  const skipped = await b.probe()
  if (skipped !== undefined) {
    options.log(`  inline ${b.id}: SKIPPED: ${skipped}`)
    return { ...base, ...empty, skipped, notes: [] }
  }
  let setup: InlineSetup | undefined
  try {
    setup = await inlineSetup(b.id)
    const s = setup
    const probe = await s.register()
    if (E.isLeft(probe)) {
      options.log(`  inline ${b.id}: not available on this build: ${probe.left}`)
      return { ...base, ...empty, unavailable: `not available on this build (\`inlineProjection\` answered ${probe.left})`, notes: [b.describe()] }
    }
    probe.right()
    let inlineAppends = 0
    const appendRound = async (key: 'plain' | 'inline', round: number): Promise<number> => {
      let unregister: (() => void) | undefined
      if (key === 'inline') unregister = orThrow('inlineProjection', await s.register())
      try {
        const t0 = now()
        for (let i = 0; i < options.appends; i++) {
          const streamId = `${key}-${round}-${i % options.streams}`
          orThrow('append', await s.store.commit(singleEvent(streamId, Math.floor(i / options.streams) + 1)))
          if (key === 'inline') inlineAppends += 1
        }
        return ((now() - t0) * 1000) / options.appends
      } finally {
        unregister?.()
      }
    }
    const micros = { plain: [] as number[], inline: [] as number[] }
    const failed: Partial<Record<'plain' | 'inline', string>> = {}
    const keys = ['plain', 'inline'] as const
    for (let round = 0; round < options.warmup + options.rounds; round++) {
      for (const key of rotate(keys, round)) {
        if (failed[key] !== undefined) continue
        try {
          const us = await appendRound(key, round)
          if (round >= options.warmup) micros[key].push(us)
        } catch (e) {
          failed[key] = `round ${round + 1}: ${message(e)}`
          options.log(`  inline ${b.id}: ${key} FAILED ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
        }
      }
    }
    const n = await s.applied()
    if (n !== inlineAppends) throw new Error(`the inline read model holds ${n} events, expected ${inlineAppends} (one per append made with it registered)`)
    options.log(`  inline ${b.id}: ${inlineAppends} inline appends, all in the read model`)
    return { ...base, plain: timedOf(micros.plain, failed.plain), inline: timedOf(micros.inline, failed.inline), notes: [b.describe()] }
  } catch (e) {
    options.log(`  inline ${b.id}: FAILED ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
    return { ...base, ...empty, error: message(e), notes: [] }
  } finally {
    await setup?.close().catch((e: unknown) => options.log(`  inline ${b.id}: cleanup failed: ${message(e)}`))
  }
}

// -------------------------------------------------------------------------------------
// run
// -------------------------------------------------------------------------------------

/** Runs the catch-up, then the inline-cost run, backend by backend (never in parallel). */
export const runProjections = async (o: ProjectionsOptions): Promise<ProjectionsResult> => {
  const chosen = o.suites ?? inlineBackends
  const catchup: ProjectionCatchupResult[] = []
  const inline: InlineCostResult[] = []
  for (const id of chosen) {
    const b = backendOf(id)
    try {
      o.log(`# ${b.title}`)
      if (catchupBackends.includes(id)) catchup.push(await projectionCatchup(b, { commits: o.commits ?? o.sizes.commits, rounds: o.rounds, warmup: o.warmup, log: o.log }))
      inline.push(await inlineCost(b, { appends: o.sizes.appends, streams: o.sizes.appendStreams, rounds: o.inlineRounds, warmup: o.warmup, log: o.log }))
    } finally {
      await b.dispose()
    }
  }
  return { catchup, inline }
}

export { catchupBackends, inlineBackends, projectionSizes } from './projectionTypes.js'
export type { InlineCostResult, ProjectionCatchupResult, ProjectionSizes, ProjectionsResult } from './projectionTypes.js'
