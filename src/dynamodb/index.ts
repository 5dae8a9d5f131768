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
