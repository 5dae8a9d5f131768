import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb'
import type { DynamoDbBilling, DynamoDbConfig } from './config.js'

/**
 * The table layout. One item per commit in the commits table, keyed by (stream key, commit sequence); two local
 * indexes on the same partition (by revision, by commit id) and two global ones (every commit by token, a
 * tenant's commits by token). Counters and fillers share the table under partition keys that start with `#`,
 * which no stream key does (those are JSON arrays, starting with `[`).
 */

// -------------------------------------------------------------------------------------
// attribute and index names
// -------------------------------------------------------------------------------------

export const A = {
  /** Partition key: the stream key, or a reserved `#...` key. */
  pk: 'pk',
  /** Sort key: commit sequence (snapshots: stream revision). */
  sk: 'sk',
  tenant: 't',
  stream: 's',
  revision: 'rev',
  /** Snapshots: the commit sequence they were taken at. */
  sequence: 'seq',
  firstRevision: 'frev',
  commitId: 'cid',
  stamp: 'ts',
  token: 'tok',
  /** The token this tenant allocated before this one (0 for its first): the tenant chain, see checkpoints.ts. */
  previous: 'ptok',
  /** Epoch ms at which the writer held its token; ages the holes before it (see checkpoints.ts). */
  allocatedAt: 'at',
  /** The constant partition of the global index. */
  global: 'gp',
  /** JSON of `{ h: headers, e: events }` (snapshots: of the payload). */
  body: 'b',
  /** A body too large for one item is kept in chunk items under this partition key (`#chunk...`)... */
  chunkKey: 'ck',
  /** ...and this many of them, sort keys 0 to n-1. */
  chunkCount: 'nc',
  /** On a chunk item: its bytes of the body's UTF-8. */
  data: 'd',
  /** Snapshot headers, JSON. */
  headers: 'h',
  /** Present (1) on fillers: index entries that hold a token's place without a commit. */
  filler: 'f',
  /** On counters: the last number handed out. */
  counter: 'n',
  /** On the global counter: tokens at or below it were purged. */
  floor: 'floor',
} as const

export const I = {
  byRevision: 'byRevision',
  byCommitId: 'byCommitId',
  byToken: 'byToken',
  byTenant: 'byTenant',
} as const

/** The value of the global index's only partition. */
export const GLOBAL_PARTITION = 'g'
export const GLOBAL_COUNTER = '#global'
export const FILLERS = '#filler'
export const CHUNK_PREFIX = '#chunk'
export const tenantCounter = (tenantId: string): string => `#tenant${JSON.stringify(tenantId)}`

/**
 * The partition key of a stream. A JSON array of the two ids is unambiguous: tenant `ab` + stream `c` is
 * `["ab","c"]`, tenant `a` + stream `bc` is `["a","bc"]`, whatever characters the ids contain.
 */
export const streamKey = (tenantId: string, streamId: string): string => JSON.stringify([tenantId, streamId])

// -------------------------------------------------------------------------------------
// limits
// -------------------------------------------------------------------------------------

export const MAX_ITEM_BYTES = 400 * 1024
export const MAX_PARTITION_KEY_BYTES = 2048
export const MAX_SORT_KEY_BYTES = 1024

export const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8')

// -------------------------------------------------------------------------------------
// tables
// -------------------------------------------------------------------------------------

const key = (name: string, type: 'HASH' | 'RANGE') => ({ AttributeName: name, KeyType: type }) as const

const throughput = (billing: DynamoDbBilling) =>
  billing.mode === 'PROVISIONED'
    ? { ProvisionedThroughput: { ReadCapacityUnits: billing.readCapacityUnits, WriteCapacityUnits: billing.writeCapacityUnits } }
    : {}

export const commitsTableInput = (config: DynamoDbConfig): CreateTableCommandInput => ({
  TableName: config.commitsTable,
  BillingMode: config.billing.mode,
  ...throughput(config.billing),
  AttributeDefinitions: [
    { AttributeName: A.pk, AttributeType: 'S' },
    { AttributeName: A.sk, AttributeType: 'N' },
    { AttributeName: A.revision, AttributeType: 'N' },
    { AttributeName: A.commitId, AttributeType: 'S' },
    { AttributeName: A.global, AttributeType: 'S' },
    { AttributeName: A.tenant, AttributeType: 'S' },
    { AttributeName: A.token, AttributeType: 'N' },
  ],
  KeySchema: [key(A.pk, 'HASH'), key(A.sk, 'RANGE')],
  // Local indexes read strongly consistent, which the append path needs; keys-only keeps them at 1 WCU a commit.
  LocalSecondaryIndexes: [
    { IndexName: I.byRevision, KeySchema: [key(A.pk, 'HASH'), key(A.revision, 'RANGE')], Projection: { ProjectionType: 'KEYS_ONLY' } },
    { IndexName: I.byCommitId, KeySchema: [key(A.pk, 'HASH'), key(A.commitId, 'RANGE')], Projection: { ProjectionType: 'KEYS_ONLY' } },
  ],
  GlobalSecondaryIndexes: [
    { IndexName: I.byToken, KeySchema: [key(A.global, 'HASH'), key(A.token, 'RANGE')], Projection: { ProjectionType: 'ALL' }, ...throughput(config.billing) },
    { IndexName: I.byTenant, KeySchema: [key(A.tenant, 'HASH'), key(A.token, 'RANGE')], Projection: { ProjectionType: 'ALL' }, ...throughput(config.billing) },
  ],
})

export const snapshotsTableInput = (config: DynamoDbConfig): CreateTableCommandInput => ({
  TableName: config.snapshotsTable,
  BillingMode: config.billing.mode,
  ...throughput(config.billing),
  AttributeDefinitions: [
    { AttributeName: A.pk, AttributeType: 'S' },
    { AttributeName: A.sk, AttributeType: 'N' },
  ],
  KeySchema: [key(A.pk, 'HASH'), key(A.sk, 'RANGE')],
})
