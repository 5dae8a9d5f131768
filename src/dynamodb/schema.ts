import type { CreateTableCommandInput, TableDescription } from '@aws-sdk/client-dynamodb'
import { utf8Length } from '../eventstore/adapter/ids.js'
import type { DynamoDbBilling, DynamoDbConfig } from './config.js'
import { sleep } from './connection.js'
import type { DynamoDbContext } from './context.js'
import { isResourceInUse, isResourceNotFound } from './errors.js'

/**
 * The table layout. One item per commit in the commits table, keyed by (stream key, commit sequence); two local
 * indexes on the same partition (by revision, by commit id) and two global ones (every commit by token, a
 * tenant's commits by token). Counters and fillers share the table under partition keys that start with `#`,
 * which no stream key does (those start with a digit). The subscriptions table (added in 0.2) keeps, under one
 * partition per subscription name, the lease item (lease, checkpoint and the index of parked commits) and one
 * item per parked commit.
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
  /**
   * On a shard's counter: map of tenant id -> its last count in the shard (the n of its last token, shards.ts), for
   * the tenants whose chain it keeps (checkpoints.ts).
   */
  tenantLinks: 'tl',
  /** On the shard-0 counter: the table's number of feed shards, recorded by `initialize()` (absent: 1). */
  feedShards: 'fs',
  /**
   * On tables of more than one shard: the key of the tenant index, `<shard>:<tenant id>`, so that a tenant's index
   * partition is per (tenant, shard) and one busy tenant does not cap the store (one shard keys it on `t`).
   */
  tenantShard: 'tsh',
} as const

/** Attributes of the subscriptions table's items (`pk` is the subscription name, `sk` the kind of item). */
export const SA = {
  pk: 'pk',
  sk: 'sk',
  holder: 'h',
  epoch: 'e',
  /** Epoch ms by the writer's clock. */
  expiresAt: 'x',
  /** BOOL: given up, so that it no longer fences. */
  released: 'r',
  /** JSON of the checkpoint's positions. */
  checkpoint: 'c',
  /** Map of parked token -> the write id of its current record item. */
  parked: 'p',
  // a parked commit's record item:
  token: 'tok',
  tenant: 't',
  stream: 's',
  /** JSON of the error. */
  error: 'err',
  parkedAt: 'at',
} as const

/**
 * Attributes of the documents table's items (document projections). A live document has them all; a tombstone (a
 * document that `evolve` deleted) keeps its key, tenant, token, version and replayed tokens but neither the
 * document nor the projection, so that reads skip it and the projection index (sparse) does not hold it.
 */
export const DA = {
  /** Partition key: the projection and the tenant, `documentPartition`. */
  pk: 'pk',
  /** Sort key: the document's id, as it is. */
  sk: 'sk',
  /** The projection's name: the hash key of the projection index (absent on a tombstone). */
  projection: 'pr',
  tenant: 't',
  /** The document's JSON text (absent on a tombstone). */
  document: 'd',
  /** The checkpoint token of the last commit applied to the document (a replay of a parked commit aside). */
  token: 'tok',
  /** NS: the tokens of parked commits replayed into the document (at or below `tok`). */
  replayed: 'rp',
  /** Grows with every write: the compare-and-set of the next one. */
  version: 'v',
} as const

/**
 * The partition of a projection's documents of one tenant: the projection's length in UTF-8 bytes, a colon, the
 * projection and the tenant id, as `streamKey` is made: the length says where the projection ends, so no tenant
 * id reaches another projection's partition (`ab` + `c` is `2:abc`, `a` + `bc` is `1:abc`). The id is the sort key,
 * a key part of its own. At most 3 + 1 + 256 + 256 = 516 bytes.
 */
export const documentPartition = (projection: string, tenantId: string): string => `${utf8Length(projection)}:${projection}${tenantId}`

/** The sort key of a subscription's lease item. */
export const LEASE_ITEM = 'L'
/** Parked records sort by token: `P`, the token in 16 digits (any safe integer), `#`, the write id. */
export const PARKED_PREFIX = 'P'
export const parkedKey = (token: number, writeId: string): string => `${PARKED_PREFIX}${String(token).padStart(16, '0')}#${writeId}`

export const I = {
  byRevision: 'byRevision',
  byCommitId: 'byCommitId',
  byToken: 'byToken',
  byTenant: 'byTenant',
  /** The documents table: a projection's live documents, of every tenant. */
  byProjection: 'byProjection',
} as const

/** The value of the global index's only partition (of shard 0's, on a table of several shards). */
export const GLOBAL_PARTITION = 'g'
export const GLOBAL_COUNTER = '#global'
export const FILLERS = '#filler'
export const CHUNK_PREFIX = '#chunk'
const TENANT_COUNTER = '#tenant'

/** Shard k's partition of the token index: `g` for shard 0 (a table of one shard has only it), `g<k>` beyond. */
export const shardPartition = (shard: number): string => (shard === 0 ? GLOBAL_PARTITION : `${GLOBAL_PARTITION}${shard}`)
/** Shard k's counter item: `#global` for shard 0, `#global#<k>` beyond. */
export const shardCounter = (shard: number): string => (shard === 0 ? GLOBAL_COUNTER : `${GLOBAL_COUNTER}#${shard}`)
/**
 * A tenant's counter in a shard: `#tenant` and the id's JSON for shard 0 (as before shards), `#tenant#<k>` and the
 * JSON beyond (JSON starts with a quote, so the two never meet). At most 7 + 4 + 2 + 6 × 256 = 1,549 bytes (JSON
 * escapes a control character to 6).
 */
export const tenantCounter = (tenantId: string, shard = 0): string => `${TENANT_COUNTER}${shard === 0 ? '' : `#${shard}`}${JSON.stringify(tenantId)}`
/** The tenant index's partition value of a tenant in a shard, on a table of several shards. */
export const tenantShardKey = (tenantId: string, shard: number): string => `${shard}:${tenantId}`
export const isCounterKey = (pk: string): boolean => pk.startsWith(GLOBAL_COUNTER) || pk.startsWith(TENANT_COUNTER)

/**
 * The partition key of a stream: the tenant id's length in UTF-8 bytes, a colon, the tenant id and the stream id.
 * The length says where the tenant ends, so the key is unambiguous whatever the ids hold (tenant `ab` + stream
 * `c` is `2:abc`, tenant `a` + stream `bc` is `1:abc`), and it never grows beyond the ids themselves: at the
 * limits of `ID_LIMITS` it is `256:` + 256 + 1,024 = 1,284 bytes, within DynamoDB's 2,048 (a JSON encoding, as
 * in 0.1, grows a control character to 6 bytes and could pass it). The length is counted in UTF-8 bytes, which
 * is what DynamoDB stores, so that tools in any language can split a key.
 */
export const streamKey = (tenantId: string, streamId: string): string => `${utf8Length(tenantId)}:${tenantId}${streamId}`

// -------------------------------------------------------------------------------------
// limits
// -------------------------------------------------------------------------------------

export const MAX_ITEM_BYTES = 400 * 1024
/** DynamoDB's limits for keys; ids within `ID_LIMITS` always fit them (see `streamKey` and `tenantCounter`). */
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

/** The attribute the tenant index is keyed on: the tenant id on a table of one shard, (shard, tenant) beyond. */
export const tenantIndexKey = (config: Pick<DynamoDbConfig, 'feedShards'>): string => (config.feedShards > 1 ? A.tenantShard : A.tenant)

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
    { AttributeName: tenantIndexKey(config), AttributeType: 'S' },
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
    { IndexName: I.byTenant, KeySchema: [key(tenantIndexKey(config), 'HASH'), key(A.token, 'RANGE')], Projection: { ProjectionType: 'ALL' }, ...throughput(config.billing) },
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

/** Added in 0.2: a store initialised by 0.1 gains it on its next `initialize()`. */
export const subscriptionsTableInput = (config: DynamoDbConfig): CreateTableCommandInput => ({
  TableName: config.subscriptionsTable,
  BillingMode: config.billing.mode,
  ...throughput(config.billing),
  AttributeDefinitions: [
    { AttributeName: SA.pk, AttributeType: 'S' },
    { AttributeName: SA.sk, AttributeType: 'S' },
  ],
  KeySchema: [key(SA.pk, 'HASH'), key(SA.sk, 'RANGE')],
})

/**
 * Added in 0.2 with document projections: one item per (projection, tenant, id), and a sparse global index of each
 * projection's live documents (tombstones have no `pr`) for reads across tenants.
 */
export const documentsTableInput = (config: DynamoDbConfig): CreateTableCommandInput => ({
  TableName: config.documentsTable,
  BillingMode: config.billing.mode,
  ...throughput(config.billing),
  AttributeDefinitions: [
    { AttributeName: DA.pk, AttributeType: 'S' },
    { AttributeName: DA.sk, AttributeType: 'S' },
    { AttributeName: DA.projection, AttributeType: 'S' },
  ],
  KeySchema: [key(DA.pk, 'HASH'), key(DA.sk, 'RANGE')],
  GlobalSecondaryIndexes: [
    { IndexName: I.byProjection, KeySchema: [key(DA.projection, 'HASH'), key(DA.pk, 'RANGE')], Projection: { ProjectionType: 'ALL' }, ...throughput(config.billing) },
  ],
})

/**
 * The tables, in the order the store's versions added them: what `initialize()` creates when missing. DynamoDB has
 * no schema beyond keys and indexes, so a step is a table; a store of an older version gains the later tables.
 */
export const tableSteps = (config: DynamoDbConfig): readonly { readonly since: string; readonly tables: readonly CreateTableCommandInput[] }[] => [
  { since: '0.1', tables: [commitsTableInput(config), snapshotsTableInput(config)] },
  { since: '0.2', tables: [subscriptionsTableInput(config), documentsTableInput(config)] },
]

// -------------------------------------------------------------------------------------
// creating and deleting the tables
// -------------------------------------------------------------------------------------

/** Real DynamoDB takes seconds to minutes to create or delete a table. */
const maxWaitMs = 10 * 60_000

const describe = async (ctx: DynamoDbContext, table: string): Promise<TableDescription | undefined> => {
  try {
    return (await ctx.connection.send('DescribeTable', { TableName: table })).Table
  } catch (cause) {
    if (isResourceNotFound(cause)) return undefined
    throw cause
  }
}

const ready = (t: TableDescription): boolean =>
  t.TableStatus === 'ACTIVE' && (t.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE')

const waitFor = async (what: string, done: () => Promise<boolean>): Promise<void> => {
  const start = Date.now()
  for (let delay = 20; !(await done()); delay = Math.min(delay * 2, 2_000)) {
    if (Date.now() - start > maxWaitMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(delay)
  }
}

/** Checks that an existing table has the indexes this store reads, rather than failing later. */
const checkIndexes = (input: CreateTableCommandInput, t: TableDescription): void => {
  const have = new Set([...(t.LocalSecondaryIndexes ?? []), ...(t.GlobalSecondaryIndexes ?? [])].map((i) => i.IndexName))
  const wanted = [...(input.LocalSecondaryIndexes ?? []), ...(input.GlobalSecondaryIndexes ?? [])].map((i) => i.IndexName)
  const missing = wanted.filter((name) => !have.has(name))
  if (missing.length > 0) throw new Error(`table ${input.TableName} exists without the indexes ${missing.join(', ')}`)
}

const ensure = async (ctx: DynamoDbContext, input: CreateTableCommandInput): Promise<void> => {
  const table = input.TableName as string
  if ((await describe(ctx, table)) === undefined) {
    try {
      await ctx.connection.send('CreateTable', input)
    } catch (cause) {
      // Another process is creating it at the same moment: wait for theirs.
      if (!isResourceInUse(cause)) throw cause
    }
  }
  let last: TableDescription | undefined
  await waitFor(`table ${table} to become ACTIVE`, async () => {
    last = await describe(ctx, table)
    return last !== undefined && ready(last)
  })
  if (last !== undefined) checkIndexes(input, last)
}

/** Creates every table that is missing and waits until they and their indexes are ACTIVE. Idempotent. */
export const createTables = async (ctx: DynamoDbContext): Promise<void> => {
  await Promise.all(tableSteps(ctx.config).flatMap((step) => step.tables.map((input) => ensure(ctx, input))))
}

const remove = async (ctx: DynamoDbContext, table: string): Promise<void> => {
  await waitFor(`table ${table} to be deleted`, async () => {
    const t = await describe(ctx, table)
    if (t === undefined) return true
    // A table can only be deleted once it is ACTIVE; one that is being created or deleted is waited for.
    if (t.TableStatus === 'ACTIVE') {
      try {
        await ctx.connection.send('DeleteTable', { TableName: table })
      } catch (cause) {
        if (!isResourceNotFound(cause) && !isResourceInUse(cause)) throw cause
      }
    }
    return false
  })
}

/** Deletes every table and waits until they are gone. */
export const deleteTables = async (ctx: DynamoDbContext): Promise<void> => {
  const { commitsTable, snapshotsTable, subscriptionsTable, documentsTable } = ctx.config
  await Promise.all([commitsTable, snapshotsTable, subscriptionsTable, documentsTable].map((table) => remove(ctx, table)))
}
