import type { DynamoDbConfig } from './config.js'
import type { Connection } from './connection.js'

/** What the store's operations share: the connection, the resolved options and the clock. */
export interface DynamoDbContext {
  readonly connection: Connection
  readonly config: DynamoDbConfig
  /**
   * The clock that ages holes in the checkpoint order (checkpoints.ts) and measures lease expiries
   * (subscriptionStore.ts); `Date.now` outside tests.
   */
  readonly now: () => number
  /** What this process has learnt about the tenant links each shard's counter keeps (checkpoints.ts), by shard. */
  readonly tenantLinks: readonly TenantLinks[]
  /**
   * Whether the table's recorded shard count was found equal to this store's (checked once per process, on the
   * first call that writes or reads the feed); a failed check is tried again.
   */
  shardCheck?: Promise<void> | undefined
}

/**
 * Where tenant chains live, as far as this process knows: `unknown` until an update was refused; then `none` (the
 * counter keeps no links: a store whose counter predates them) or the members of a full map, which can no longer
 * change. Both are final, so caching them never sends a tenant to the wrong chain.
 */
export interface TenantLinks {
  state: { readonly kind: 'unknown' } | { readonly kind: 'none' } | { readonly kind: 'full'; readonly members: ReadonlySet<string> }
}

export const tenantLinks = (shards = 1): readonly TenantLinks[] => Array.from({ length: shards }, () => ({ state: { kind: 'unknown' } }))
