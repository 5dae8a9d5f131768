import type { GetItemCommandInput, PutItemCommandInput, QueryCommandInput, ScanCommandInput, UpdateItemCommandInput, WriteRequest } from '@aws-sdk/client-dynamodb'
import type { DynamoDbConfig } from './config.js'
import type { Item } from './connection.js'
import { N, S } from './rows.js'
import { A, GLOBAL_COUNTER, GLOBAL_PARTITION, I, tenantCounter } from './schema.js'

/**
 * Every request the store sends, as data: the command inputs, built from the table names and the values. Paging
 * (`Limit`, `ExclusiveStartKey`) is added by paging.ts.
 */

type Tables = Pick<DynamoDbConfig, 'commitsTable' | 'snapshotsTable'>

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

/** A tenant's commits stamped at or before `maxTime`, in token order, without fillers. */
export const tenantToQuery = (t: Tables, tenantId: string, maxTime: number): QueryCommandInput => ({
  TableName: t.commitsTable,
  IndexName: I.byTenant,
  KeyConditionExpression: '#t = :t',
  FilterExpression: '#ts <= :max AND attribute_not_exists(#f)',
  ExpressionAttributeNames: { '#t': A.tenant, '#ts': A.stamp, '#f': A.filler },
  ExpressionAttributeValues: { ':t': S(tenantId), ':max': N(maxTime) },
})

/** The stream and revision of each of a tenant's entries (fillers marked), for streamsToSnapshot. */
export const tenantHeadsQuery = (t: Tables, tenantId: string): QueryCommandInput => ({
  TableName: t.commitsTable,
  IndexName: I.byTenant,
  KeyConditionExpression: '#t = :t',
  ProjectionExpression: '#s, #rev, #f',
  ExpressionAttributeNames: { '#t': A.tenant, '#s': A.stream, '#rev': A.revision, '#f': A.filler },
  ExpressionAttributeValues: { ':t': S(tenantId) },
})

/** Every entry of a tenant, whole (purge replaces each commit by a filler). */
export const tenantItemsQuery = (t: Tables, tenantId: string): QueryCommandInput => ({
  TableName: t.commitsTable,
  IndexName: I.byTenant,
  KeyConditionExpression: '#t = :t',
  ExpressionAttributeNames: { '#t': A.tenant },
  ExpressionAttributeValues: { ':t': S(tenantId) },
})

/** Entries with a token in `[lo, hi]`, ascending: of every tenant (byToken), or of one (byTenant). */
export const tokenRangeQuery = (t: Tables, lo: number, hi: number, tenantId: string | undefined): QueryCommandInput => ({
  TableName: t.commitsTable,
  IndexName: tenantId === undefined ? I.byToken : I.byTenant,
  KeyConditionExpression: '#p = :p AND #tok BETWEEN :lo AND :hi',
  ExpressionAttributeNames: { '#p': tenantId === undefined ? A.global : A.tenant, '#tok': A.token },
  ExpressionAttributeValues: { ':p': S(tenantId ?? GLOBAL_PARTITION), ':lo': N(lo), ':hi': N(hi) },
})

// -------------------------------------------------------------------------------------
// counters and fillers
// -------------------------------------------------------------------------------------

const counterKey = (pk: string): Item => ({ [A.pk]: S(pk), [A.sk]: N(0) })

/** Takes the next global token (atomic `ADD`), answering the new value. */
export const nextTokenUpdate = (t: Tables): UpdateItemCommandInput => ({
  TableName: t.commitsTable,
  Key: counterKey(GLOBAL_COUNTER),
  UpdateExpression: 'ADD #n :one',
  ExpressionAttributeNames: { '#n': A.counter },
  ExpressionAttributeValues: { ':one': N(1) },
  ReturnValues: 'UPDATED_NEW',
})

/** Moves a tenant's chain to `token` if it is the highest yet, answering the previous link. */
export const linkTokenUpdate = (t: Tables, tenantId: string, token: number): UpdateItemCommandInput => ({
  TableName: t.commitsTable,
  Key: counterKey(tenantCounter(tenantId)),
  UpdateExpression: 'SET #n = :token',
  ConditionExpression: 'attribute_not_exists(#n) OR #n < :token',
  ExpressionAttributeNames: { '#n': A.counter },
  ExpressionAttributeValues: { ':token': N(token) },
  ReturnValues: 'UPDATED_OLD',
})

/** The global counter (its `floor`), strongly consistent. */
export const globalCounterGet = (t: Tables): GetItemCommandInput => ({
  TableName: t.commitsTable,
  Key: counterKey(GLOBAL_COUNTER),
  ConsistentRead: true,
})

/** Raises the floor to the last token handed out. */
export const raiseFloorUpdate = (t: Tables): UpdateItemCommandInput => ({
  TableName: t.commitsTable,
  Key: counterKey(GLOBAL_COUNTER),
  UpdateExpression: 'SET #floor = if_not_exists(#n, :zero)',
  ExpressionAttributeNames: { '#floor': A.floor, '#n': A.counter },
  ExpressionAttributeValues: { ':zero': N(0) },
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
