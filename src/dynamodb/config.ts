import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb'
import * as E from 'fp-ts/lib/Either.js'
import { storageError, type StorageError } from '../eventstore/errors.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * The one method of the AWS SDK's `DynamoDBClient` the store calls. Declared structurally so that a caller's
 * own client (with its own middleware, credentials or endpoint) can be passed in as it is.
 */
export interface DynamoDbClient {
  send(command: unknown): Promise<unknown>
  destroy?(): void
}

/** Table names. The prefix is put in front of both names, so that several stores can share an account. */
export interface DynamoDbTableNames {
  /** Put in front of both names; `aett_` by default. */
  readonly prefix?: string
  /** `commits` by default. */
  readonly commits?: string
  /** `snapshots` by default. */
  readonly snapshots?: string
}

/** How the tables are billed when `initialize()` creates them. */
export type DynamoDbBilling =
  | { readonly mode: 'PAY_PER_REQUEST' }
  | { readonly mode: 'PROVISIONED'; readonly readCapacityUnits: number; readonly writeCapacityUnits: number }

export interface DynamoDbCommonOptions {
  readonly tables?: DynamoDbTableNames
  /** Items per Query/Scan page; 500 by default. */
  readonly pageSize?: number
  /** On-demand (`PAY_PER_REQUEST`) by default; applies to the tables and their global indexes. */
  readonly billing?: DynamoDbBilling
  /**
   * How long a checkpoint token may stay allocated but invisible before global readers presume its writer gone
   * and read past it (see docs/stores/dynamodb.md). 10 seconds by default; at least 1 second, or 0 to give up
   * the no-skipping guarantee (readers then never wait, and writers have no deadline).
   */
  readonly settleMs?: number
  /** Retries of a throttled request (`ProvisionedThroughputExceededException` and kin); 8 by default. */
  readonly maxRetries?: number
  /**
   * The largest commit accepted, in bytes of its headers' and events' JSON; 4 MiB by default. A commit whose item
   * would pass DynamoDB's 400 KB item limit is kept in chunks (docs/stores/dynamodb.md); larger ones are refused.
   */
  readonly maxCommitBytes?: number
  /** The store's name in messages; `dynamodb` by default. */
  readonly name?: string
}

/** A store on a client that the caller owns; `close()` leaves it open. */
export interface DynamoDbClientOptions extends DynamoDbCommonOptions {
  readonly client: DynamoDbClient
}

/**
 * A store that creates its own client from this configuration (region, credentials, endpoint; credentials come
 * from the AWS default provider chain when absent) and destroys it on `close()`.
 */
export interface DynamoDbConfigOptions extends DynamoDbCommonOptions {
  readonly clientConfig: DynamoDBClientConfig
}

export type DynamoDbStoreOptions = DynamoDbClientOptions | DynamoDbConfigOptions

/** Options after defaults and validation. */
export interface DynamoDbConfig {
  readonly name: string
  readonly commitsTable: string
  readonly snapshotsTable: string
  readonly pageSize: number
  readonly billing: DynamoDbBilling
  readonly settleMs: number
  readonly maxRetries: number
  readonly maxCommitBytes: number
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

export const defaults = {
  prefix: 'aett_',
  commits: 'commits',
  snapshots: 'snapshots',
  pageSize: 500,
  settleMs: 10_000,
  maxRetries: 8,
  maxCommitBytes: 4 * 1024 * 1024,
} as const

// DynamoDB's own rule for table names.
const tableName = /^[a-zA-Z0-9_.-]{3,255}$/

const positiveInt = (n: number): boolean => Number.isSafeInteger(n) && n >= 1

/** Applies defaults and checks what DynamoDB would otherwise reject later, less clearly. */
export const resolveConfig = (options: DynamoDbStoreOptions): E.Either<StorageError, DynamoDbConfig> => {
  const fail = (message: string) => E.left(storageError('configure', new Error(message)))
  const prefix = options.tables?.prefix ?? defaults.prefix
  const commitsTable = `${prefix}${options.tables?.commits ?? defaults.commits}`
  const snapshotsTable = `${prefix}${options.tables?.snapshots ?? defaults.snapshots}`
  for (const t of [commitsTable, snapshotsTable]) {
    if (!tableName.test(t)) return fail(`invalid DynamoDB table name ${JSON.stringify(t)}: 3-255 of [a-zA-Z0-9_.-]`)
  }
  if (commitsTable === snapshotsTable) return fail('the commits and snapshots tables need different names')
  const pageSize = options.pageSize ?? defaults.pageSize
  if (!positiveInt(pageSize)) return fail(`pageSize must be a positive integer, got ${String(pageSize)}`)
  const settleMs = options.settleMs ?? defaults.settleMs
  // A writer must send its put within half the window; below a second that fails on a slow network.
  if (!Number.isSafeInteger(settleMs) || (settleMs !== 0 && settleMs < 1_000)) {
    return fail(`settleMs must be 0 (readers never wait for tokens in flight) or an integer of at least 1000`)
  }
  const maxRetries = options.maxRetries ?? defaults.maxRetries
  if (!Number.isSafeInteger(maxRetries) || maxRetries < 0) return fail(`maxRetries must be a non-negative integer`)
  const maxCommitBytes = options.maxCommitBytes ?? defaults.maxCommitBytes
  if (!positiveInt(maxCommitBytes)) return fail(`maxCommitBytes must be a positive integer`)
  const billing = options.billing ?? { mode: 'PAY_PER_REQUEST' }
  if (billing.mode === 'PROVISIONED' && !(positiveInt(billing.readCapacityUnits) && positiveInt(billing.writeCapacityUnits))) {
    return fail('provisioned capacity units must be positive integers')
  }
  return E.right({
    name: options.name ?? 'dynamodb',
    commitsTable,
    snapshotsTable,
    pageSize,
    billing,
    settleMs,
    maxRetries,
    maxCommitBytes,
  })
}
