import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import type { Reads } from '../eventstore/reads.js'
import type { Snapshot, StreamHead } from '../eventstore/Snapshot.js'
import type { DynamoDbConfig } from './config.js'
import type { Driver } from './driver.js'
import { isFiller, itemBytes, N, num, S, snapshotItem, snapshotOf, str } from './items.js'
import { first, guarded, queryAll } from './paging.js'
import { A, I, MAX_ITEM_BYTES, MAX_PARTITION_KEY_BYTES, streamKey, utf8 } from './schema.js'
import { upperRevision } from '../eventstore/ports.js'

export interface SnapshotContext {
  readonly driver: Driver
  readonly config: DynamoDbConfig
}

const validKey = (tenantId: string, streamId: string): boolean =>
  tenantId.length > 0 && streamId.length > 0 && utf8(streamKey(tenantId, streamId)) <= MAX_PARTITION_KEY_BYTES

/** The newest snapshot at or below `maxRevision` (SEMANTICS 9). */
export const getSnapshot = async (
  ctx: SnapshotContext,
  tenantId: string,
  streamId: string,
  maxRevision?: number,
): Promise<E.Either<StorageError, O.Option<Snapshot>>> => {
  if (!validKey(tenantId, streamId)) return E.right(O.none)
  const max = upperRevision(maxRevision)
  try {
    const item = await first(ctx.driver, {
      TableName: ctx.config.snapshotsTable,
      KeyConditionExpression: '#pk = :pk AND #sk <= :max',
      ExpressionAttributeNames: { '#pk': A.pk, '#sk': A.sk },
      ExpressionAttributeValues: { ':pk': S(streamKey(tenantId, streamId)), ':max': N(max) },
      ScanIndexForward: false,
      ConsistentRead: true,
    })
    return E.right(item === undefined ? O.none : O.some(snapshotOf(item)))
  } catch (cause) {
    return E.left(storageError('getSnapshot', cause))
  }
}

/** Stores a snapshot; one at a revision that already has one replaces it (SEMANTICS 10). */
export const addSnapshot = async (ctx: SnapshotContext, snapshot: Snapshot): Promise<E.Either<StorageError, void>> => {
  const fail = (message: string) => E.left(storageError('addSnapshot', new Error(message)))
  if (!validKey(snapshot.tenantId, snapshot.streamId)) return fail('tenant and stream ids must be non-empty and fit a DynamoDB partition key (2048 bytes)')
  try {
    const item = snapshotItem(snapshot)
    const bytes = itemBytes(item)
    if (bytes > MAX_ITEM_BYTES) return fail(`the snapshot is ${bytes} bytes as a DynamoDB item; items are limited to ${MAX_ITEM_BYTES} bytes (400 KB)`)
    await ctx.driver.send('PutItem', { TableName: ctx.config.snapshotsTable, Item: item })
    return E.right(undefined)
  } catch (cause) {
    return E.left(storageError('addSnapshot', cause))
  }
}

/**
 * Stream heads at least `threshold` revisions ahead of their newest snapshot (SEMANTICS 11). DynamoDB keeps no
 * list of a tenant's streams, so this walks the tenant index once (remembering one head per stream, not the
 * commits) and then reads each stream's newest snapshot.
 */
export const streamsToSnapshot = (ctx: SnapshotContext, tenantId: string, threshold: number): Reads<StreamHead> =>
  guarded('streamsToSnapshot', async function* () {
    if (tenantId.length === 0 || utf8(tenantId) > MAX_PARTITION_KEY_BYTES) return
    const heads = new Map<string, number>()
    const input = {
      TableName: ctx.config.commitsTable,
      IndexName: I.byTenant,
      KeyConditionExpression: '#t = :t',
      ProjectionExpression: '#s, #rev, #f',
      ExpressionAttributeNames: { '#t': A.tenant, '#s': A.stream, '#rev': A.revision, '#f': A.filler },
      ExpressionAttributeValues: { ':t': S(tenantId) },
    }
    for await (const item of queryAll(ctx.driver, input, ctx.config.pageSize)) {
      if (isFiller(item)) continue
      const streamId = str(item, A.stream)
      heads.set(streamId, Math.max(heads.get(streamId) ?? 0, num(item, A.revision)))
    }
    for (const [streamId, headRevision] of heads) {
      const snapshot = await getSnapshot(ctx, tenantId, streamId)
      if (E.isLeft(snapshot)) throw snapshot.left.cause
      const snapshotRevision = O.isSome(snapshot.right) ? snapshot.right.value.streamRevision : 0
      if (headRevision - snapshotRevision >= threshold) yield { tenantId, streamId, headRevision, snapshotRevision }
    }
  })
