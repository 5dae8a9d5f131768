import type { TopicMap } from '../../eventstore/codec/TopicMap.js'
import type { EventStore } from '../../eventstore/ports.js'
import { conflictDetector, type ConflictDetector } from '../ConflictDetector.js'
import { SnapshotPolicy } from '../SnapshotPolicy.js'
import { tableOf, type StateCache } from '../stateCache.js'
import { bound, type CacheTable } from './cacheTable.js'

/** Options every repository takes. */
export interface RepositoryOptions<Ev extends { readonly type: string }> {
  /** The tenant every stream of this repository lives in; `'default'` by default. */
  readonly tenantId?: string
  /** Commit stamps; `new Date()` by default. */
  readonly clock?: () => Date
  /** Commit ids when a save names none; `crypto.randomUUID()` by default. */
  readonly newCommitId?: () => string
  /** Decides whether a concurrent commit conflicts with pending events (SEMANTICS 17). */
  readonly conflictDetector?: ConflictDetector<Ev>
  /** How many times a save is retried after non-conflicting concurrent commits; 3 by default. */
  readonly maxRetries?: number
  /** When to take a snapshot on its own after a save; never by default. */
  readonly snapshotPolicy?: SnapshotPolicy
  /**
   * An in-process cache of the states this repository loads and stores (`stateCache`). By default a command then
   * reads only the commits after the cached revision (normally none) before deciding.
   */
  readonly cache?: StateCache
  /**
   * With a cache: a command or load takes a cached state younger than this many milliseconds without reading at
   * all, and the append's optimistic check catches a stale one (docs/domain.md, "State cache").
   */
  readonly allowStaleMs?: number
}

/** A repository's cache, resolved: its table, and how stale a state it may decide on without reading. */
export interface CacheUse {
  readonly table: CacheTable
  /** `undefined`: always read the commits after the cached revision. */
  readonly allowStaleMs: number | undefined
}

/** Options resolved with their defaults, with the store and topic map. */
export interface Context<Ev extends { readonly type: string }> {
  readonly store: EventStore
  readonly topics: TopicMap<Ev>
  readonly tenantId: string
  readonly clock: () => Date
  readonly newCommitId: () => string
  readonly detector: ConflictDetector<Ev>
  readonly maxRetries: number
  readonly snapshotPolicy: SnapshotPolicy
  readonly cache?: CacheUse | undefined
}

export const DEFAULT_TENANT = 'default'
export const DEFAULT_MAX_RETRIES = 3

export const context = <Ev extends { readonly type: string }>(
  store: EventStore,
  topics: TopicMap<Ev>,
  options: RepositoryOptions<Ev> = {},
): Context<Ev> => ({
  store,
  topics,
  tenantId: options.tenantId ?? DEFAULT_TENANT,
  clock: options.clock ?? (() => new Date()),
  newCommitId: options.newCommitId ?? (() => globalThis.crypto.randomUUID()),
  detector: options.conflictDetector ?? conflictDetector<Ev>(),
  maxRetries: Math.max(0, Math.floor(options.maxRetries ?? DEFAULT_MAX_RETRIES)),
  snapshotPolicy: options.snapshotPolicy ?? SnapshotPolicy.never,
  cache: cacheUse(options),
})

const cacheUse = (options: { readonly cache?: StateCache; readonly allowStaleMs?: number }): CacheUse | undefined => {
  const table = options.cache === undefined ? undefined : tableOf(options.cache)
  if (table === undefined) return undefined
  const stale = options.allowStaleMs === undefined ? undefined : bound(options.allowStaleMs, 0)
  return { table, allowStaleMs: stale === 0 ? undefined : stale }
}
