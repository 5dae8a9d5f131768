/**
 * `aett/dynamodb`: the event store on Amazon DynamoDB. Importing this module does not load the AWS SDK; the
 * store imports `@aws-sdk/client-dynamodb` on first use.
 */
export { dynamoDbStore, DynamoDbStore } from './store.js'
export type {
  DynamoDbBilling,
  DynamoDbClient,
  DynamoDbClientOptions,
  DynamoDbCommonOptions,
  DynamoDbConfig,
  DynamoDbConfigOptions,
  DynamoDbStoreOptions,
  DynamoDbTableNames,
} from './config.js'
export { MAX_FEED_SHARDS } from './config.js'
export type { DynamoDbFeed } from './feeds.js'
export { FeedShardsMismatch } from './checkpoints.js'
export { feedShardOf, fnv1a32, shardOfToken } from './shards.js'
