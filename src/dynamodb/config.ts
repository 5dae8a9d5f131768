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

/** Table names. The prefix is put in front of every name, so that several stores can share an account. */
export interface DynamoDbTableNames {
  /** Put in front of every name; `aett_` by default. */
  readonly prefix?: string
  /** `commits` by default. */
  readonly commits?: string
  /** `snapshots` by default. */
  readonly snapshots?: string
  /** Subscriptions' leases, checkpoints and parked commits; `subscriptions` by default. */
  readonly subscriptions?: string
  /** The documents of document projections (`aett/projections`); `documents` by default. */
  readonly documents?: string
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
  /**
   * How many feed shards the global log is split into (SEMANTICS 7), 1 to 256; 1 by default, which is one feed with
   * one strictly increasing token per store. Fixed per table: `initialize()` records it, and a store opened with
   * another count is refused. With more than one, each stream belongs to one shard (`feedShardOf`) and the log is
   * read one shard at a time, through `store.feed(k)` (docs/stores/dynamodb.md).
   */
  readonly feedShards?: number
}

/** A store on a client that the caller owns; `close()` leaves it open. */
export interface DynamoDbClientOptions extends DynamoDbCommonOptions {
  readonly client: DynamoDbClient
}

/**
 * A store that creates its own client from this configuration (region, credentials, endpoint; credentials come
 * from the AWS default provider chain when absent) on first use, and destroys it on `close()`.
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
  readonly subscriptionsTable: string
  readonly documentsTable: string
  readonly pageSize: number
  readonly billing: DynamoDbBilling
  readonly settleMs: number
  readonly maxRetries: number
  readonly maxCommitBytes: number
  /** Feed shards, 1 to `MAX_FEED_SHARDS`. */
  readonly feedShards: number
}

/** The most feed shards a table may have: each is a counter item and a token-index partition of its own. */
export const MAX_FEED_SHARDS = 256

/** Where the client comes from: the caller's (never closed by the store), or one the store creates and owns. */
export type ClientSource = { readonly given: DynamoDbClient } | { readonly create: DynamoDBClientConfig }

/** What `connect` needs: the resolved options and the client's source. */
export interface DynamoDbSettings {
  readonly config: DynamoDbConfig
  readonly client: ClientSource
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

export const defaults = {
  name: 'dynamodb',
  prefix: 'aett_',
  commits: 'commits',
  snapshots: 'snapshots',
  subscriptions: 'subscriptions',
  documents: 'documents',
  pageSize: 500,
  settleMs: 10_000,
  maxRetries: 8,
  maxCommitBytes: 4 * 1024 * 1024,
  feedShards: 1,
} as const

// DynamoDB's own rule for table names.
const tableName = /^[a-zA-Z0-9_.-]{3,255}$/

const positiveInt = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 1

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null

/**
 * Applies defaults and checks what DynamoDB would otherwise reject later, less clearly. Anything a plain
 * JavaScript caller passes (undefined, null, a string, a client without `send`) is a `Left`, never a throw.
 */
export const resolveOptions = (input: DynamoDbStoreOptions | undefined): E.Either<StorageError, DynamoDbSettings> => {
  const fail = (message: string) => E.left(storageError('configure dynamodb store', new TypeError(message)))
  const o = input as unknown
  if (!isObject(o)) return fail(`options must be an object with a client or a clientConfig, got ${o === null ? 'null' : typeof o}`)
  const hasClient = o['client'] !== undefined
  const hasConfig = o['clientConfig'] !== undefined
  if (hasClient === hasConfig) return fail('pass exactly one of client and clientConfig')
  const client = o['client'] as { send?: unknown } | undefined
  if (hasClient && !(isObject(client) && typeof client.send === 'function')) return fail('client must have a send(command) method')
  if (hasConfig && !isObject(o['clientConfig'])) return fail('clientConfig must be an object')
  const tables = (o['tables'] ?? {}) as Record<string, unknown>
  if (!isObject(tables)) return fail('tables must be an object')
  for (const k of ['prefix', 'commits', 'snapshots', 'subscriptions', 'documents'] as const) {
    if (tables[k] !== undefined && typeof tables[k] !== 'string') return fail(`tables.${k} must be a string`)
  }
  const names = tables as DynamoDbTableNames
  const prefix = names.prefix ?? defaults.prefix
  const commitsTable = `${prefix}${names.commits ?? defaults.commits}`
  const snapshotsTable = `${prefix}${names.snapshots ?? defaults.snapshots}`
  const subscriptionsTable = `${prefix}${names.subscriptions ?? defaults.subscriptions}`
  const documentsTable = `${prefix}${names.documents ?? defaults.documents}`
  const all = [commitsTable, snapshotsTable, subscriptionsTable, documentsTable]
  for (const t of all) {
    if (!tableName.test(t)) return fail(`invalid DynamoDB table name ${JSON.stringify(t)}: 3-255 of [a-zA-Z0-9_.-]`)
  }
  if (new Set(all).size !== all.length) return fail('the commits, snapshots, subscriptions and documents tables need different names')
  const options = o as DynamoDbCommonOptions
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
  const billing = (options.billing ?? { mode: 'PAY_PER_REQUEST' }) as DynamoDbBilling
  if (!isObject(billing) || (billing.mode !== 'PAY_PER_REQUEST' && billing.mode !== 'PROVISIONED')) {
    return fail(`billing.mode must be PAY_PER_REQUEST or PROVISIONED`)
  }
  if (billing.mode === 'PROVISIONED' && !(positiveInt(billing.readCapacityUnits) && positiveInt(billing.writeCapacityUnits))) {
    return fail('provisioned capacity units must be positive integers')
  }
  const name = options.name ?? defaults.name
  if (typeof name !== 'string' || name.length === 0) return fail('name must be a non-empty string')
  const feedShards = options.feedShards ?? defaults.feedShards
  if (!positiveInt(feedShards) || feedShards > MAX_FEED_SHARDS) return fail(`feedShards must be an integer from 1 to ${MAX_FEED_SHARDS}, got ${String(feedShards)}`)
  return E.right({
    config: { name, commitsTable, snapshotsTable, subscriptionsTable, documentsTable, pageSize, billing, settleMs, maxRetries, maxCommitBytes, feedShards },
    client: hasClient ? { given: client as DynamoDbClient } : { create: o['clientConfig'] as DynamoDBClientConfig },
  })
}
