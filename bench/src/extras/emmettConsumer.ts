/**
 * Emmett 0.42's PostgreSQL consumer as a catch-up baseline. Needs bench/node_modules: loaded only through a
 * computed import (see `openEmmettConsumer` in catchup.ts), so that the kit's test run works without it.
 */
import { randomUUID } from 'node:crypto'
import type { EventStore } from '@event-driven-io/emmett'
import { getPostgreSQLEventStore, postgreSQLEventStoreConsumer } from '@event-driven-io/emmett-postgresql'
import { getSQLiteEventStore, sqliteConnection } from '@event-driven-io/emmett-sqlite'
import pg from 'pg'
import { depositData } from '../domain.js'
import { uniqueName } from '../suites/common.js'

export const withDatabase = (url: string, database: string): string => {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

export interface EmmettCatchup {
  /** Emmett version line for the notes. */
  readonly via: string
  /**
   * One pass: a fresh reactor from the beginning, until it has handled every message; ms. Fails once `deadlineMs`
   * passed (Emmett's consumer waits without end for messages a transaction elsewhere holds back).
   */
  readonly pass: (round: number, deadlineMs: number) => Promise<number>
  readonly close: () => Promise<void>
}

/** Waits for a consumer's `start()`, or fails once `deadlineMs` passed (the caller then stops the consumer). */
export const withinDeadline = async (started: Promise<unknown>, deadlineMs: number, seen: () => number, commits: number): Promise<void> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), deadlineMs)))
  const done = started.then(() => 'done' as const)
  // A start that fails after the deadline must not become an unhandled rejection (the pass already failed).
  done.catch(() => undefined)
  try {
    const outcome = await Promise.race([done, late])
    if (outcome === 'late') throw new Error(`Emmett's consumer handled ${seen()} of ${commits} messages within ${deadlineMs} ms`)
  } finally {
    clearTimeout(timer)
  }
}

/**
 * One timed pass of a consumer that `stopAfter` stops at the last of `commits`: waits for it within the deadline,
 * answers the ms since `t0`, fails when it handled another number, and always ends the consumer.
 */
export const timedPass = async (
  start: () => Promise<unknown>,
  end: () => Promise<unknown>,
  o: { readonly t0: number; readonly deadlineMs: number; readonly seen: () => number; readonly commits: number; readonly what: string; readonly unit: string },
): Promise<number> => {
  try {
    await withinDeadline(start(), o.deadlineMs, o.seen, o.commits)
    const elapsed = performance.now() - o.t0
    if (o.seen() !== o.commits) throw new Error(`${o.what} handled ${o.seen()} ${o.unit}, expected ${o.commits}`)
    return elapsed
  } finally {
    await end()
  }
}

/** `commits` single-event appends by 8 concurrent writers on streams of their own, like aett's seeded log. */
export const seed = async (store: EventStore, commits: number): Promise<void> => {
  const writers = 8
  const per = Math.ceil(commits / writers)
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const n = Math.max(0, Math.min(per, commits - w * per))
      for (let i = 0; i < n; i++) {
        const streamId = `seed-${w}-${Math.floor(i / 100)}`
        const version = (i % 100) + 1
        await store.appendToStream(streamId, [{ type: 'Deposited', data: depositData(streamId, version) }], {
          expectedStreamVersion: BigInt(version - 1),
        })
      }
    }),
  )
}

/**
 * The same events on the same streams (100 per stream), appended by ONE writer, a stream's 100 events per append.
 * Not 8 concurrent writers of single-event appends as for aett: Emmett 0.42's PostgreSQL reader orders a batch by
 * transaction id, then position, and resumes after the batch's last position, and its processor skips a message
 * at or below the highest position it checkpointed; when concurrent writers' transaction ids and positions
 * interleave, it never sees some events (a trial on such a log: 9,996 of 10,000), so its pass could never end.
 */
export const seedOneWriter = async (store: EventStore, commits: number): Promise<void> => {
  const writers = 8
  const per = Math.ceil(commits / writers)
  for (let w = 0; w < writers; w++) {
    const n = Math.max(0, Math.min(per, commits - w * per))
    for (let from = 0; from < n; from += 100) {
      const streamId = `seed-${w}-${Math.floor(from / 100)}`
      const events = Array.from({ length: Math.min(100, n - from) }, (_, i) => ({ type: 'Deposited' as const, data: depositData(streamId, i + 1) }))
      await store.appendToStream(streamId, events, { expectedStreamVersion: 0n })
    }
  }
}

/**
 * A fresh database (Emmett's tables are unqualified), seeded by one writer with the messages of aett's log (see
 * `seedOneWriter`: Emmett's PostgreSQL reader cannot finish a log of concurrent writers).
 */
export const openEmmettCatchup = async (adminUrl: string, commits: number, batchSize: number): Promise<EmmettCatchup> => {
  const database = uniqueName('aett_extras_emmett')
  const url = withDatabase(adminUrl, database)
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 })
  admin.on('error', () => undefined)
  await admin.connect()
  await admin.query(`CREATE DATABASE "${database}"`)
  const store = getPostgreSQLEventStore(url, { schema: { autoMigration: 'CreateOrUpdate' } })
  const close = async (): Promise<void> => {
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
    // One writer: on a log of 8 concurrent writers Emmett's consumer never saw some messages (198 of 200 in a CI
    // run, where its pass then waited until the test's timeout), so that its pass could not end.
    await seedOneWriter(store, commits)
  } catch (e) {
    await close()
    throw e
  }
  return {
    via: '`@event-driven-io/emmett-postgresql` 0.42.0 `postgreSQLEventStoreConsumer` with one `reactor` (`eachMessage`, `startFrom: \'BEGINNING\'`, stopped by `stopAfter` at the last message; it takes a processor lock and stores its checkpoint per message). Its store holds the same messages on the same streams, appended by one writer, a stream\'s 100 events per append: on a log of 8 concurrent writers\' single-event appends (as aett\'s) its reader never saw some messages (198 of 200 in a CI run), so its pass could not end',
    pass: async (round, deadlineMs) => {
      let seen = 0
      const t0 = performance.now()
      // Not `stopWhen: { noMessagesLeft: true }`: with it, Emmett stopped a few messages short of the end of a
      // log written by concurrent writers (1,997 of 2,000). The reactor's `stopAfter` stops it at the last one.
      const consumer = postgreSQLEventStoreConsumer({
        connectionString: url,
        // Emmett sleeps `pullingFrequencyInMs` (50 ms by default) between batches even while messages are left:
        // 0 takes that sleep out, so that the column measures its reads and checkpoints, not its timer.
        pulling: { batchSize, pullingFrequencyInMs: 0 },
      })
      consumer.reactor({
        processorId: `extras-${round}-${randomUUID()}`,
        startFrom: 'BEGINNING',
        // Emmett 0.42's reactor accepts `eachBatch` in its types but only ever calls `eachMessage`.
        eachMessage: async () => {
          seen += 1
        },
        stopAfter: () => seen >= commits,
      })
      return timedPass(() => consumer.start(), () => consumer.close(), { t0, deadlineMs, seen: () => seen, commits, what: `Emmett's consumer`, unit: 'messages' })
    },
    close,
  }
}

/**
 * An Emmett SQLite store on a file of its own, on one connection with WAL + synchronous=NORMAL, migrated and seeded
 * with `commits` commits; `prepare` runs after seeding. The connection is closed when any step fails.
 */
export const seededEmmettSqlite = async (fileName: string, commits: number, prepare?: (connection: ReturnType<typeof sqliteConnection>) => Promise<unknown>) => {
  const connection = sqliteConnection({ fileName })
  try {
    await connection.command('PRAGMA journal_mode = WAL')
    await connection.command('PRAGMA synchronous = NORMAL')
    const store = getSQLiteEventStore({ fileName, connectionOptions: { singleton: true, connection }, schema: { autoMigration: 'CreateOrUpdate' } })
    await store.schema.migrate()
    await seed(store, commits)
    await prepare?.(connection)
    return { connection, store }
  } catch (e) {
    connection.close()
    throw e
  }
}

/**
 * Emmett on SQLite (node-sqlite3) on a file of its own, handed one connection with WAL + synchronous=NORMAL (as
 * the main bench does). Its consumer has no "stop when caught up": the processor's `stopAfter` stops it at the
 * `commits`-th message.
 */
export const openEmmettSqliteCatchup = async (fileName: string, commits: number, batchSize: number): Promise<EmmettCatchup> => {
  const { connection, store } = await seededEmmettSqlite(fileName, commits)
  return {
    via: '`@event-driven-io/emmett-sqlite` 0.42.4 `store.consumer()` with one `processor` (`eachMessage`, `startFrom: \'BEGINNING\'`, stopped by `stopAfter` at the last message; it stores its checkpoint per message, in one transaction per batch)',
    pass: async (round, deadlineMs) => {
      let seen = 0
      const t0 = performance.now()
      const consumer = store.consumer({ pulling: { batchSize, pullingFrequencyInMs: 0 } })
      consumer.processor({
        processorId: `extras-${round}-${randomUUID()}`,
        startFrom: 'BEGINNING',
        eachMessage: async () => {
          seen += 1
        },
        stopAfter: () => seen >= commits,
      })
      return timedPass(() => consumer.start(), () => consumer.stop(), { t0, deadlineMs, seen: () => seen, commits, what: `Emmett's consumer`, unit: 'messages' })
    },
    close: async () => {
      connection.close()
    },
  }
}
