import * as E from 'fp-ts/lib/Either.js'
import type * as O from 'fp-ts/lib/Option.js'
import type { Commit, CommitAttempt } from '../eventstore/Commit.js'
import type { CommitError, StorageError } from '../eventstore/errors.js'
import type { Persistence, RevisionRange } from '../eventstore/ports.js'
import { failed, type Reads } from '../eventstore/reads.js'
import type { Snapshot, StreamHead } from '../eventstore/Snapshot.js'
import * as commits from './commitStore.js'
import { validateOptions, type PostgresConfig, type PostgresStoreOptions } from './config.js'
import type { Context } from './context.js'
import { database } from './database.js'
import * as persistence from './persistence.js'
import { names } from './schema.js'
import * as snapshots from './snapshotStore.js'
import { statements } from './statements.js'

const context = (config: PostgresConfig): Context => {
  const n = names(config)
  return { db: database(config.connection), names: n, sql: statements(n), pageSize: config.pageSize, readWaitMs: config.readWaitMs }
}

/**
 * The PostgreSQL store (PostgreSQL 13 or later): a shell that delegates every method to the functions of this
 * folder. Options are checked once; when they are invalid every method returns that StorageError, so a bad
 * schema name is a value, not a throw.
 */
export class PostgresStore implements Persistence {
  readonly name: string
  private readonly ctx: E.Either<StorageError, Context>

  constructor(options: PostgresStoreOptions) {
    const config = validateOptions(options)
    this.name = E.isRight(config) ? config.right.name : 'postgres'
    this.ctx = E.isLeft(config) ? config : E.right(context(config.right))
  }

  commit(attempt: CommitAttempt): Promise<E.Either<CommitError, Commit>> {
    return this.run((ctx) => commits.commit(ctx, attempt))
  }

  get(tenantId: string, streamId: string, range?: RevisionRange): Reads<Commit> {
    return this.read((ctx) => commits.get(ctx, tenantId, streamId, range))
  }

  getTo(tenantId: string, streamId: string, maxTime: Date): Reads<Commit> {
    return this.read((ctx) => commits.getTo(ctx, tenantId, streamId, maxTime))
  }

  getAllTo(tenantId: string, maxTime: Date): Reads<Commit> {
    return this.read((ctx) => commits.getAllTo(ctx, tenantId, maxTime))
  }

  getFrom(checkpoint: number, tenantId?: string): Reads<Commit> {
    return this.read((ctx) => commits.getFrom(ctx, checkpoint, tenantId))
  }

  getFromTo(from: number, to: number, tenantId?: string): Reads<Commit> {
    return this.read((ctx) => commits.getFromTo(ctx, from, to, tenantId))
  }

  getSnapshot(tenantId: string, streamId: string, maxRevision?: number): Promise<E.Either<StorageError, O.Option<Snapshot>>> {
    return this.run((ctx) => snapshots.getSnapshot(ctx, tenantId, streamId, maxRevision))
  }

  addSnapshot(snapshot: Snapshot): Promise<E.Either<StorageError, void>> {
    return this.run((ctx) => snapshots.addSnapshot(ctx, snapshot))
  }

  streamsToSnapshot(tenantId: string, threshold: number): Reads<StreamHead> {
    return this.read((ctx) => snapshots.streamsToSnapshot(ctx, tenantId, threshold))
  }

  initialize(): Promise<E.Either<StorageError, void>> {
    return this.run((ctx) => persistence.initialize(ctx))
  }

  drop(): Promise<E.Either<StorageError, void>> {
    return this.run((ctx) => persistence.drop(ctx))
  }

  purge(tenantId?: string): Promise<E.Either<StorageError, void>> {
    return this.run((ctx) => persistence.purge(ctx, tenantId))
  }

  deleteStream(tenantId: string, streamId: string): Promise<E.Either<StorageError, void>> {
    return this.run((ctx) => persistence.deleteStream(ctx, tenantId, streamId))
  }

  async close(): Promise<void> {
    if (E.isRight(this.ctx)) await this.ctx.right.db.close()
  }

  private async run<L, A>(f: (ctx: Context) => Promise<E.Either<L, A>>): Promise<E.Either<L | StorageError, A>> {
    return E.isLeft(this.ctx) ? this.ctx : f(this.ctx.right)
  }

  private read<A>(f: (ctx: Context) => Reads<A>): Reads<A> {
    return E.isLeft(this.ctx) ? failed(this.ctx.left) : f(this.ctx.right)
  }
}

/** A PostgreSQL store; call `initialize()` before first use. */
export const postgresStore = (options: PostgresStoreOptions): PostgresStore => new PostgresStore(options)
