import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { paged } from '../eventstore/adapter/reads.js'
import type { StorageError } from '../eventstore/errors.js'
import type { Reads } from '../eventstore/reads.js'
import type { Snapshot, StreamHead, StreamInfo } from '../eventstore/Snapshot.js'
import { mapRows, text } from '../sql/rows.js'
import type { Context } from './context.js'
import { snapshotParams, toSnapshot, toStreamHead, toStreamInfo } from './rows.js'

export const getSnapshot = async (
  ctx: Context,
  tenantId: string,
  streamId: string,
  maxRevision: number,
): Promise<E.Either<StorageError, O.Option<Snapshot>>> => {
  const rows = await ctx.db.query('getSnapshot', ctx.sql.getSnapshot, [tenantId, streamId, maxRevision])
  if (E.isLeft(rows)) return rows
  const snapshots = mapRows('getSnapshot', rows.right, toSnapshot)
  return E.isLeft(snapshots) ? snapshots : E.right(O.fromNullable(snapshots.right[0]))
}

/** A second snapshot at the same revision replaces the first. */
export const addSnapshot = async (ctx: Context, snapshot: Snapshot): Promise<E.Either<StorageError, void>> => {
  const rows = await ctx.db.query('addSnapshot', ctx.sql.addSnapshot, snapshotParams(snapshot))
  return E.isLeft(rows) ? rows : E.right(undefined)
}

/** Stream heads at least `threshold` revisions past their newest snapshot, paged by stream id. */
export const streamsToSnapshot = (ctx: Context, tenantId: string, threshold: number): Reads<StreamHead> =>
  paged(
    '',
    ctx.pageSize,
    async (after: string, limit): Promise<E.Either<StorageError, readonly StreamHead[]>> => {
      const rows = await ctx.db.query('streamsToSnapshot', ctx.sql.streamsToSnapshot, [tenantId, after, threshold, limit])
      return E.isLeft(rows) ? rows : mapRows('streamsToSnapshot', rows.right, toStreamHead(tenantId))
    },
    (h) => h.streamId,
  )

/** Every stream of a tenant with its head, paged by stream id (ids are never empty, so every one sorts after ''). */
export const listStreams = (ctx: Context, tenantId: string): Reads<StreamInfo> =>
  paged(
    '',
    ctx.pageSize,
    async (after: string, limit): Promise<E.Either<StorageError, readonly StreamInfo[]>> => {
      const rows = await ctx.db.query('listStreams', ctx.sql.listStreams, [tenantId, after, limit])
      return E.isLeft(rows) ? rows : mapRows('listStreams', rows.right, toStreamInfo(tenantId))
    },
    (info) => info.streamId,
  )

/** Every tenant holding a commit, paged by tenant id. */
export const listTenants = (ctx: Context): Reads<string> =>
  paged(
    '',
    ctx.pageSize,
    async (after: string, limit): Promise<E.Either<StorageError, readonly string[]>> => {
      const rows = await ctx.db.query('listTenants', ctx.sql.listTenants, [after, limit])
      return E.isLeft(rows) ? rows : mapRows('listTenants', rows.right, (row) => text(row['tenant_id']))
    },
    (tenantId) => tenantId,
  )
