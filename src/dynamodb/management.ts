import * as E from 'fp-ts/lib/Either.js'
import type { StorageError } from '../eventstore/errors.js'
import { createTenantLinks, raiseFloor, recordFeedShards } from './checkpoints.js'
import { chunkKeys } from './chunks.js'
import type { Item } from './connection.js'
import type { DynamoDbContext } from './context.js'
import { batchWrite, inPages, queryAll, scanAll } from './paging.js'
import { fillerItem, isFiller, placeOf, str } from './rows.js'
import { A, createTables, deleteTables, isCounterKey, streamKey } from './schema.js'
import {
  allKeysScan,
  deleteRequest,
  putRequest,
  snapshotKeysQuery,
  streamItemsQuery,
  tenantItemsQuery,
  tenantSnapshotKeysScan,
} from './statements.js'

/**
 * The tables, and deleting data. A deleted commit leaves a filler in its token's place, written before the commit
 * goes, so that global readers never see the gap as a token still in flight (and wait for it). Purging
 * everything instead raises a floor below which readers do not look, and keeps the counters: tokens only ever
 * grow.
 */

type Done = Promise<E.Either<StorageError, void>>

const done = E.right(undefined)

/**
 * Creates the tables that are missing (a store made by 0.1 gains the subscriptions table) and waits until they and
 * their indexes are ACTIVE. Idempotent.
 */
export const initialize = async (ctx: DynamoDbContext): Done => {
  await createTables(ctx)
  // First: a store opened with another shard count than the table's is refused before it writes anything.
  await recordFeedShards(ctx)
  await createTenantLinks(ctx)
  return done
}

/** Deletes every table (subscriptions included) and waits until they are gone. */
export const drop = async (ctx: DynamoDbContext): Done => {
  // Tables made again later may record another shard count: check it again then.
  ctx.shardCheck = undefined
  await deleteTables(ctx)
  return done
}

/** Pages of 100 items: memory stays flat however much is deleted. */
const page = 100

/** Replaces commits by fillers, one page at a time. */
const replaceByFillers = (ctx: DynamoDbContext, items: AsyncIterable<Item>): Promise<void> =>
  inPages(withoutFillers(items), page, async (commits) => {
    const { commitsTable, maxRetries } = ctx.config
    await batchWrite(ctx.connection, commitsTable, commits.map((c) => putRequest(fillerItem(placeOf(c), ctx.config.feedShards))), maxRetries)
    // The commit items go first, so that no reader finds a commit without its chunks.
    await batchWrite(ctx.connection, commitsTable, commits.map(deleteRequest), maxRetries)
    await batchWrite(ctx.connection, commitsTable, commits.flatMap(chunkKeys).map(deleteRequest), maxRetries)
  })

const deleteAll = (ctx: DynamoDbContext, table: string, items: AsyncIterable<Item>): Promise<void> =>
  inPages(items, page, (keys) => batchWrite(ctx.connection, table, keys.map(deleteRequest), ctx.config.maxRetries))

async function* withoutFillers(items: AsyncIterable<Item>): AsyncGenerator<Item> {
  for await (const item of items) if (!isFiller(item)) yield item
}

async function* withoutCounters(items: AsyncIterable<Item>): AsyncGenerator<Item> {
  for await (const item of items) if (!isCounterKey(str(item, A.pk))) yield item
}

export const deleteStream = async (ctx: DynamoDbContext, tenantId: string, streamId: string): Done => {
  const pk = streamKey(tenantId, streamId)
  const { pageSize, snapshotsTable } = ctx.config
  await replaceByFillers(ctx, queryAll(ctx.connection, streamItemsQuery(ctx.config, pk), pageSize))
  await deleteAll(ctx, snapshotsTable, queryAll(ctx.connection, snapshotKeysQuery(ctx.config, pk), pageSize))
  return done
}

/** Everything of one tenant, or (without a tenant) everything but the counters. */
export const purge = async (ctx: DynamoDbContext, tenantId: string | undefined): Done => {
  const { pageSize, commitsTable, snapshotsTable } = ctx.config
  if (tenantId !== undefined) {
    for (let shard = 0; shard < ctx.config.feedShards; shard++) {
      await replaceByFillers(ctx, queryAll(ctx.connection, tenantItemsQuery(ctx.config, tenantId, shard), pageSize))
    }
    await deleteAll(ctx, snapshotsTable, scanAll(ctx.connection, tenantSnapshotKeysScan(ctx.config, tenantId), pageSize))
  } else {
    await raiseFloor(ctx)
    await deleteAll(ctx, commitsTable, withoutCounters(scanAll(ctx.connection, allKeysScan(commitsTable), pageSize)))
    await deleteAll(ctx, snapshotsTable, scanAll(ctx.connection, allKeysScan(snapshotsTable), pageSize))
  }
  return done
}
