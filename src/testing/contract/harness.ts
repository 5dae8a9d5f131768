import type { Commit, Persistence } from '../../eventstore/index.js'

/** What reads a log: a store, or one feed shard of a store whose log is split (SEMANTICS 7). */
export type LogReader = Pick<Persistence, 'getFrom' | 'getFromTo'>

/**
 * A store whose log is split into feed shards (SEMANTICS 7): a reader per shard, and the shard a commit is in. The
 * log's cases then read every shard: each shard's read must hold exactly that shard's commits, in commit order, with
 * strictly ascending tokens, and the shards together every commit once. The store's own `getFrom` is not used.
 */
export interface Feeds {
  readonly readers: (store: Persistence) => readonly LogReader[]
  readonly shardOf: (ids: Pick<Commit, 'tenantId' | 'streamId'>) => number
}

/** How many random runs the contract's fuzz case makes on a store (see `storeFuzz`). */
export interface FuzzOptions {
  /** Random histories tried, all on one store; 20 by default. */
  readonly numRuns?: number
  /** The longest history tried (default 12 operations). */
  readonly maxOperations?: number
  readonly seed?: number
  /** The vitest timeout of the fuzz case, in ms (default 120,000). */
  readonly timeout?: number
}

/**
 * How the contract suite gets stores. Each store's spec file is a few lines: a harness, then
 * `storeContract(harness)`.
 */
export interface StoreHarness {
  /** Shown in test names, e.g. `sqlite (file)`. */
  readonly name: string
  /**
   * A fresh, initialised, empty store, isolated from every other run (its own schema, table prefix, file or
   * table names). It must be configured with a small read page size (`pageSize: 5`) so that paging is exercised.
   */
  readonly create: () => Promise<Persistence>
  /**
   * Drops everything `create` made and closes the store. The closed-store cases also hand it a store that is
   * already closed when no `reopen` is given; a failure to drop that one is then ignored.
   */
  readonly dispose: (store: Persistence) => Promise<void>
  /**
   * Optional: a store whose database fails on every call (an unreachable host, a closed pool). When given, the
   * suite checks that every operation answers with a `StorageError` that keeps the driver's cause. The suite
   * closes it with `close()`.
   */
  readonly failing?: () => Promise<Persistence>
  /**
   * Optional: a new, open store on the same database as `store` (the same file, schema, table prefix or tables),
   * which may be closed. When given, the closed-store cases use it to check that calls made after `close()`
   * stored nothing, and dispose of it instead of the closed store, so that what `create` made is dropped.
   */
  readonly reopen?: (store: Persistence) => Promise<Persistence>
  /** Optional: run counts of the fuzz case; a store behind a server may want fewer than the default. */
  readonly fuzz?: FuzzOptions
  /** Optional: the store's log is split into feed shards; see `Feeds`. Absent: one feed, the store's own reads. */
  readonly feeds?: Feeds
}
