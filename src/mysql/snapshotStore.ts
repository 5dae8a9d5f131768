import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { paged } from '../eventstore/adapter/reads.js'
import type { StorageError } from '../eventstore/errors.js'
import type { Reads } from '../eventstore/reads.js'
import type { Snapshot, StreamHead, StreamInfo } from '../eventstore/Snapshot.js'
import { mapRows } from '../sql/rows.js'
import { execute, selectRows } from './connection.js'
import type { MysqlContext } from './context.js'
import { snapshotParameters, streamKey, tenantKey, toSnapshot, toStreamHead, toStreamInfo, toTenant, type SnapshotRow } from './rows.js'

export const getSnapshot = async (
  ctx: MysqlContext,
  tenantId: string,
  streamId: string,
  maxRevision: number,
): Promise<E.Either<StorageError, O.Option<Snapshot>>> => {
  const rows = await selectRows<SnapshotRow>(ctx.pool, 'getSnapshot', ctx.statements.snapshotAtOrBelow, [streamKey(tenantId, streamId), maxRevision])
  if (E.isLeft(rows)) return rows
  const snapshots = mapRows('getSnapshot', rows.right, toSnapshot)
  return E.isLeft(snapshots) ? snapshots : E.right(O.fromNullable(snapshots.right[0]))
}

/** Adds a snapshot; one at a revision that already has one replaces it (SEMANTICS 10). */
export const addSnapshot = async (ctx: MysqlContext, snapshot: Snapshot): Promise<E.Either<StorageError, void>> => {
  const done = await execute(ctx.pool, 'addSnapshot', ctx.statements.saveSnapshot, snapshotParameters(snapshot))
  return E.isLeft(done) ? done : E.right(undefined)
}

/**
 * A read paged by a binary key (stream or tenant key): `fetch` answers each item with the key it came from, and
 * the next page starts after the last one's key. Only the items are handed out.
 */
async function* byKey<R, A>(
  ctx: MysqlContext,
  operation: string,
  sql: string,
  values: (cursor: Buffer, limit: number) => readonly unknown[],
  decode: (row: R) => { readonly cursor: Buffer; readonly item: A },
): Reads<A> {
  const fetch = async (cursor: Buffer, limit: number) => {
    const rows = await selectRows<R>(ctx.pool, operation, sql, values(cursor, limit))
    return E.isLeft(rows) ? rows : mapRows(operation, rows.right, decode)
  }
  for await (const r of paged(Buffer.alloc(0), ctx.pageSize, fetch, (last) => last.cursor)) {
    yield E.isLeft(r) ? r : E.right(r.right.item)
    if (E.isLeft(r)) return
  }
}

/** Stream heads at least `threshold` revisions ahead of their newest snapshot, paged by stream key. */
export const streamsToSnapshot = (ctx: MysqlContext, tenantId: string, threshold: number): Reads<StreamHead> => {
  const key = tenantKey(tenantId)
  return byKey(ctx, 'streamsToSnapshot', ctx.statements.streamsToSnapshot, (after, limit) => [key, after, key, threshold, limit], toStreamHead)
}

/** Every stream of a tenant with its head, paged by stream key (so in no meaningful, but a stable, order). */
export const listStreams = (ctx: MysqlContext, tenantId: string): Reads<StreamInfo> => {
  const key = tenantKey(tenantId)
  return byKey(ctx, 'listStreams', ctx.statements.streamList, (after, limit) => [key, after, limit], toStreamInfo(tenantId))
}

/** Every tenant holding a commit, paged by tenant key. */
export const listTenants = (ctx: MysqlContext): Reads<string> =>
  byKey(ctx, 'listTenants', ctx.statements.tenantList, (after, limit) => [after, limit], toTenant)
