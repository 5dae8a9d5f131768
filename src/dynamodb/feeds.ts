import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { StoreShell } from '../eventstore/adapter/defineStore.js'
import { toTokens } from '../eventstore/adapter/bounds.js'
import { isStorableId } from '../eventstore/adapter/ids.js'
import { empty, failed } from '../eventstore/adapter/reads.js'
import type { Commit } from '../eventstore/Commit.js'
import { invalidArgument, storageError, type InvalidArgument } from '../eventstore/errors.js'
import type { Persistence } from '../eventstore/ports.js'
import type { ConditionallyProjectable } from '../eventstore/projectionStore.js'
import type { Reads } from '../eventstore/reads.js'
import type { FeedShardView, Lease, LeaseLost, Subscribable, SubscriptionStore } from '../eventstore/subscriptionStore.js'
import { getShardFromTo } from './commitStore.js'
import type { DynamoDbContext } from './context.js'
import { dynamoDbProjections } from './projections.js'

/**
 * One feed shard of a DynamoDB store (`store.feed(k)`): the store itself (commits, stream reads, snapshots and
 * management go to the whole store, as on the store), except that `getFrom`/`getFromTo` read shard k only (each in
 * its own order, no-skip), and that its subscriptions and document projections keep leases and checkpoints of their
 * own. So `subscribe`, projections and sagas run on a shard as they run on a store: one lease per (name, shard),
 * several processes sharing the shards. `close()` closes the store.
 */
export interface DynamoDbFeed extends Persistence, Subscribable, ConditionallyProjectable, FeedShardView {
  /** The shard, 0 to `feedShards - 1`; `feedShard` is it as the checkpoint key. */
  readonly shard: number
}

/**
 * The lease items of a subscription on shard k of a store of several shards: the name, U+0000 and k. No name can
 * hold U+0000 (the runtime refuses it), so no two (name, shard) pairs, and no plain name, share an item. A store of
 * one shard keeps the plain name: its subscriptions are the store's own, as before shards.
 */
const leaseNameOf = (shards: number, shard: number) => (name: string): string => (shards === 1 ? name : `${name}\u0000${shard}`)

/** The store's subscription store under the names of one shard; leases and parked records answer the plain name. */
const namespaced = (ss: SubscriptionStore, inner: (name: string) => string): SubscriptionStore => {
  const out = (name: string) => (lease: Lease): Lease => Object.freeze({ ...lease, name })
  const into = (lease: Lease): Lease => ({ ...lease, name: inner(lease.name) })
  const lost = <A>(name: string, r: E.Either<unknown, A>) =>
    E.isLeft(r) && (r.left as { _tag?: string })._tag === 'LeaseLost' ? E.left({ ...(r.left as LeaseLost), name }) : r
  return {
    acquire: async (name, holder, ttlMs) => E.map(O.map(out(name)))(await ss.acquire(inner(name), holder, ttlMs)),
    renew: async (lease, ttlMs) => lost(lease.name, E.map(out(lease.name))(await ss.renew(into(lease), ttlMs))) as E.Either<never, Lease>,
    release: (lease) => ss.release(into(lease)),
    lease: async (name) => E.map(O.map(out(name)))(await ss.lease(inner(name))),
    checkpoint: (name) => ss.checkpoint(inner(name)),
    saveCheckpoint: async (lease, checkpoint) => lost(lease.name, await ss.saveCheckpoint(into(lease), checkpoint)) as E.Either<never, void>,
    resetCheckpoint: async (name, holder, checkpoint) => lost(name, E.map(O.map(out(name)))(await ss.resetCheckpoint(inner(name), holder, checkpoint))) as E.Either<never, O.Option<Lease>>,
    park: async (lease, parked) => lost(lease.name, await ss.park(into(lease), { ...parked, name: inner(parked.name) })) as E.Either<never, void>,
    parked: async (name) => E.map((ps: readonly { readonly name: string }[]) => ps.map((p) => ({ ...p, name })))(await ss.parked(inner(name))) as never,
    unpark: async (lease, token) => lost(lease.name, await ss.unpark(into(lease), token)) as E.Either<never, void>,
    watch: (wake) => ss.watch(wake),
  }
}

/** The view of shard k; `shards` is the store's count (checked by the caller). */
export const feedView = <S extends Persistence & Subscribable>(
  shell: StoreShell<DynamoDbContext>,
  store: S,
  shard: number,
  shards: number,
): DynamoDbFeed => {
  const tokenRead = (operation: string, from: number, to: number, tenantId: string | undefined): Reads<Commit> => {
    if (shell.isClosed()) return failed(storageError(operation, new Error(`the ${shell.name} store is closed`)))
    const tokens = toTokens(operation, from, to)
    if (E.isLeft(tokens)) return failed(tokens.left)
    if (tokens.right === undefined || (tenantId !== undefined && !isStorableId('tenantId', tenantId))) return empty()
    const w = tokens.right
    return shell.read(operation, (ctx) => getShardFromTo(ctx, shard, w.from, w.to, tenantId))
  }
  const leaseName = leaseNameOf(shards, shard)
  const subscriptions = shards === 1 ? store.subscriptions : namespaced(store.subscriptions, leaseName)
  const projections = dynamoDbProjections(shell, subscriptions, { leaseName, shard: String(shard) })
  // Not frozen: the runtime wraps stores in proxies, which must be able to answer their own values.
  return {
    ...store,
    getFrom: (checkpoint: number, tenantId?: string) => tokenRead('getFrom', checkpoint, Number.MAX_SAFE_INTEGER, tenantId),
    getFromTo: (from: number, to: number, tenantId?: string) => tokenRead('getFromTo', from, to, tenantId),
    subscriptions,
    projections,
    feedShard: String(shard),
    shard,
  } as unknown as DynamoDbFeed
}

export const noSuchShard = (shard: unknown, shards: number): InvalidArgument =>
  invalidArgument('feed', `the feed shard must be an integer from 0 to ${shards - 1} (option feedShards: ${shards}), got ${String(shard)}`)
