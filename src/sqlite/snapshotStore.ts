import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { paged } from '../eventstore/adapter/reads.js'
import type { StorageError } from '../eventstore/errors.js'
import type { Reads } from '../eventstore/reads.js'
import type { Snapshot, StreamHead, StreamInfo } from '../eventstore/Snapshot.js'
import { mapRows, text } from '../sql/rows.js'
import { retrying, withRetry } from './connection.js'
import { statements, type SqliteContext } from './context.js'
import { snapshotParams, toSnapshot, toStreamHead, toStreamInfo, type CandidateRow, type SnapshotRow } from './rows.js'

/** SEMANTICS 9: the newest snapshot at or below `maxRevision`. */
export const getSnapshot = (
  ctx: SqliteContext,
  tenantId: string,
  streamId: string,
  maxRevision: number,
): Promise<E.Either<StorageError, O.Option<Snapshot>>> =>
  withRetry('getSnapshot', ctx.retry, () => {
    const row = statements(ctx).snapshotAt.get(tenantId, streamId, maxRevision) as SnapshotRow | undefined
    if (row === undefined) return E.right(O.none)
    return E.map((found: Snapshot[]) => O.fromNullable(found[0]))(mapRows('getSnapshot', [row], toSnapshot))
  })

/** SEMANTICS 10: a snapshot at a revision that already has one replaces it. */
export const addSnapshot = (ctx: SqliteContext, snapshot: Snapshot): Promise<E.Either<StorageError, void>> =>
  retrying('addSnapshot', ctx.retry, () => {
    statements(ctx).upsertSnapshot.run(...snapshotParams(snapshot))
  })

/** SEMANTICS 11: stream heads at least `threshold` revisions past their newest snapshot, paged by stream id. */
export const streamsToSnapshot = (ctx: SqliteContext, tenantId: string, threshold: number): Reads<StreamHead> =>
  paged(
    // Stream ids are never empty, so every one sorts after ''.
    '',
    ctx.pageSize,
    (cursor, limit) =>
      withRetry('streamsToSnapshot', ctx.retry, () =>
        mapRows('streamsToSnapshot', statements(ctx).snapshotCandidates.all(tenantId, cursor, threshold, limit) as CandidateRow[], (row) =>
          toStreamHead(tenantId, row),
        ),
      ),
    (head) => head.streamId,
  )

/** Every stream of a tenant with its head, paged by stream id. */
export const listStreams = (ctx: SqliteContext, tenantId: string): Reads<StreamInfo> =>
  paged(
    '',
    ctx.pageSize,
    (cursor, limit) =>
      withRetry('listStreams', ctx.retry, () =>
        mapRows('listStreams', statements(ctx).streamList.all(tenantId, cursor, limit), (row) => toStreamInfo(tenantId, row as unknown[])),
      ),
    (info) => info.streamId,
  )

/** Every tenant holding a commit, paged by tenant id (ids are never empty, so every one sorts after ''). */
export const listTenants = (ctx: SqliteContext): Reads<string> =>
  paged(
    '',
    ctx.pageSize,
    (cursor, limit) =>
      withRetry('listTenants', ctx.retry, () => mapRows('listTenants', statements(ctx).tenantList.all(cursor, limit), (row) => text((row as unknown[])[0]))),
    (tenantId) => tenantId,
  )
