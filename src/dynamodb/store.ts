import * as E from 'fp-ts/lib/Either.js'
import { defineStore } from '../eventstore/adapter/defineStore.js'
import type { InvalidArgument, StorageError } from '../eventstore/errors.js'
import type { Persistence } from '../eventstore/ports.js'
import type { ConditionallyProjectable } from '../eventstore/projectionStore.js'
import type { Subscribable } from '../eventstore/subscriptionStore.js'
import * as commits from './commitStore.js'
import { defaults, resolveOptions, type DynamoDbConfig, type DynamoDbStoreOptions } from './config.js'
import { openConnection } from './connection.js'
import { tenantLinks, type DynamoDbContext } from './context.js'
import { feedView, noSuchShard, type DynamoDbFeed } from './feeds.js'
import { readLatest } from './loads.js'
import * as management from './management.js'
import * as snapshots from './snapshotStore.js'
import { dynamoDbProjections } from './projections.js'
import { dynamoDbSubscriptions } from './subscriptionStore.js'

/**
 * The event store on DynamoDB; it keeps its subscriptions' leases, checkpoints and parked commits too, and the
 * documents of document projections (`aett/projections`), written one conditional write per document.
 */
export interface DynamoDbStore extends Persistence, Subscribable, ConditionallyProjectable {
  /** The resolved options (table names, page size, windows), or why they were refused. */
  readonly config: E.Either<StorageError, DynamoDbConfig>
  /**
   * Feed shard k (0 to `feedShards - 1`): the store, with the log reads, subscriptions and document projections of
   * that shard (feeds.ts). On a store of several shards the store's own `getFrom`/`getFromTo` answer an
   * `InvalidArgument`: the log is read shard by shard. With one shard, `feed(0)` reads what the store reads.
   */
  feed(shard: number): E.Either<InvalidArgument | StorageError, DynamoDbFeed>
  /** Every feed shard, in order (`feed(0)`, `feed(1)`, ...). */
  feeds(): E.Either<StorageError, readonly DynamoDbFeed[]>
}

/**
 * A store on DynamoDB (see docs/stores/dynamodb.md for the layout, the checkpoint guarantee and costs). With
 * `{ client }` it uses the caller's client and never closes it; with `{ clientConfig }` it creates a
 * `DynamoDBClient` on first use and destroys it on `close()`. The AWS SDK is loaded on the first call. A bad
 * option is answered by `initialize()` and every other call, never thrown. Call `initialize()` once to create
 * the tables.
 */
export const dynamoDbStore = (options: DynamoDbStoreOptions): DynamoDbStore => dynamoDbStoreWithClock(options, Date.now)

/**
 * `dynamoDbStore` with the clock that ages holes in the checkpoint order and measures lease expiries; for tests,
 * not exported by the package.
 */
export const dynamoDbStoreWithClock = (options: DynamoDbStoreOptions, now: () => number): DynamoDbStore => {
  const settings = resolveOptions(options)
  const config = E.map((s: { readonly config: DynamoDbConfig }) => s.config)(settings)
  const shell = defineStore({
    name: E.isRight(config) ? config.right.name : defaults.name,
    config: settings,
    connect: async ({ config, client }): Promise<E.Either<StorageError, DynamoDbContext>> =>
      E.right({ connection: await openConnection(client, config.maxRetries), config, now, tenantLinks: tenantLinks(config.feedShards) }),
    close: (ctx) => ctx.connection.close(),
    ops: { ...commits, ...snapshots, readLatest, ...management },
  })
  const subscriptions = dynamoDbSubscriptions(shell)
  const store = Object.assign(shell, { config, subscriptions, projections: dynamoDbProjections(shell, subscriptions) })
  const views = new Map<number, DynamoDbFeed>()
  const feed = (shard: number): E.Either<InvalidArgument | StorageError, DynamoDbFeed> => {
    if (E.isLeft(config)) return config
    const shards = config.right.feedShards
    if (!Number.isSafeInteger(shard) || shard < 0 || shard >= shards) return E.left(noSuchShard(shard, shards))
    let view = views.get(shard)
    if (view === undefined) {
      view = feedView(shell, store, shard, shards)
      views.set(shard, view)
    }
    return E.right(view)
  }
  const feeds = (): E.Either<StorageError, readonly DynamoDbFeed[]> =>
    E.isLeft(config) ? config : E.right(Array.from({ length: config.right.feedShards }, (_, k) => feed(k) as E.Right<DynamoDbFeed>).map((v) => v.right))
  return Object.assign(store, { feed, feeds })
}

/**
 * @deprecated since 0.2: use `dynamoDbStore(options)`, which now returns the store itself. Kept for one release;
 * `new DynamoDbStore(options)` returns the same store as `dynamoDbStore(options)`.
 */
// A function used with `new` that returns an object yields that object, so the old spelling costs one line.
export const DynamoDbStore = function DynamoDbStore(options: DynamoDbStoreOptions) {
  return dynamoDbStore(options)
} as unknown as new (options: DynamoDbStoreOptions) => DynamoDbStore
