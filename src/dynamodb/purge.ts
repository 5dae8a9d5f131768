import type { WriteRequest } from '@aws-sdk/client-dynamodb'
import type { DynamoDbConfig } from './config.js'
import { chunkDeletes } from './chunks.js'
import type { Driver, Item } from './driver.js'
import { fillerItem, isFiller, placeOf, S, str } from './items.js'
import { batchWrite, queryAll, scanAll } from './paging.js'
import { A, I, MAX_PARTITION_KEY_BYTES, streamKey, utf8 } from './schema.js'
import { isCounterKey, raiseFloor } from './tokens.js'

/**
 * Deleting data. A deleted commit leaves a filler in its token's place, written before the commit goes, so that
 * global readers never see the gap as a token still in flight (and wait for it). Purging everything instead
 * raises a floor below which readers do not look, and keeps the counters: tokens only ever grow.
 */

export interface PurgeContext {
  readonly driver: Driver
  readonly config: DynamoDbConfig
}

const keyOf = (item: Item): Item => ({ [A.pk]: item[A.pk] ?? S(''), [A.sk]: item[A.sk] ?? S('') })

/** Replaces commits by fillers, one page at a time, so that memory stays flat. */
const replaceByFillers = async (ctx: PurgeContext, commits: AsyncIterable<Item>): Promise<void> => {
  const table = ctx.config.commitsTable
  let page: Item[] = []
  const flush = async () => {
    await batchWrite(ctx.driver, table, page.map((c): WriteRequest => ({ PutRequest: { Item: fillerItem(placeOf(c)) } })), ctx.config.maxRetries)
    // The commit items go first, so that no reader finds a commit without its chunks.
    await batchWrite(ctx.driver, table, page.map((c): WriteRequest => ({ DeleteRequest: { Key: keyOf(c) } })), ctx.config.maxRetries)
    await batchWrite(ctx.driver, table, page.flatMap(chunkDeletes), ctx.config.maxRetries)
    page = []
  }
  for await (const item of commits) {
    if (isFiller(item)) continue
    page.push(item)
    if (page.length >= 100) await flush()
  }
  await flush()
}

const deleteAll = async (ctx: PurgeContext, table: string, items: AsyncIterable<Item>): Promise<void> => {
  let page: Item[] = []
  const flush = async () => {
    await batchWrite(ctx.driver, table, page.map((i): WriteRequest => ({ DeleteRequest: { Key: keyOf(i) } })), ctx.config.maxRetries)
    page = []
  }
  for await (const item of items) {
    page.push(item)
    if (page.length >= 100) await flush()
  }
  await flush()
}

const keysOnly = { ProjectionExpression: '#pk, #sk', ExpressionAttributeNames: { '#pk': A.pk, '#sk': A.sk } }

export const deleteStream = async (ctx: PurgeContext, tenantId: string, streamId: string): Promise<void> => {
  if (tenantId.length === 0 || streamId.length === 0 || utf8(streamKey(tenantId, streamId)) > MAX_PARTITION_KEY_BYTES) return
  const pk = S(streamKey(tenantId, streamId))
  const condition = { KeyConditionExpression: '#pk = :pk', ExpressionAttributeValues: { ':pk': pk } }
  await replaceByFillers(
    ctx,
    queryAll(ctx.driver, { TableName: ctx.config.commitsTable, ...condition, ExpressionAttributeNames: { '#pk': A.pk }, ConsistentRead: true }, ctx.config.pageSize),
  )
  await deleteAll(
    ctx,
    ctx.config.snapshotsTable,
    queryAll(ctx.driver, { TableName: ctx.config.snapshotsTable, ...condition, ...keysOnly, ConsistentRead: true }, ctx.config.pageSize),
  )
}

const purgeTenant = async (ctx: PurgeContext, tenantId: string): Promise<void> => {
  if (tenantId.length === 0 || utf8(tenantId) > MAX_PARTITION_KEY_BYTES) return
  await replaceByFillers(
    ctx,
    queryAll(
      ctx.driver,
      {
        TableName: ctx.config.commitsTable,
        IndexName: I.byTenant,
        KeyConditionExpression: '#t = :t',
        ExpressionAttributeNames: { '#t': A.tenant },
        ExpressionAttributeValues: { ':t': S(tenantId) },
      },
      ctx.config.pageSize,
    ),
  )
  // Snapshots have no tenant index (a purge is rare; an index would cost on every snapshot): scan for them.
  await deleteAll(
    ctx,
    ctx.config.snapshotsTable,
    scanAll(
      ctx.driver,
      {
        TableName: ctx.config.snapshotsTable,
        FilterExpression: '#t = :t',
        ProjectionExpression: '#pk, #sk',
        ExpressionAttributeNames: { '#pk': A.pk, '#sk': A.sk, '#t': A.tenant },
        ExpressionAttributeValues: { ':t': S(tenantId) },
      },
      ctx.config.pageSize,
    ),
  )
}

async function* withoutCounters(items: AsyncIterable<Item>): AsyncGenerator<Item> {
  for await (const item of items) if (!isCounterKey(str(item, A.pk))) yield item
}

const purgeAll = async (ctx: PurgeContext): Promise<void> => {
  await raiseFloor(ctx)
  await deleteAll(ctx, ctx.config.commitsTable, withoutCounters(scanAll(ctx.driver, { TableName: ctx.config.commitsTable, ...keysOnly }, ctx.config.pageSize)))
  await deleteAll(ctx, ctx.config.snapshotsTable, scanAll(ctx.driver, { TableName: ctx.config.snapshotsTable, ...keysOnly }, ctx.config.pageSize))
}

export const purge = (ctx: PurgeContext, tenantId?: string): Promise<void> =>
  tenantId === undefined ? purgeAll(ctx) : purgeTenant(ctx, tenantId)
