import * as E from 'fp-ts/lib/Either.js'
import type * as O from 'fp-ts/lib/Option.js'
import type { Commit, CommitAttempt } from '../eventstore/Commit.js'
import { storageError, type CommitError, type StorageError } from '../eventstore/errors.js'
import type { Persistence, RevisionRange } from '../eventstore/ports.js'
import { failed, type Reads } from '../eventstore/reads.js'
import type { Snapshot, StreamHead } from '../eventstore/Snapshot.js'
import { appendCommit, readStream, readStreamTo, readTenantTo, readWindow, unboundedToken } from './commitStore.js'
import { createOwnedPool, validateConfig, type MysqlConfig, type MysqlPool, type MysqlStoreOptions } from './config.js'
import { inTransaction, run, type MysqlContext } from './db.js'
import { migrate } from './migrate.js'
import { isWellFormed, streamKey, tenantKey } from './rows.js'
import { dropStatements, mysqlNames } from './schema.js'
import { addSnapshot, getSnapshot, streamsToSnapshot } from './snapshotStore.js'
import { mysqlStatements } from './statements.js'

const defaultConnectionLimit = 10

/**
 * The MySQL/MariaDB store (MariaDB 10.11+, MySQL 8+). A shell over the functions of this folder: it owns the
 * lifecycle (lazy pool, closed state) and hands every operation the same context.
 */
export class MysqlStore implements Persistence {
  readonly name = 'mysql'
  private readonly ctx: MysqlContext | undefined
  private readonly invalid: StorageError | undefined
  private readonly options: MysqlStoreOptions
  private poolPromise: Promise<E.Either<StorageError, MysqlPool>> | undefined
  private closed = false

  constructor(options: MysqlStoreOptions) {
    this.options = options
    const config = validateConfig(options)
    if (E.isLeft(config)) {
      this.invalid = config.left
      this.ctx = undefined
    } else {
      this.invalid = undefined
      this.ctx = this.context(config.right)
    }
  }

  commit(attempt: CommitAttempt): Promise<E.Either<CommitError, Commit>> {
    return this.ctx === undefined ? this.fail() : appendCommit(this.ctx, attempt)
  }

  get(tenantId: string, streamId: string, range?: RevisionRange): Reads<Commit> {
    return this.ctx === undefined ? this.failRead() : readStream(this.ctx, tenantId, streamId, range)
  }

  getTo(tenantId: string, streamId: string, maxTime: Date): Reads<Commit> {
    return this.ctx === undefined ? this.failRead() : readStreamTo(this.ctx, tenantId, streamId, maxTime)
  }

  getAllTo(tenantId: string, maxTime: Date): Reads<Commit> {
    return this.ctx === undefined ? this.failRead() : readTenantTo(this.ctx, tenantId, maxTime)
  }

  getFrom(checkpoint: number, tenantId?: string): Reads<Commit> {
    return this.ctx === undefined ? this.failRead() : readWindow(this.ctx, checkpoint, unboundedToken, tenantId)
  }

  getFromTo(from: number, to: number, tenantId?: string): Reads<Commit> {
    return this.ctx === undefined ? this.failRead() : readWindow(this.ctx, from, to, tenantId)
  }

  getSnapshot(tenantId: string, streamId: string, maxRevision?: number): Promise<E.Either<StorageError, O.Option<Snapshot>>> {
    return this.ctx === undefined ? this.fail() : getSnapshot(this.ctx, tenantId, streamId, maxRevision)
  }

  addSnapshot(snapshot: Snapshot): Promise<E.Either<StorageError, void>> {
    return this.ctx === undefined ? this.fail() : addSnapshot(this.ctx, snapshot)
  }

  streamsToSnapshot(tenantId: string, threshold: number): Reads<StreamHead> {
    return this.ctx === undefined ? this.failRead() : streamsToSnapshot(this.ctx, tenantId, threshold)
  }

  initialize(): Promise<E.Either<StorageError, void>> {
    return this.ctx === undefined ? this.fail() : migrate(this.ctx)
  }

  async drop(): Promise<E.Either<StorageError, void>> {
    const ctx = this.ctx
    if (ctx === undefined) return this.fail()
    const pool = await ctx.pool()
    if (E.isLeft(pool)) return pool
    for (const sql of dropStatements(ctx.names)) {
      const done = await run(pool.right, 'drop', sql)
      if (E.isLeft(done)) return done
    }
    return E.right(undefined)
  }

  purge(tenantId?: string): Promise<E.Either<StorageError, void>> {
    const ctx = this.ctx
    if (ctx === undefined) return this.fail()
    const s = ctx.statements
    if (tenantId === undefined) {
      return inTransaction(ctx, 'purge', [
        [s.lockCounter, []],
        [s.purgeAllCommits, []],
        [s.purgeAllSnapshots, []],
      ])
    }
    if (!isWellFormed(tenantId)) return Promise.resolve(E.right(undefined))
    const key = tenantKey(tenantId)
    return inTransaction(ctx, 'purge', [
      [s.lockCounter, []],
      [s.purgeCommits, [key]],
      [s.purgeSnapshots, [key]],
    ])
  }

  deleteStream(tenantId: string, streamId: string): Promise<E.Either<StorageError, void>> {
    const ctx = this.ctx
    if (ctx === undefined) return this.fail()
    if (!isWellFormed(tenantId) || !isWellFormed(streamId)) return Promise.resolve(E.right(undefined))
    const key = streamKey(tenantId, streamId)
    return inTransaction(ctx, 'deleteStream', [
      [ctx.statements.lockCounter, []],
      [ctx.statements.deleteCommits, [key]],
      [ctx.statements.deleteSnapshots, [key]],
    ])
  }

  /** Ends the pool only when the store created it from a `uri`; a pool passed in stays open. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const owned = 'pool' in this.options ? undefined : this.poolPromise
    if (owned === undefined) return
    const pool = await owned
    if (E.isRight(pool)) await pool.right.end().catch(() => undefined)
  }

  private context(config: MysqlConfig): MysqlContext {
    const names = mysqlNames(config.tablePrefix)
    return { config, names, statements: mysqlStatements(names), pool: () => this.pool() }
  }

  private pool(): Promise<E.Either<StorageError, MysqlPool>> {
    if (this.closed) return Promise.resolve(E.left(storageError('connect', new Error('the store is closed'))))
    if (this.poolPromise === undefined) {
      const options = this.options
      this.poolPromise =
        'pool' in options
          ? Promise.resolve(E.right(options.pool))
          : createOwnedPool(options.uri, options.connectionLimit ?? defaultConnectionLimit).then(
              (pool) => E.right(pool),
              (cause: unknown) => E.left(storageError('connect', cause)),
            )
    }
    return this.poolPromise
  }

  private fail<A>(): Promise<E.Either<StorageError, A>> {
    return Promise.resolve(E.left(this.invalid ?? storageError('configure', new Error('invalid options'))))
  }

  private failRead<A>(): Reads<A> {
    return failed(this.invalid ?? storageError('configure', new Error('invalid options')))
  }
}

/** A MySQL/MariaDB store; call `initialize()` once before use. */
export const mysqlStore = (options: MysqlStoreOptions): MysqlStore => new MysqlStore(options)
