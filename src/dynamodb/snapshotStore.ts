import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { UNBOUNDED } from '../eventstore/adapter/bounds.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import type { Reads } from '../eventstore/reads.js'
import type { Snapshot, StreamHead, StreamInfo } from '../eventstore/Snapshot.js'
import { utf8Length } from '../eventstore/adapter/ids.js'
import type { DynamoDbContext } from './context.js'
import { asReads, first, queryAll, scanAll } from './paging.js'
import { isFiller, itemBytes, num, snapshotItem, snapshotOf, str, streamInfoOf, tenantOfStreamKey } from './rows.js'
import { A, MAX_ITEM_BYTES, streamKey } from './schema.js'
import { commitKeysScan, snapshotPut, snapshotQuery, streamHeadQuery, tenantHeadsQuery } from './statements.js'

/** The newest snapshot of a stream at or below `maxRevision` (one strongly consistent Query). */
export const newest = async (ctx: DynamoDbContext, tenantId: string, streamId: string, maxRevision: number): Promise<O.Option<Snapshot>> => {
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
  for (let shard = 0; shard < ctx.config.feedShards; shard++) {
    for await (const item of queryAll(ctx.connection, tenantHeadsQuery(ctx.config, tenantId, shard), ctx.config.pageSize)) {
      if (isFiller(item)) continue
      const streamId = str(item, A.stream)
      revisions.set(streamId, Math.max(revisions.get(streamId) ?? 0, num(item, A.revision)))
    }
  }
  for (const [streamId, headRevision] of revisions) {
    const snapshot = await newest(ctx, tenantId, streamId, UNBOUNDED)
    const snapshotRevision = O.isSome(snapshot) ? snapshot.value.streamRevision : 0
    if (headRevision - snapshotRevision >= threshold) yield { tenantId, streamId, headRevision, snapshotRevision }
  }
}

// -------------------------------------------------------------------------------------
// the catalog
// -------------------------------------------------------------------------------------

/**
 * The stream key of every commit, once per stream: a Scan of the keys-only `byRevision` index (which holds commits
 * only), `pageSize` items a page. A Scan returns each partition's items together (they share one item
 * collection, in the order of the key's hash), so a stream is recognised by its key changing, and memory stays
 * flat whatever the number of streams. The order is DynamoDB's hash order: the store's own, stable between calls.
 */
async function* streamKeys(ctx: DynamoDbContext, streamKeyPrefix: string | undefined): AsyncGenerator<string> {
  let last: string | undefined
  for await (const item of scanAll(ctx.connection, commitKeysScan(ctx.config, streamKeyPrefix), ctx.config.pageSize)) {
    const pk = str(item, A.pk)
    if (pk === last) continue
    last = pk
    yield pk
  }
}

/**
 * Every stream of a tenant with its head. DynamoDB keeps no list of streams, and this store adds no write to the
 * append path to keep one: it scans the commit keys of the whole store (filtered to the tenant's prefix of the
 * stream key) and reads each stream's head (one strongly consistent Query of one item). An operator's tool: its
 * cost grows with the store's history (docs/stores/dynamodb.md).
 */
export const listStreams = (ctx: DynamoDbContext, tenantId: string): Reads<StreamInfo> => asReads(streamsOf(ctx, tenantId))

async function* streamsOf(ctx: DynamoDbContext, tenantId: string): AsyncGenerator<StreamInfo> {
  for await (const pk of streamKeys(ctx, `${utf8Length(tenantId)}:${tenantId}`)) {
    // A stream deleted since the scan saw it has no head any more, and is not listed.
    const head = await first(ctx.connection, streamHeadQuery(ctx.config, pk))
    if (head !== undefined) yield streamInfoOf(tenantId, head)
  }
}

/**
 * Every tenant holding a commit, each once, from the same Scan of commit keys (the tenant is the stream key's
 * prefix). Memory grows with the number of tenants (the ones already listed), not with commits or streams.
 */
export const listTenants = (ctx: DynamoDbContext): Reads<string> => asReads(tenantsOf(ctx))

async function* tenantsOf(ctx: DynamoDbContext): AsyncGenerator<string> {
  const seen = new Set<string>()
  for await (const pk of streamKeys(ctx, undefined)) {
    const tenantId = tenantOfStreamKey(pk)
    if (seen.has(tenantId)) continue
    seen.add(tenantId)
    yield tenantId
  }
}
