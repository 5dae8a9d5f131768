/**
 * Emmett 0.42's projections of the bench's balances read model, as the projection catch-up's baseline. Needs
 * bench/node_modules: loaded only through a computed import (see `openEmmett` in projections.ts), so that the
 * kit's typecheck and test run work without it.
 */
import { randomUUID } from 'node:crypto'
import type { Event } from '@event-driven-io/emmett'
import { getPostgreSQLEventStore, postgreSQLEventStoreConsumer, postgreSQLProjection } from '@event-driven-io/emmett-postgresql'
import { sqliteProjection } from '@event-driven-io/emmett-sqlite'
import pg from 'pg'
import { uniqueName } from '../suites/common.js'
import { depositData as deposit } from '../domain.js'
import { seededEmmettSqlite, seedOneWriter, timedPass, withDatabase } from './emmettConsumer.js'

type DepositedEvent = Event<'Deposited', ReturnType<typeof deposit>>

export interface EmmettProjection {
  /** What Emmett runs, for the notes. */
  readonly via: string
  /** Empties the read model and its checkpoints' effect (a fresh processor per pass); untimed. */
  readonly reset: () => Promise<void>
  /** One pass from the beginning until the read model holds every event; ms. Fails once `deadlineMs` passed. */
  readonly pass: (round: number, deadlineMs: number) => Promise<number>
  /** Events the read model holds (the sum of its `events` column), for the check after a pass. */
  readonly applied: () => Promise<number>
  readonly close: () => Promise<void>
}

/** The read model's table and its upsert: one row per account, the same as aett's and the raw loop's. */
const TABLE = 'bench_balances_emmett'
const pgUpsert = `INSERT INTO ${TABLE} AS b (account, total, events) VALUES ($1, $2, 1)
  ON CONFLICT (account) DO UPDATE SET total = b.total + EXCLUDED.total, events = b.events + 1`
const sqliteUpsert = `INSERT INTO ${TABLE} (account, total, events) VALUES (?, ?, 1)
  ON CONFLICT (account) DO UPDATE SET total = total + excluded.total, events = events + 1`

/** A fresh database (Emmett's tables are unqualified), seeded with `commits` single-event appends like aett's log. */
export const openEmmettPgProjection = async (adminUrl: string, commits: number, batchSize: number): Promise<EmmettProjection> => {
  const database = uniqueName('aett_proj_emmett')
  const url = withDatabase(adminUrl, database)
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 })
  admin.on('error', () => undefined)
  await admin.connect()
  await admin.query(`CREATE DATABASE "${database}"`)
  const store = getPostgreSQLEventStore(url, { schema: { autoMigration: 'CreateOrUpdate' } })
  const reader = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  reader.on('error', () => undefined)
  const close = async (): Promise<void> => {
    await reader.end().catch(() => undefined)
    await store.close().catch(() => undefined)
    // Emmett's pools close their sockets lazily; dropping the database under one would crash the process.
    for (let i = 0; i < 50; i++) {
      const left = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [database])
      if (left.rows[0]?.n === 0) break
      await new Promise((r) => setTimeout(r, 100))
    }
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
    await admin.end()
  }
  try {
    await store.schema.migrate()
    await seedOneWriter(store, commits)
    await reader.connect()
    await reader.query(`CREATE TABLE ${TABLE} (account text PRIMARY KEY, total bigint NOT NULL, events bigint NOT NULL)`)
  } catch (e) {
    await close()
    throw e
  }
  return {
    via:
      '`@event-driven-io/emmett-postgresql` 0.42.0 `postgreSQLEventStoreConsumer` with one `projector` of a `postgreSQLProjection` ' +
      '(`canHandle: [\'Deposited\']`, `handle` running the same parameterized upsert per event on the transaction\'s pg client, `connection.client`), ' +
      '`startFrom: \'BEGINNING\'`, stopped by `stopAfter` at the last event; a fresh processor id per pass. Emmett runs each pulled batch in one ' +
      'transaction, calling `handle` once per event and storing its checkpoint per event inside it, after taking its processor lock. ' +
      'Its store holds the same events on the same streams, but appended by one writer, a stream\'s 100 events per append: on a log of 8 concurrent ' +
      'writers\' single-event appends (as aett\'s), Emmett 0.42\'s PostgreSQL reader (a batch ordered by transaction id, then position, resumed ' +
      'after its last position; a message at or below the highest checkpointed position skipped) never saw some events (9,996 of 10,000 in a trial), ' +
      'so its pass could not end',
    reset: async () => {
      await reader.query(`TRUNCATE ${TABLE}`)
    },
    pass: async (round, deadlineMs) => {
      let seen = 0
      const id = `proj-${round}-${randomUUID()}`
      const t0 = performance.now()
      const consumer = postgreSQLEventStoreConsumer({
        connectionString: url,
        // Its default sleeps 50 ms between batches even while behind; 0 measures its reads and writes.
        pulling: { batchSize, pullingFrequencyInMs: 0 },
      })
      consumer.projector<DepositedEvent>({
        processorId: id,
        startFrom: 'BEGINNING',
        projection: postgreSQLProjection<DepositedEvent>({
          name: id,
          canHandle: ['Deposited'],
          handle: async (events, context) => {
            for (const e of events) {
              await context.connection.client.query(pgUpsert, [e.data.id, e.data.amount])
              seen += 1
            }
          },
        }),
        stopAfter: () => seen >= commits,
      })
      return timedPass(() => consumer.start(), () => consumer.close(), { t0, deadlineMs, seen: () => seen, commits, what: `Emmett's projection`, unit: 'events' })
    },
    applied: async () => {
      const r = await reader.query<{ n: string | null }>(`SELECT sum(events)::text AS n FROM ${TABLE}`)
      return Number(r.rows[0]?.n ?? 0)
    },
    close,
  }
}

/**
 * Emmett on SQLite (node-sqlite3) on a file of its own, handed one connection with WAL + synchronous=NORMAL (as
 * the other extras do). Its consumer has no "stop when caught up": the processor's `stopAfter` stops it.
 */
export const openEmmettSqliteProjection = async (fileName: string, commits: number, batchSize: number): Promise<EmmettProjection> => {
  const { connection, store } = await seededEmmettSqlite(fileName, commits, (c) =>
    c.command(`CREATE TABLE ${TABLE} (account TEXT PRIMARY KEY, total INTEGER NOT NULL, events INTEGER NOT NULL)`),
  )
  return {
    via:
      '`@event-driven-io/emmett-sqlite` 0.42.4 `store.consumer()` with one `processor` of a `sqliteProjection` (`canHandle: [\'Deposited\']`, ' +
      '`handle` running the same parameterized upsert per event through its `connection.command`), `startFrom: \'BEGINNING\'`, stopped by ' +
      '`stopAfter` at the last event; a fresh processor id per pass. Emmett runs each pulled batch in one transaction and stores its checkpoint per event inside it. Its store is seeded like aett\'s (8 concurrent writers of single-event appends)',
    reset: async () => {
      await connection.command(`DELETE FROM ${TABLE}`)
    },
    pass: async (round, deadlineMs) => {
      let seen = 0
      const id = `proj-${round}-${randomUUID()}`
      const t0 = performance.now()
      const consumer = store.consumer<DepositedEvent>({ pulling: { batchSize, pullingFrequencyInMs: 0 } })
      consumer.processor<DepositedEvent>({
        processorId: id,
        startFrom: 'BEGINNING',
        projection: sqliteProjection<DepositedEvent>({
          name: id,
          canHandle: ['Deposited'],
          handle: async (events, context) => {
            for (const e of events) {
              await context.connection.command(sqliteUpsert, [e.data.id, e.data.amount])
              seen += 1
            }
          },
        }),
        stopAfter: () => seen >= commits,
      })
      return timedPass(() => consumer.start(), () => consumer.stop(), { t0, deadlineMs, seen: () => seen, commits, what: `Emmett's projection`, unit: 'events' })
    },
    applied: async () => {
      const row = await connection.querySingle<{ n: number | null }>(`SELECT sum(events) AS n FROM ${TABLE}`)
      return Number(row?.n ?? 0)
    },
    close: async () => {
      connection.close()
    },
  }
}
