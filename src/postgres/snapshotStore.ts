import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import { fromIterable, paged, type Reads } from '../eventstore/reads.js'
import type { Snapshot, StreamHead } from '../eventstore/Snapshot.js'
import type { Context } from './context.js'
import { isStorableText, unstorableReason } from './ids.js'
import { mapRows, maxRevisionBound, snapshotParams, toSnapshot, toStreamHead } from './rows.js'

export const getSnapshot = async (
  ctx: Context,
  tenantId: string,
  streamId: string,
  maxRevision?: number,
): Promise<E.Either<StorageError, O.Option<Snapshot>>> => {
  if (!isStorableText(tenantId) || !isStorableText(streamId)) return E.right(O.none)
  const rows = await ctx.db.query('getSnapshot', ctx.sql.getSnapshot, [tenantId, streamId, maxRevisionBound(maxRevision)])
  if (E.isLeft(rows)) return rows
  const snapshots = mapRows('getSnapshot', rows.right, toSnapshot)
  return E.isLeft(snapshots) ? snapshots : E.right(O.fromNullable(snapshots.right[0]))
}

/** A second snapshot at the same revision replaces the first. */
export const addSnapshot = async (ctx: Context, snapshot: Snapshot): Promise<E.Either<StorageError, void>> => {
  for (const [what, id] of [['tenantId', snapshot.tenantId], ['streamId', snapshot.streamId]] as const) {
    if (typeof id !== 'string' || !isStorableText(id)) return E.left(storageError('addSnapshot', new Error(unstorableReason(what))))
  }
  // JSON.stringify throws on cycles and BigInts: a bad payload is reported, not thrown.
  const params = E.tryCatch(() => snapshotParams(snapshot), (cause) => storageError('addSnapshot', cause))
  if (E.isLeft(params)) return params
  const rows = await ctx.db.query('addSnapshot', ctx.sql.addSnapshot, params.right)
  return E.isLeft(rows) ? rows : E.right(undefined)
}

export const streamsToSnapshot = (ctx: Context, tenantId: string, threshold: number): Reads<StreamHead> => {
  // Nothing can be at least NaN apart; an unstorable tenant has no streams.
  if (Number.isNaN(threshold) || !isStorableText(tenantId)) return fromIterable([])
  const minimum = Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Math.ceil(threshold)))
  return paged(
    '',
    ctx.pageSize,
    async (after: string, limit): Promise<E.Either<StorageError, readonly StreamHead[]>> => {
      const rows = await ctx.db.query('streamsToSnapshot', ctx.sql.streamsToSnapshot, [tenantId, after, minimum, limit])
      return E.isLeft(rows) ? rows : mapRows('streamsToSnapshot', rows.right, toStreamHead(tenantId))
    },
    (h) => h.streamId,
  )
}
