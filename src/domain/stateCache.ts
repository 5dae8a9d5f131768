import type { EventStore } from '../eventstore/ports.js'
import { bound, CacheTable, type TableStats } from './core/cacheTable.js'

/** How big a state cache may grow and how long its entries live. */
export interface StateCacheOptions {
  /** The most streams it keeps; the least recently used goes first. `0` keeps nothing. */
  readonly maxEntries: number
  /**
   * The most bytes it keeps, by an estimate (`sizeOf`, or about 2 bytes per string character, 8 per number, 32
   * per object plus its keys, and the entry's commit ids); unbounded when absent. An entry larger than this alone
   * is not kept.
   */
  readonly maxBytes?: number
  /** An entry expires this many milliseconds after the store last confirmed it (a read or an append); never when absent. */
  readonly ttlMs?: number
  /** Your own estimate of a cached state's bytes (a decider's state, an aggregate's memento payload, a saga's events). */
  readonly sizeOf?: (state: unknown) => number
  /** The clock of `ttlMs` and `allowStaleMs`, in milliseconds; a monotonic one (`performance.now`) by default. */
  readonly now?: () => number
}

/**
 * What a cache holds and did: `entries`, `bytes` (the estimate; 0 unless `maxBytes` is set, since estimating walks
 * each state), and counts of `hits`, `misses` and `evictions` (by the bounds, not by expiry or invalidation).
 */
export interface StateCacheStats extends TableStats {}

/**
 * An in-process cache of folded stream states, shared by any number of repositories (`cache` in
 * `RepositoryOptions`). Entries are keyed by store (its object identity: two stores never share an entry), tenant,
 * stream, and the model: the decider, saga definition or class, its topic map and its state version, so that two
 * models of one stream never see each other's state. It promises nothing across processes beyond what optimistic
 * concurrency does (see docs/domain.md, "State cache").
 */
export interface StateCache {
  readonly stats: () => StateCacheStats
  /** Drops every entry (after a `purge`, say). */
  readonly clear: () => void
  /** Drops a store's entries: all, a tenant's, or one stream's (after `deleteStream` behind the cache's back). */
  readonly invalidate: (store: EventStore, tenantId?: string, streamId?: string) => void
}

// The table behind a cache, for the repository machinery only: the package entry points do not export it.
const tables = new WeakMap<StateCache, CacheTable>()

/** The table of a cache made by `stateCache` (`undefined` for an object that only looks like one). */
export const tableOf = (cache: StateCache): CacheTable | undefined => tables.get(cache)

/**
 * A bounded, in-process cache of stream states for repositories (every face: deciders, sagas, classes).
 *
 * @example
 * const cache = stateCache({ maxEntries: 10_000, maxBytes: 64 * 1024 * 1024, ttlMs: 60_000 })
 * const accounts = deciderRepository({ decider, topics, store, cache })
 */
export const stateCache = (options: StateCacheOptions): StateCache => {
  const table = new CacheTable({
    maxEntries: bound(options.maxEntries, 0),
    maxBytes: bound(options.maxBytes, Infinity),
    ttlMs: bound(options.ttlMs, Infinity),
    now: options.now ?? (() => performance.now()),
    sizeOf: options.sizeOf,
  })
  const cache: StateCache = {
    stats: () => table.stats(),
    clear: () => table.clear(),
    invalidate: (store, tenantId, streamId) => table.invalidate(store, tenantId, streamId),
  }
  tables.set(cache, table)
  return cache
}
