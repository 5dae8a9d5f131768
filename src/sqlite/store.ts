import * as E from 'fp-ts/lib/Either.js'
import { defineStore, type StoreShell } from '../eventstore/adapter/defineStore.js'
import type { StorageError } from '../eventstore/errors.js'
import type { Persistence } from '../eventstore/ports.js'
import type { Subscribable } from '../eventstore/subscriptionStore.js'
import { commit, get, getAllTo, getFromTo, getTo } from './commitStore.js'
import { resolveConfig, type SqliteDatabase, type SqliteStoreOptions } from './config.js'
import { closeConnection, openConnection, type Connection } from './connection.js'
import { createContext, forgetStatements, type SqliteContext } from './context.js'
import { readLatest } from './loads.js'
import { deleteStream, drop, initialize, migrate, purge } from './management.js'
import type { MigrationReport } from './schema.js'
import { addSnapshot, getSnapshot, listStreams, listTenants, streamsToSnapshot } from './snapshotStore.js'
import { sqliteSubscriptions } from './subscriptionStore.js'
import { sqliteProjections } from './projections.js'
import { stamps, type Stamps } from './stamps.js'
import type { CommitAttempt } from '../eventstore/Commit.js'
import type { Snapshot } from '../eventstore/Snapshot.js'
import type { Projectable } from '../eventstore/projectionStore.js'

/**
 * The event store on one SQLite connection: a `Persistence` that keeps subscriptions (`subscriptions`: leases,
 * checkpoints, parked commits, in the same file), and two calls of its own.
 */
export interface SqliteStore extends Persistence, Subscribable, Projectable<SqliteDatabase, 'sync'> {
  /**
   * The connection, for what the store does not offer (backups, inspection): opens the file and applies the
   * pragmas if that has not happened yet. A `StorageError` when the options are bad, the file cannot be
   * opened, or the store is closed.
   */
  readonly database: () => Promise<E.Either<StorageError, SqliteDatabase>>
  /** `initialize`, reporting which schema versions it applied. */
  readonly migrate: () => Promise<E.Either<StorageError, MigrationReport>>
}

/**
 * The event store on SQLite through better-sqlite3. Returns at once and never throws: a bad option is answered
 * by `initialize()` and by every call. The file (or `:memory:`) is opened, and the driver loaded, by the first
 * call that needs it; call `initialize()` to create or migrate the schema. Every call runs synchronously inside
 * the driver; the asynchronous interface only wraps the results, and busy waits pause between retries.
 */
export const sqliteStore = (options: SqliteStoreOptions): SqliteStore => {
  const config = resolveConfig(options)
  // Stamps only for a file the store opens itself: nobody else writes on its connection (see stamps.ts).
  const own = E.isRight(config) && 'filename' in config.right.source ? stamps() : undefined
  const shell: StoreShell<SqliteContext> = defineStore({
    name: E.isRight(config) ? config.right.name : 'sqlite',
    config,
    connect: async (c) =>
      E.map((connection: Connection) => {
        const ctx = createContext(c, connection)
        own?.attach(ctx.db)
        return ctx
      })(await openConnection(c)),
    close: (ctx) => {
      ctx.closed = true
      own?.attach(undefined)
      forgetStatements(ctx)
      closeConnection(ctx.connection)
    },
    ops: {
      ...{ get, getTo, getAllTo, getFromTo, getSnapshot, streamsToSnapshot, listStreams, listTenants, readLatest },
      ...(own === undefined ? { commit, addSnapshot, initialize, drop, purge, deleteStream } : countedWrites(own)),
    },
  })
  return {
    ...shell,
    ...(own === undefined ? {} : { changeStamp: own.changeStamp }),
    database: () =>
      shell.run('database', (ctx) => {
        // Whatever is written on the connection from now on is out of the store's sight.
        own?.disable()
        return E.right(ctx.db)
      }),
    migrate: () => shell.run('initialize', own === undefined ? migrate : own.storeWrite(migrate)),
    subscriptions: sqliteSubscriptions(shell),
    projections: sqliteProjections(shell),
  }
}

/**
 * The store's writes, counted for its stamps. Subscriptions and projections write on the connection too, but
 * never to commits or snapshots, so they do not count.
 */
const countedWrites = (own: Stamps) => ({
  commit: own.streamWrite((_: SqliteContext, a: CommitAttempt) => [a.tenantId, a.streamId] as const, commit),
  addSnapshot: own.streamWrite((_: SqliteContext, s: Snapshot) => [s.tenantId, s.streamId] as const, addSnapshot),
  deleteStream: own.streamWrite((_: SqliteContext, tenantId: string, streamId: string) => [tenantId, streamId] as const, deleteStream),
  initialize: own.storeWrite(initialize),
  drop: own.storeWrite(drop),
  purge: own.storeWrite(purge),
})

/**
 * @deprecated since 0.2: use `sqliteStore(options)`, which returns the store at once and opens the file on
 * first use. Kept for one release: opens the file now and answers a `StorageError` if it cannot.
 */
export const openSqliteStore = async (options: SqliteStoreOptions): Promise<E.Either<StorageError, SqliteStore>> => {
  const store = sqliteStore(options)
  return E.map(() => store)(await store.database())
}
