import * as E from 'fp-ts/lib/Either.js'
import type * as O from 'fp-ts/lib/Option.js'
import type { Commit, CommitAttempt } from '../eventstore/Commit.js'
import { storageError, type CommitError, type StorageError } from '../eventstore/errors.js'
import type { Persistence, RevisionRange } from '../eventstore/ports.js'
import type { Reads } from '../eventstore/reads.js'
import type { Snapshot, StreamHead } from '../eventstore/Snapshot.js'
import * as commits from './commitStore.js'
import { resolveConfig, type SqliteConfig, type SqliteDatabase, type SqliteStoreOptions } from './config.js'
import { retrying, type RetryPolicy } from './errors.js'
import { dropStatements, names, runMigrations, type MigrationReport, type Names } from './schema.js'
import * as snapshots from './snapshotStore.js'
import { prepareStatements, type Statements } from './statements.js'

/**
 * The event store on one SQLite connection (better-sqlite3). Every call runs synchronously inside the driver;
 * the asynchronous interface only wraps the results, and busy waits pause asynchronously between retries.
 */
export class SqliteStore implements Persistence {
  readonly name: string
  private readonly ctx: commits.StoreContext
  private readonly retry: RetryPolicy
  private readonly names: Names
  private prepared: Statements | undefined
  private closed = false

  /** Use `openSqliteStore`; this constructor trusts its arguments. */
  constructor(
    /** The connection, for what the store does not offer (backups, inspection). */
    readonly database: SqliteDatabase,
    private readonly owned: boolean,
    config: SqliteConfig,
  ) {
    this.name = config.name
    this.names = names(config.tablePrefix)
    this.retry = { retries: config.busyRetries, delayMs: config.retryDelayMs }
    this.ctx = {
      retry: this.retry,
      pageSize: config.pageSize,
      statements: () => {
        // A store passed a connection it does not own must still stop working when closed.
        if (this.closed) throw new Error(`the ${this.name} store is closed`)
        return (this.prepared ??= prepareStatements(this.database, this.names))
      },
    }
  }

  commit(attempt: CommitAttempt): Promise<E.Either<CommitError, Commit>> {
    return commits.append(this.ctx, attempt)
  }

  get(tenantId: string, streamId: string, range?: RevisionRange): Reads<Commit> {
    return commits.get(this.ctx, tenantId, streamId, range)
  }

  getTo(tenantId: string, streamId: string, maxTime: Date): Reads<Commit> {
    return commits.getTo(this.ctx, tenantId, streamId, maxTime)
  }

  getAllTo(tenantId: string, maxTime: Date): Reads<Commit> {
    return commits.getAllTo(this.ctx, tenantId, maxTime)
  }

  getFrom(checkpoint: number, tenantId?: string): Reads<Commit> {
    return commits.getFrom(this.ctx, checkpoint, tenantId)
  }

  getFromTo(from: number, to: number, tenantId?: string): Reads<Commit> {
    return commits.getFromTo(this.ctx, from, to, tenantId)
  }

  getSnapshot(tenantId: string, streamId: string, maxRevision?: number): Promise<E.Either<StorageError, O.Option<Snapshot>>> {
    return snapshots.getSnapshot(this.ctx, tenantId, streamId, maxRevision)
  }

  addSnapshot(snapshot: Snapshot): Promise<E.Either<StorageError, void>> {
    return snapshots.addSnapshot(this.ctx, snapshot)
  }

  streamsToSnapshot(tenantId: string, threshold: number): Reads<StreamHead> {
    return snapshots.streamsToSnapshot(this.ctx, tenantId, threshold)
  }

  /** Creates the schema, or brings an older file's schema forward; a no-op on a file that is up to date. */
  async initialize(): Promise<E.Either<StorageError, void>> {
    return E.map(() => undefined)(await this.migrate())
  }

  /** `initialize`, reporting which schema versions it applied. */
  migrate(): Promise<E.Either<StorageError, MigrationReport>> {
    return retrying('initialize', this.retry, () => runMigrations(this.open(), this.names))
  }

  async drop(): Promise<E.Either<StorageError, void>> {
    return retrying('drop', this.retry, () => {
      this.transaction(() => {
        for (const sql of dropStatements(this.names)) this.open().exec(sql)
      })
      this.prepared = undefined
    })
  }

  async purge(tenantId?: string): Promise<E.Either<StorageError, void>> {
    return retrying('purge', this.retry, () => {
      const st = this.ctx.statements()
      this.transaction(() => {
        st.raiseFloor.run()
        if (tenantId === undefined) {
          st.deleteAllCommits.run()
          st.deleteAllSnapshots.run()
        } else {
          st.deleteTenantCommits.run(tenantId)
          st.deleteTenantSnapshots.run(tenantId)
        }
      })
    })
  }

  async deleteStream(tenantId: string, streamId: string): Promise<E.Either<StorageError, void>> {
    return retrying('deleteStream', this.retry, () => {
      const st = this.ctx.statements()
      this.transaction(() => {
        st.raiseFloor.run()
        st.deleteStreamCommits.run(tenantId, streamId)
        st.deleteStreamSnapshots.run(tenantId, streamId)
      })
    })
  }

  /** Closes the connection if the store opened it; a connection passed in stays open. Idempotent. */
  async close(): Promise<void> {
    this.closed = true
    this.prepared = undefined
    if (this.owned && this.database.open) this.database.close()
  }

  /** The connection, or a throw (turned into a StorageError by the caller) once the store is closed. */
  private open(): SqliteDatabase {
    if (this.closed) throw new Error(`the ${this.name} store is closed`)
    return this.database
  }

  private transaction(f: () => void): void {
    this.open().exec('BEGIN IMMEDIATE')
    try {
      f()
      this.database.exec('COMMIT')
    } catch (cause) {
      if (this.database.inTransaction) this.database.exec('ROLLBACK')
      throw cause
    }
  }
}

/** Applies the connection settings, once, when the store is opened. */
const configure = (db: SqliteDatabase, config: SqliteConfig): Promise<E.Either<StorageError, void>> =>
  retrying('configure sqlite connection', { retries: config.busyRetries, delayMs: config.retryDelayMs }, () => {
    for (const pragma of config.pragmas) db.pragma(pragma)
  })

/**
 * Opens the store: checks the options, loads better-sqlite3 (only when it has to open a file itself) and
 * configures the connection. Call `initialize()` next to create or migrate the schema.
 */
export const openSqliteStore = async (options: SqliteStoreOptions): Promise<E.Either<StorageError, SqliteStore>> => {
  const config = resolveConfig(options)
  if (E.isLeft(config)) return config
  if ('database' in options) {
    const configured = await configure(options.database, config.right)
    return E.map(() => new SqliteStore(options.database, false, config.right))(configured)
  }
  let db: SqliteDatabase
  try {
    const { default: Database } = await import('better-sqlite3')
    db = new Database(options.filename, { timeout: config.right.busyTimeoutMs })
  } catch (cause) {
    return E.left(storageError(`open sqlite database ${JSON.stringify(options.filename)}`, cause))
  }
  const configured = await configure(db, config.right)
  if (E.isLeft(configured)) {
    db.close()
    return configured
  }
  return E.right(new SqliteStore(db, true, config.right))
}
