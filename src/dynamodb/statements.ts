import type { DeleteItemCommandInput, GetItemCommandInput, PutItemCommandInput, QueryCommandInput, ScanCommandInput, UpdateItemCommandInput, WriteRequest } from '@aws-sdk/client-dynamodb'
import type { DynamoDbConfig } from './config.js'
import type { Item } from './connection.js'
import { N, S } from './rows.js'
import { A, DA, documentPartition, I, LEASE_ITEM, PARKED_PREFIX, SA, shardCounter, shardPartition, tenantCounter, tenantIndexKey, tenantShardKey } from './schema.js'

/**
 * Every request the store sends, as data: the command inputs, built from the table names and the values. Paging
 * (`Limit`, `ExclusiveStartKey`) is added by paging.ts.
 */

type Tables = Pick<DynamoDbConfig, 'commitsTable' | 'snapshotsTable' | 'subscriptionsTable' | 'documentsTable' | 'feedShards'>

// -------------------------------------------------------------------------------------
// a stream's partition of the commits table
// -------------------------------------------------------------------------------------

/** The stream's head: the newest entry of the keys-only revision index, strongly consistent. */
export const headQuery = (t: Tables, pk: string): QueryCommandInput => ({
  TableName: t.commitsTable,
  IndexName: I.byRevision,
  KeyConditionExpression: '#pk = :pk',
  ExpressionAttributeNames: { '#pk': A.pk },
  ExpressionAttributeValues: { ':pk': S(pk) },
  ScanIndexForward: false,
  ConsistentRead: true,
})

/** Whether the stream holds a commit id, from the keys-only commit id index. */
export const commitIdQuery = (t: Tables, pk: string, commitId: string): QueryCommandInput => ({
  TableName: t.commitsTable,
  IndexName: I.byCommitId,
  KeyConditionExpression: '#pk = :pk AND #cid = :cid',
  ExpressionAttributeNames: { '#pk': A.pk, '#cid': A.commitId },
  ExpressionAttributeValues: { ':pk': S(pk), ':cid': S(commitId) },
  ConsistentRead: true,
})

/** Puts a commit item on condition that its (stream, sequence) key is free: of two writers, one wins. */
export const commitPut = (t: Tables, item: Item): PutItemCommandInput => ({
  TableName: t.commitsTable,
  Item: item,
  ConditionExpression: 'attribute_not_exists(#pk)',
  ExpressionAttributeNames: { '#pk': A.pk },
})

/** The commit item at a sequence, strongly consistent. */
export const commitGet = (t: Tables, pk: string, commitSequence: number): GetItemCommandInput => ({
  TableName: t.commitsTable,
  Key: { [A.pk]: S(pk), [A.sk]: N(commitSequence) },
  ConsistentRead: true,
})

/** The first commit whose last revision reaches `minRevision`, from the revision index. */
export const sequenceFromQuery = (t: Tables, pk: string, minRevision: number): QueryCommandInput => ({
  TableName: t.commitsTable,
  IndexName: I.byRevision,
  KeyConditionExpression: '#pk = :pk AND #rev >= :min',
  ExpressionAttributeNames: { '#pk': A.pk, '#rev': A.revision },
  ExpressionAttributeValues: { ':pk': S(pk), ':min': N(minRevision) },
  ConsistentRead: true,
})

/** The stream's commits from a sequence on, strongly consistent. */
export const streamFromQuery = (t: Tables, pk: string, fromSequence: number): QueryCommandInput => ({
  TableName: t.commitsTable,
  KeyConditionExpression: '#pk = :pk AND #sk >= :from',
  ExpressionAttributeNames: { '#pk': A.pk, '#sk': A.sk },
  ExpressionAttributeValues: { ':pk': S(pk), ':from': N(fromSequence) },
  ConsistentRead: true,
})

/** The stream's newest commits first (a load's first page, read alongside the snapshot), strongly consistent. */
export const streamNewestQuery = (t: Tables, pk: string): QueryCommandInput => ({
  TableName: t.commitsTable,
  KeyConditionExpression: '#pk = :pk',
  ExpressionAttributeNames: { '#pk': A.pk },
  ExpressionAttributeValues: { ':pk': S(pk) },
  ScanIndexForward: false,
  ConsistentRead: true,
})

/** The stream's commits stamped at or before `maxTime` (epoch ms). */
export const streamToQuery = (t: Tables, pk: string, maxTime: number): QueryCommandInput => ({
  TableName: t.commitsTable,
  KeyConditionExpression: '#pk = :pk',
  FilterExpression: '#ts <= :max',
  ExpressionAttributeNames: { '#pk': A.pk, '#ts': A.stamp },
  ExpressionAttributeValues: { ':pk': S(pk), ':max': N(maxTime) },
  ConsistentRead: true,
})

/** Every item of a stream's partition, whole (deleteStream replaces each by a filler). */
export const streamItemsQuery = (t: Tables, pk: string): QueryCommandInput => ({
  TableName: t.commitsTable,
  KeyConditionExpression: '#pk = :pk',
  ExpressionAttributeNames: { '#pk': A.pk },
  ExpressionAttributeValues: { ':pk': S(pk) },
  ConsistentRead: true,
})

// -------------------------------------------------------------------------------------
// a tenant's commits (the byTenant index) and the global order (byToken)
// -------------------------------------------------------------------------------------

/** A tenant's partition of the tenant index: its id, or on a table of several shards its (shard, id) key. */
const tenantPartitionValue = (t: Tables, tenantId: string, shard: number) => S(t.feedShards > 1 ? tenantShardKey(tenantId, shard) : tenantId)

/** A tenant's commits stamped at or before `maxTime`, in token order, without fillers. */
export const tenantToQuery = (t: Tables, tenantId: string, maxTime: number, shard = 0): QueryCommandInput => ({
  TableName: t.commitsTable,
  IndexName: I.byTenant,
  KeyConditionExpression: '#t = :t',
  FilterExpression: '#ts <= :max AND attribute_not_exists(#f)',
  ExpressionAttributeNames: { '#t': tenantIndexKey(t), '#ts': A.stamp, '#f': A.filler },
  ExpressionAttributeValues: { ':t': tenantPartitionValue(t, tenantId, shard), ':max': N(maxTime) },
})

/** The stream and revision of each of a tenant's entries (fillers marked), for streamsToSnapshot. */
export const tenantHeadsQuery = (t: Tables, tenantId: string, shard = 0): QueryCommandInput => ({
  TableName: t.commitsTable,
  IndexName: I.byTenant,
  KeyConditionExpression: '#t = :t',
  ProjectionExpression: '#s, #rev, #f',
  ExpressionAttributeNames: { '#t': tenantIndexKey(t), '#s': A.stream, '#rev': A.revision, '#f': A.filler },
  ExpressionAttributeValues: { ':t': tenantPartitionValue(t, tenantId, shard) },
})

/** Every entry of a tenant, whole (purge replaces each commit by a filler). */
export const tenantItemsQuery = (t: Tables, tenantId: string, shard = 0): QueryCommandInput => ({
  TableName: t.commitsTable,
  IndexName: I.byTenant,
  KeyConditionExpression: '#t = :t',
  ExpressionAttributeNames: { '#t': tenantIndexKey(t) },
  ExpressionAttributeValues: { ':t': tenantPartitionValue(t, tenantId, shard) },
})

/** A shard's entries with a token in `[lo, hi]`, ascending: of every tenant (byToken), or of one (byTenant). */
export const tokenRangeQuery = (t: Tables, lo: number, hi: number, tenantId: string | undefined, shard = 0): QueryCommandInput => ({
  TableName: t.commitsTable,
  IndexName: tenantId === undefined ? I.byToken : I.byTenant,
  KeyConditionExpression: '#p = :p AND #tok BETWEEN :lo AND :hi',
  ExpressionAttributeNames: { '#p': tenantId === undefined ? A.global : tenantIndexKey(t), '#tok': A.token },
  ExpressionAttributeValues: { ':p': tenantId === undefined ? S(shardPartition(shard)) : tenantPartitionValue(t, tenantId, shard), ':lo': N(lo), ':hi': N(hi) },
})

// -------------------------------------------------------------------------------------
// counters and fillers
// -------------------------------------------------------------------------------------

const counterKey = (pk: string): Item => ({ [A.pk]: S(pk), [A.sk]: N(0) })

/** Takes the shard's next count (atomic `ADD`), answering the new value. */
export const nextTokenUpdate = (t: Tables, shard = 0): UpdateItemCommandInput => ({
  TableName: t.commitsTable,
  Key: counterKey(shardCounter(shard)),
  UpdateExpression: 'ADD #n :one',
  ExpressionAttributeNames: { '#n': A.counter },
  ExpressionAttributeValues: { ':one': N(1) },
  ReturnValues: 'UPDATED_NEW',
})

/** Moves a tenant's chain to `token` if it is the highest yet, answering the previous link. */
export const linkTokenUpdate = (t: Tables, tenantId: string, token: number, shard = 0): UpdateItemCommandInput => ({
  TableName: t.commitsTable,
  Key: counterKey(tenantCounter(tenantId, shard)),
  UpdateExpression: 'SET #n = :token',
  ConditionExpression: 'attribute_not_exists(#n) OR #n < :token',
  ExpressionAttributeNames: { '#n': A.counter },
  ExpressionAttributeValues: { ':token': N(token) },
  ReturnValues: 'UPDATED_OLD',
})

/**
 * Takes the next global token and links it into the chain of a tenant that the counter item keeps, in one atomic
 * update: both right-hand sides read the item as it was, so the tenant's entry becomes the new token, and the
 * old values (`UPDATED_OLD`) are the token before it and the tenant's previous one. The condition admits the
 * tenants already in the map, and new ones while it holds fewer than `maxTenants`.
 */
export const nextLinkedTokenUpdate = (t: Tables, tenantId: string, maxTenants: number, shard = 0): UpdateItemCommandInput => ({
  TableName: t.commitsTable,
  Key: counterKey(shardCounter(shard)),
  UpdateExpression: 'SET #n = if_not_exists(#n, :zero) + :one, #tl.#t = if_not_exists(#n, :zero) + :one',
  ConditionExpression: 'attribute_exists(#tl.#t) OR (attribute_exists(#tl) AND size(#tl) < :max)',
  ExpressionAttributeNames: { '#n': A.counter, '#tl': A.tenantLinks, '#t': tenantId },
  ExpressionAttributeValues: { ':zero': N(0), ':one': N(1), ':max': N(maxTenants) },
  ReturnValues: 'UPDATED_OLD',
})

/**
 * Gives a counter that never handed out a token the map of tenant links. A counter that did keeps the tenant chains
 * in their own items for good (a store of 0.2 with commits), so that no tenant ever has two chains.
 */
export const tenantLinksCreate = (t: Tables, shard = 0): UpdateItemCommandInput => ({
  TableName: t.commitsTable,
  Key: counterKey(shardCounter(shard)),
  UpdateExpression: 'SET #tl = if_not_exists(#tl, :empty)',
  ConditionExpression: 'attribute_not_exists(#n)',
  ExpressionAttributeNames: { '#n': A.counter, '#tl': A.tenantLinks },
  ExpressionAttributeValues: { ':empty': { M: {} } },
})

/** A shard's counter (its `floor`, its tenant links; on shard 0 the shard count), strongly consistent. */
export const globalCounterGet = (t: Tables, shard = 0): GetItemCommandInput => ({
  TableName: t.commitsTable,
  Key: counterKey(shardCounter(shard)),
  ConsistentRead: true,
})

/** Raises the shard's floor to the last count it handed out (readers turn it into that count's token). */
export const raiseFloorUpdate = (t: Tables, shard = 0): UpdateItemCommandInput => ({
  TableName: t.commitsTable,
  Key: counterKey(shardCounter(shard)),
  UpdateExpression: 'SET #floor = if_not_exists(#n, :zero)',
  ExpressionAttributeNames: { '#floor': A.floor, '#n': A.counter },
  ExpressionAttributeValues: { ':zero': N(0) },
})

/**
 * Records the table's shard count on the shard-0 counter if none is recorded, answering the item after: the count
 * recorded first wins, and a store opened with another one learns it. A table without the attribute has one shard.
 */
export const feedShardsRecord = (t: Tables): UpdateItemCommandInput => ({
  TableName: t.commitsTable,
  Key: counterKey(shardCounter(0)),
  UpdateExpression: 'SET #fs = if_not_exists(#fs, :fs)',
  ExpressionAttributeNames: { '#fs': A.feedShards },
  ExpressionAttributeValues: { ':fs': N(t.feedShards) },
  ReturnValues: 'ALL_NEW',
})

/** An unconditional put into the commits table (fillers). */
export const commitsTablePut = (t: Tables, item: Item): PutItemCommandInput => ({ TableName: t.commitsTable, Item: item })

// -------------------------------------------------------------------------------------
// chunks and batches
// -------------------------------------------------------------------------------------

/** A body's chunks, in order, strongly consistent. */
export const chunksQuery = (t: Tables, chunkKey: string): QueryCommandInput => ({
  TableName: t.commitsTable,
  KeyConditionExpression: '#pk = :pk',
  ExpressionAttributeNames: { '#pk': A.pk },
  ExpressionAttributeValues: { ':pk': S(chunkKey) },
  ConsistentRead: true,
})

export const putRequest = (item: Item): WriteRequest => ({ PutRequest: { Item: item } })

/** A delete of an item by its key attributes. */
export const deleteRequest = (item: Item): WriteRequest => ({ DeleteRequest: { Key: { [A.pk]: item[A.pk] ?? S(''), [A.sk]: item[A.sk] ?? N(0) } } })

// -------------------------------------------------------------------------------------
// snapshots
// -------------------------------------------------------------------------------------

/** The newest snapshot at or below `maxRevision`, strongly consistent. */
export const snapshotQuery = (t: Tables, pk: string, maxRevision: number): QueryCommandInput => ({
  TableName: t.snapshotsTable,
  KeyConditionExpression: '#pk = :pk AND #sk <= :max',
  ExpressionAttributeNames: { '#pk': A.pk, '#sk': A.sk },
  ExpressionAttributeValues: { ':pk': S(pk), ':max': N(maxRevision) },
  ScanIndexForward: false,
  ConsistentRead: true,
})

/** Stores a snapshot; one at the same revision is replaced. */
export const snapshotPut = (t: Tables, item: Item): PutItemCommandInput => ({ TableName: t.snapshotsTable, Item: item })

const keysOnly = { ProjectionExpression: '#pk, #sk', ExpressionAttributeNames: { '#pk': A.pk, '#sk': A.sk } }

/** The keys of a stream's snapshots. */
export const snapshotKeysQuery = (t: Tables, pk: string): QueryCommandInput => ({
  TableName: t.snapshotsTable,
  KeyConditionExpression: '#pk = :pk',
  ExpressionAttributeValues: { ':pk': S(pk) },
  ...keysOnly,
  ConsistentRead: true,
})

/** The keys of a tenant's snapshots: a Scan, since a purge is rare and an index would cost on every snapshot. */
export const tenantSnapshotKeysScan = (t: Tables, tenantId: string): ScanCommandInput => ({
  TableName: t.snapshotsTable,
  FilterExpression: '#t = :t',
  ProjectionExpression: '#pk, #sk',
  ExpressionAttributeNames: { '#pk': A.pk, '#sk': A.sk, '#t': A.tenant },
  ExpressionAttributeValues: { ':t': S(tenantId) },
})

/** The keys of every item of a table. */
export const allKeysScan = (table: string): ScanCommandInput => ({ TableName: table, ...keysOnly })

// -------------------------------------------------------------------------------------
// the catalog: streams and tenants (an operator's tool: a Scan, see snapshotStore.ts)
// -------------------------------------------------------------------------------------

/**
 * The keys of every commit of the store, or of one tenant's (its stream keys start with the tenant's prefix),
 * from the keys-only `byRevision` index: only commits have a revision, so counters, fillers and chunks are not in it.
 */
export const commitKeysScan = (t: Tables, streamKeyPrefix: string | undefined): ScanCommandInput => ({
  TableName: t.commitsTable,
  IndexName: I.byRevision,
  ProjectionExpression: '#pk',
  ExpressionAttributeNames: { '#pk': A.pk },
  ...(streamKeyPrefix === undefined ? {} : { FilterExpression: 'begins_with(#pk, :p)', ExpressionAttributeValues: { ':p': S(streamKeyPrefix) } }),
})

/** A stream's head commit: its sequence, revision, stamp and stream id, strongly consistent. */
export const streamHeadQuery = (t: Tables, pk: string): QueryCommandInput => ({
  TableName: t.commitsTable,
  KeyConditionExpression: '#pk = :pk',
  ProjectionExpression: '#sk, #rev, #ts, #s',
  ExpressionAttributeNames: { '#pk': A.pk, '#sk': A.sk, '#rev': A.revision, '#ts': A.stamp, '#s': A.stream },
  ExpressionAttributeValues: { ':pk': S(pk) },
  ScanIndexForward: false,
  ConsistentRead: true,
})

// -------------------------------------------------------------------------------------
// subscriptions: one lease item per name (lease, checkpoint, index of parked commits) and parked records
// -------------------------------------------------------------------------------------

const leaseKey = (name: string): Item => ({ [SA.pk]: S(name), [SA.sk]: S(LEASE_ITEM) })

/** The fence: the lease item still has this holder and epoch, and was not given up. */
const fence = '#h = :h AND #e = :e AND #r = :false'
const fenceNames = { '#h': SA.holder, '#e': SA.epoch, '#r': SA.released }
const fenceValues = (holder: string, epoch: number): Item => ({ ':h': S(holder), ':e': N(epoch), ':false': { BOOL: false } })

/** The lease item of `name`, strongly consistent. */
export const leaseGet = (t: Tables, name: string): GetItemCommandInput => ({ TableName: t.subscriptionsTable, Key: leaseKey(name), ConsistentRead: true })

/** What the take of a lease was conditioned on: the lease item as it was read (absent, or free at `now`). */
export type TakeCondition = { readonly absent: true } | { readonly epoch: number; readonly now: number }

const takeCondition = (c: TakeCondition): { readonly expression: string; readonly values: Item } =>
  'absent' in c
    ? { expression: 'attribute_not_exists(#e)', values: {} }
    : { expression: '#e = :was AND (#r = :true OR #x <= :now)', values: { ':was': N(c.epoch), ':true': { BOOL: true }, ':now': N(c.now) } }

/**
 * Takes a free lease (never held, released, or expired when it was read) with the next epoch, on condition that
 * nobody took or renewed it since. With `reset`, also writes (or, `undefined`, removes) the checkpoint and gives the
 * lease up in the same write: a reset fences every former holder and leaves the lease free.
 */
export const leaseTake = (
  t: Tables,
  name: string,
  lease: { readonly holder: string; readonly epoch: number; readonly expiresAt: number; readonly released: boolean },
  condition: TakeCondition,
  reset?: { readonly checkpoint: string | undefined },
): UpdateItemCommandInput => {
  const c = takeCondition(condition)
  const sets = ['#h = :h', '#e = :e', '#x = :x', '#r = :r', '#p = if_not_exists(#p, :empty)']
  const values: Item = { ':h': S(lease.holder), ':e': N(lease.epoch), ':x': N(lease.expiresAt), ':r': { BOOL: lease.released }, ':empty': { M: {} }, ...c.values }
  let update = `SET ${sets.join(', ')}`
  if (reset !== undefined && reset.checkpoint !== undefined) {
    update += ', #c = :c'
    values[':c'] = S(reset.checkpoint)
  } else if (reset !== undefined) update += ' REMOVE #c'
  return {
    TableName: t.subscriptionsTable,
    Key: leaseKey(name),
    UpdateExpression: update,
    ConditionExpression: c.expression,
    ExpressionAttributeNames: { '#h': SA.holder, '#e': SA.epoch, '#x': SA.expiresAt, '#r': SA.released, '#p': SA.parked, ...(reset === undefined ? {} : { '#c': SA.checkpoint }) },
    ExpressionAttributeValues: values,
  }
}

/** Extends a lease while it is held (`live`: and not expired at `now`, for an acquire that found it live). */
export const leaseExtend = (t: Tables, name: string, holder: string, epoch: number, expiresAt: number, liveAt?: number): UpdateItemCommandInput => ({
  TableName: t.subscriptionsTable,
  Key: leaseKey(name),
  UpdateExpression: 'SET #x = :x',
  ConditionExpression: liveAt === undefined ? fence : `${fence} AND #x > :now`,
  ExpressionAttributeNames: { ...fenceNames, '#x': SA.expiresAt },
  ExpressionAttributeValues: { ...fenceValues(holder, epoch), ':x': N(expiresAt), ...(liveAt === undefined ? {} : { ':now': N(liveAt) }) },
})

/** Gives a held lease up: released, expired now. */
export const leaseRelease = (t: Tables, name: string, holder: string, epoch: number, now: number): UpdateItemCommandInput => ({
  TableName: t.subscriptionsTable,
  Key: leaseKey(name),
  UpdateExpression: 'SET #r = :true, #x = :now',
  ConditionExpression: fence,
  ExpressionAttributeNames: { ...fenceNames, '#x': SA.expiresAt },
  ExpressionAttributeValues: { ...fenceValues(holder, epoch), ':true': { BOOL: true }, ':now': N(now) },
})

/** Stores the checkpoint, fenced. */
export const checkpointSave = (t: Tables, name: string, holder: string, epoch: number, checkpoint: string): UpdateItemCommandInput => ({
  TableName: t.subscriptionsTable,
  Key: leaseKey(name),
  UpdateExpression: 'SET #c = :c',
  ConditionExpression: fence,
  ExpressionAttributeNames: { ...fenceNames, '#c': SA.checkpoint },
  ExpressionAttributeValues: { ...fenceValues(holder, epoch), ':c': S(checkpoint) },
})

/** Points the parked index of `token` at a record (fenced), answering the record it pointed at before. */
export const parkedLink = (t: Tables, name: string, holder: string, epoch: number, token: number, writeId: string): UpdateItemCommandInput => ({
  TableName: t.subscriptionsTable,
  Key: leaseKey(name),
  UpdateExpression: 'SET #p.#tok = :w',
  ConditionExpression: fence,
  ExpressionAttributeNames: { ...fenceNames, '#p': SA.parked, '#tok': String(token) },
  ExpressionAttributeValues: { ...fenceValues(holder, epoch), ':w': S(writeId) },
  ReturnValues: 'UPDATED_OLD',
})

/** Removes `token` from the parked index (fenced), answering the record it pointed at. */
export const parkedUnlink = (t: Tables, name: string, holder: string, epoch: number, token: number): UpdateItemCommandInput => ({
  TableName: t.subscriptionsTable,
  Key: leaseKey(name),
  UpdateExpression: 'REMOVE #p.#tok',
  ConditionExpression: fence,
  ExpressionAttributeNames: { ...fenceNames, '#p': SA.parked, '#tok': String(token) },
  ExpressionAttributeValues: fenceValues(holder, epoch),
  ReturnValues: 'UPDATED_OLD',
})

/** Writes a parked commit's record item (visible only once the index points at it). */
export const parkedPut = (t: Tables, item: Item): PutItemCommandInput => ({ TableName: t.subscriptionsTable, Item: item })

/** Deletes a parked record item that nothing points at. */
export const parkedDelete = (t: Tables, name: string, sk: string): DeleteItemCommandInput => ({
  TableName: t.subscriptionsTable,
  Key: { [SA.pk]: S(name), [SA.sk]: S(sk) },
})

/** The parked records of `name`, oldest token first, strongly consistent. */
export const parkedQuery = (t: Tables, name: string): QueryCommandInput => ({
  TableName: t.subscriptionsTable,
  KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :p)',
  ExpressionAttributeNames: { '#pk': SA.pk, '#sk': SA.sk },
  ExpressionAttributeValues: { ':pk': S(name), ':p': S(PARKED_PREFIX) },
  ConsistentRead: true,
})

// -------------------------------------------------------------------------------------
// the documents table (document projections)
// -------------------------------------------------------------------------------------

/** The key of a document: its projection and tenant's partition, and its id. */
export const documentKey = (projection: string, tenantId: string, id: string): Item => ({ [DA.pk]: S(documentPartition(projection, tenantId)), [DA.sk]: S(id) })

/** A document's item (live, or a tombstone), strongly consistent. */
export const documentGet = (t: Tables, projection: string, tenantId: string, id: string): GetItemCommandInput => ({
  TableName: t.documentsTable,
  Key: documentKey(projection, tenantId, id),
  ConsistentRead: true,
})

/**
 * Writes a document's item (live, or a tombstone) on condition that it is still as read: absent, or at the version
 * read. The caller decided from that very version that the commit is not applied yet (its token was below the
 * commit's), so the write lands only where "stored token < this commit's token, or absent" still holds.
 */
export const documentPut = (t: Tables, item: Item, readVersion: number | undefined): PutItemCommandInput => ({
  TableName: t.documentsTable,
  Item: item,
  ...(readVersion === undefined
    ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': DA.pk } }
    : { ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': DA.version }, ExpressionAttributeValues: { ':v': N(readVersion) } }),
})

/** The live documents of one tenant's partition, by id, strongly consistent (tombstones filtered out). */
export const documentsOfTenantQuery = (t: Tables, projection: string, tenantId: string): QueryCommandInput => ({
  TableName: t.documentsTable,
  KeyConditionExpression: '#pk = :pk',
  FilterExpression: 'attribute_exists(#d)',
  ExpressionAttributeNames: { '#pk': DA.pk, '#d': DA.document },
  ExpressionAttributeValues: { ':pk': S(documentPartition(projection, tenantId)) },
  ConsistentRead: true,
})

/** A projection's live documents of every tenant, from its sparse global index (eventually consistent). */
export const documentsOfProjectionQuery = (t: Tables, projection: string): QueryCommandInput => ({
  TableName: t.documentsTable,
  IndexName: I.byProjection,
  KeyConditionExpression: '#pr = :pr',
  ExpressionAttributeNames: { '#pr': DA.projection },
  ExpressionAttributeValues: { ':pr': S(projection) },
})
