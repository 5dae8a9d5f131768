import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { UNBOUNDED } from '../eventstore/adapter/bounds.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import type { Reads } from '../eventstore/reads.js'
import type { Snapshot, StreamHead } from '../eventstore/Snapshot.js'
import type { DynamoDbContext } from './context.js'
import { asReads, first, queryAll } from './paging.js'
import { isFiller, itemBytes, num, snapshotItem, snapshotOf, str } from './rows.js'
import { A, MAX_ITEM_BYTES, streamKey } from './schema.js'
import { snapshotPut, snapshotQuery, tenantHeadsQuery } from './statements.js'

const newest = async (ctx: DynamoDbContext, tenantId: string, streamId: string, maxRevision: number): Promise<O.Option<Snapshot>> => {
  const item = await first(ctx.connection, snapshotQuery(ctx.config, streamKey(tenantId, streamId), maxRevision))
  return item === undefined ? O.none : O.some(snapshotOf(item))
}

/** The newest snapshot at or below `maxRevision` (SEMANTICS 9). */
export const getSnapshot = async (
  ctx: DynamoDbContext,
  tenantId: string,
  streamId: string,
  maxRevision: number,
): Promise<E.Either<StorageError, O.Option<Snapshot>>> => E.right(await newest(ctx, tenantId, streamId, maxRevision))

/** Stores a snapshot; one at a revision that already has one replaces it (SEMANTICS 10). */
export const addSnapshot = async (ctx: DynamoDbContext, snapshot: Snapshot): Promise<E.Either<StorageError, void>> => {
  const item = snapshotItem(snapshot)
  const bytes = itemBytes(item)
  if (bytes > MAX_ITEM_BYTES) {
    const message = `the snapshot is ${bytes} bytes as a DynamoDB item; items are limited to ${MAX_ITEM_BYTES} bytes (400 KB)`
    return E.left(storageError('addSnapshot', new Error(message)))
  }
  await ctx.connection.send('PutItem', snapshotPut(ctx.config, item))
  return E.right(undefined)
}

/**
 * Stream heads at least `threshold` revisions ahead of their newest snapshot (SEMANTICS 11). DynamoDB keeps no
 * list of a tenant's streams, so this walks the tenant index once (remembering one head per stream, not the
 * commits) and then reads each stream's newest snapshot.
 */
export const streamsToSnapshot = (ctx: DynamoDbContext, tenantId: string, threshold: number): Reads<StreamHead> =>
  asReads(heads(ctx, tenantId, threshold))

async function* heads(ctx: DynamoDbContext, tenantId: string, threshold: number): AsyncGenerator<StreamHead> {
  const revisions = new Map<string, number>()
  for await (const item of queryAll(ctx.connection, tenantHeadsQuery(ctx.config, tenantId), ctx.config.pageSize)) {
    if (isFiller(item)) continue
    const streamId = str(item, A.stream)
    revisions.set(streamId, Math.max(revisions.get(streamId) ?? 0, num(item, A.revision)))
  }
  for (const [streamId, headRevision] of revisions) {
    const snapshot = await newest(ctx, tenantId, streamId, UNBOUNDED)
    const snapshotRevision = O.isSome(snapshot) ? snapshot.value.streamRevision : 0
    if (headRevision - snapshotRevision >= threshold) yield { tenantId, streamId, headRevision, snapshotRevision }
  }
}
