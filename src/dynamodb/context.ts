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
}
