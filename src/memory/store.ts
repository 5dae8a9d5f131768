import * as E from 'fp-ts/lib/Either.js'
import { defineStore, type StoreShell } from '../eventstore/adapter/defineStore.js'
import type { Persistence } from '../eventstore/ports.js'
import type { Subscribable } from '../eventstore/subscriptionStore.js'
import * as commits from './commitStore.js'
import { readLatest } from './loads.js'
import { resolveConfig, type MemoryStoreOptions } from './config.js'
import { emptyContext, type MemoryContext } from './context.js'
import * as management from './management.js'
import * as snapshots from './snapshotStore.js'
import { clearSubscriptionData, emptySubscriptionData, memorySubscriptions } from './subscriptionStore.js'

/** The in-memory store: a `Persistence` that also keeps subscriptions (leases, checkpoints, parked commits). */
export type MemoryStore = Persistence & Subscribable

/**
 * The reference store: keeps the whole contract in process memory. It keeps exactly what the database stores
 * keep (the JSON image of every attempt and snapshot, with the same refusals), so that code tested on it behaves
 * the same in production. Its data lives as long as the store; `close()` ends it like any other store's.
 */
export const memoryStore = (options: MemoryStoreOptions = {}): MemoryStore => {
  const config = resolveConfig(options)
  const subscriptionData = emptySubscriptionData()
  const shell: StoreShell<MemoryContext> = defineStore({
    name: E.isRight(config) ? config.right.name : 'memory',
    config,
    connect: () => E.right(emptyContext()),
    close: () => {},
    ops: {
      ...commits,
      ...snapshots,
      readLatest,
      ...management,
      // `drop()` removes everything the store created, its subscriptions' leases, checkpoints and parked commits too.
      drop: (ctx) => {
        clearSubscriptionData(subscriptionData)
        return management.drop(ctx)
      },
    },
  })
  return Object.assign(shell, { subscriptions: memorySubscriptions(shell, subscriptionData) })
}

/**
 * @deprecated since 0.2: use `memoryStore(options)`. Kept for one release; `new MemoryStore()` returns the same
 * store as `memoryStore()`.
 */
// A function used with `new` that returns an object yields that object, so the old spelling costs one line.
export const MemoryStore = function MemoryStore(options?: MemoryStoreOptions) {
  return memoryStore(options)
} as unknown as new (options?: MemoryStoreOptions) => MemoryStore
