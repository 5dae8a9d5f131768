import type { TopicMap } from '../../eventstore/codec/TopicMap.js'
import type { EventStore } from '../../eventstore/ports.js'
import { conflictDetector, type ConflictDetector } from '../ConflictDetector.js'
import { SnapshotPolicy } from '../SnapshotPolicy.js'

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
})
