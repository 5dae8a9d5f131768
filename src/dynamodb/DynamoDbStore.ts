import * as E from 'fp-ts/lib/Either.js'
import type * as O from 'fp-ts/lib/Option.js'
import type { Commit, CommitAttempt } from '../eventstore/Commit.js'
import { storageError, type CommitError, type StorageError } from '../eventstore/errors.js'
import type { Persistence, RevisionRange } from '../eventstore/ports.js'
import type { Reads } from '../eventstore/reads.js'
import type { Snapshot, StreamHead } from '../eventstore/Snapshot.js'
import { getFromTo } from './checkpoints.js'
import { append, get, getAllTo, getTo } from './commits.js'
import { resolveConfig, type DynamoDbClient, type DynamoDbConfig, type DynamoDbStoreOptions } from './config.js'
import { driver, loadSdk, type Driver } from './driver.js'
import * as purging from './purge.js'
import * as snapshots from './snapshots.js'
import { createTables, deleteTables } from './tables.js'

/** What the store's modules share. */
interface Context {
  readonly driver: Driver
  readonly config: DynamoDbConfig
  readonly now: () => number
}

const attempt = async (operation: string, run: () => Promise<void>): Promise<E.Either<StorageError, void>> => {
  try {
    await run()
    return E.right(undefined)
  } catch (cause) {
    return E.left(storageError(operation, cause))
  }
}

/**
 * The event store on DynamoDB (see docs/stores/dynamodb.md for the layout, the checkpoint guarantee and costs).
 * A shell over the functions of this folder.
 */
export class DynamoDbStore implements Persistence {
  readonly name: string
  private readonly ctx: Context

  /** Use `dynamoDbStore(options)`, which validates the options. */
  constructor(config: DynamoDbConfig, d: Driver, now: () => number = Date.now) {
    this.name = config.name
    this.ctx = { driver: d, config, now }
  }

  /** The resolved table names, page size and windows. */
  get config(): DynamoDbConfig {
    return this.ctx.config
  }

  commit(a: CommitAttempt): Promise<E.Either<CommitError, Commit>> {
    return append(this.ctx, a)
  }

  get(tenantId: string, streamId: string, range?: RevisionRange): Reads<Commit> {
    return get(this.ctx, tenantId, streamId, range)
  }

  getTo(tenantId: string, streamId: string, maxTime: Date): Reads<Commit> {
    return getTo(this.ctx, tenantId, streamId, maxTime)
  }

  getAllTo(tenantId: string, maxTime: Date): Reads<Commit> {
    return getAllTo(this.ctx, tenantId, maxTime)
  }

  getFrom(checkpoint: number, tenantId?: string): Reads<Commit> {
    return getFromTo(this.ctx, checkpoint, Number.MAX_SAFE_INTEGER, tenantId)
  }

  getFromTo(from: number, to: number, tenantId?: string): Reads<Commit> {
    return getFromTo(this.ctx, from, to, tenantId)
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

  initialize(): Promise<E.Either<StorageError, void>> {
    return attempt('initialize', () => createTables(this.ctx))
  }

  drop(): Promise<E.Either<StorageError, void>> {
    return attempt('drop', () => deleteTables(this.ctx))
  }

  purge(tenantId?: string): Promise<E.Either<StorageError, void>> {
    return attempt('purge', () => purging.purge(this.ctx, tenantId))
  }

  deleteStream(tenantId: string, streamId: string): Promise<E.Either<StorageError, void>> {
    return attempt('deleteStream', () => purging.deleteStream(this.ctx, tenantId, streamId))
  }

  close(): Promise<void> {
    return this.ctx.driver.close()
  }
}

/**
 * A store on DynamoDB. With `{ client }` it uses the caller's client and never closes it; with `{ clientConfig }`
 * it creates a `DynamoDBClient` (loading the SDK on first use) and destroys it on `close()`. Call `initialize()`
 * once to create the tables.
 */
export const dynamoDbStore = (options: DynamoDbStoreOptions): E.Either<StorageError, DynamoDbStore> =>
  E.map((config: DynamoDbConfig) => {
    const owned = !('client' in options)
    const client: Promise<DynamoDbClient> =
      'client' in options
        ? Promise.resolve(options.client)
        : loadSdk().then((m) => new m.DynamoDBClient(options.clientConfig) as unknown as DynamoDbClient)
    // A failed SDK import surfaces as the first operation's StorageError, not as an unhandled rejection.
    client.catch(() => undefined)
    return new DynamoDbStore(config, driver(client, owned, config.maxRetries))
  })(resolveConfig(options))
