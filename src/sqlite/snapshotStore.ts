import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { StorageError } from '../eventstore/errors.js'
import { paged, type Reads } from '../eventstore/reads.js'
import type { Snapshot, StreamHead } from '../eventstore/Snapshot.js'
import type { StoreContext } from './commitStore.js'
import { retrying } from './errors.js'
import { snapshotParams, toSnapshot, toStreamHead, type CandidateRow, type SnapshotRow } from './rows.js'
import { upperRevision } from '../eventstore/ports.js'

/** SEMANTICS 9: the newest snapshot at or below `maxRevision` (any, when absent or not positive). */
export const getSnapshot = (
  ctx: StoreContext,
  tenantId: string,
  streamId: string,
  maxRevision?: number,
): Promise<E.Either<StorageError, O.Option<Snapshot>>> => {
  const max = upperRevision(maxRevision)
  return retrying('getSnapshot', ctx.retry, () => {
    const row = ctx.statements().snapshotAt.get(tenantId, streamId, max) as SnapshotRow | undefined
    return row === undefined ? O.none : O.some(toSnapshot(row))
  })
}

/** SEMANTICS 10: a snapshot at a revision that already has one replaces it. */
export const addSnapshot = (ctx: StoreContext, snapshot: Snapshot): Promise<E.Either<StorageError, void>> =>
  retrying('addSnapshot', ctx.retry, () => {
    ctx.statements().upsertSnapshot.run(...snapshotParams(snapshot))
  })

/** SEMANTICS 11: stream heads at least `threshold` revisions past their newest snapshot, paged by stream id. */
export const streamsToSnapshot = (ctx: StoreContext, tenantId: string, threshold: number): Reads<StreamHead> =>
  paged(
    // Stream ids are never empty, so every one sorts after ''.
    '',
    ctx.pageSize,
    (cursor, limit) =>
      retrying('streamsToSnapshot', ctx.retry, () =>
        (ctx.statements().snapshotCandidates.all(tenantId, cursor, threshold, limit) as CandidateRow[]).map((row) =>
          toStreamHead(tenantId, row),
        ),
      ),
    (head) => head.streamId,
  )
