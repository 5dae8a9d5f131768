import * as E from 'fp-ts/lib/Either.js'
import type { Commit, EventMessage } from '../eventstore/Commit.js'
import type { StorageError } from '../eventstore/errors.js'
import type { Headers, Json } from '../eventstore/Json.js'
import type { Latest } from '../eventstore/ports.js'
import type { Reads } from '../eventstore/reads.js'
import { mapRows, num, parseJson, text } from '../sql/rows.js'
import { get } from './commitStore.js'
import { selectRows } from './connection.js'
import type { MysqlContext } from './context.js'
import { streamKey } from './rows.js'
import type { MysqlNames } from './schema.js'

// -------------------------------------------------------------------------------------
// the statement
// -------------------------------------------------------------------------------------

/**
 * The one-statement load: the newest snapshot at or below the bound and the first page of commits after it that
 * overlap `(snapshot revision, max]` (whole commits, as `get` reads them), in commit order. Params: stream key,
 * max, stream key, stream key, max, max, limit. Rows: `kind` 0 (the snapshot: `body` is its payload) or 1 (a
 * commit: `body` is its events).
 *
 * Two parenthesised branches and a MAX() probe, neither CTEs nor a derived table: on MariaDB 10.11 a CTE read twice
 * is materialised twice, and the snapshot branch written as a derived table (`FROM (SELECT ... LIMIT 1) s`) cost
 * 0.44 ms a load of a 10-commit stream, more than the snapshot probe and the stream read sent as two statements
 * (0.16 + 0.20 ms), where this statement costs 0.27 ms (measured interleaved, under the benchmark lock, 2026-12-02). The commits table has no revision index, so the commits after a
 * snapshot are found by walking the stream's (stream, sequence) key from its start, as `get` does (see the notes
 * of the change for the index or routine that would avoid the walk).
 */
export const loadStatement = (n: MysqlNames): string => `(SELECT 0 AS kind, NULL AS checkpoint_token, NULL AS commit_id,
    commit_sequence, stream_revision, NULL AS commit_stamp, headers, payload AS body
   FROM ${n.snapshots} WHERE stream_key = ? AND stream_revision <= ? ORDER BY stream_revision DESC LIMIT 1)
  UNION ALL
  (SELECT 1, checkpoint_token, commit_id, commit_sequence, stream_revision, commit_stamp, headers, events
   FROM ${n.commits}
   WHERE stream_key = ?
     AND stream_revision > COALESCE(
       (SELECT MAX(x.stream_revision) FROM ${n.snapshots} x WHERE x.stream_key = ? AND x.stream_revision <= ?), 0)
     AND first_revision <= ?
   ORDER BY commit_sequence LIMIT ?)`

/** Statement texts are per store (they name its tables); built once per context. */
const statements = new WeakMap<MysqlContext, string>()

const statementOf = (ctx: MysqlContext): string => {
  let s = statements.get(ctx)
  if (s === undefined) statements.set(ctx, (s = loadStatement(ctx.names)))
  return s
}

// -------------------------------------------------------------------------------------
// rows
// -------------------------------------------------------------------------------------

interface LoadRow {
  readonly kind: unknown
  readonly checkpoint_token: unknown
  readonly commit_id: unknown
  readonly commit_sequence: unknown
  readonly stream_revision: unknown
  readonly commit_stamp: unknown
  readonly headers: unknown
  readonly body: unknown
}

/** A row of the load statement; ids are the ones asked for (the statement matched their stream key). */
const toLatest =
  (tenantId: string, streamId: string) =>
  (row: LoadRow): Latest =>
    num(row.kind) === 0
      ? {
          _tag: 'Snapshot',
          snapshot: {
            tenantId,
            streamId,
            streamRevision: num(row.stream_revision),
            commitSequence: num(row.commit_sequence),
            payload: parseJson<Json>(row.body),
            headers: parseJson<Headers>(row.headers),
          },
        }
      : {
          _tag: 'Commit',
          commit: {
            tenantId,
            streamId,
            streamRevision: num(row.stream_revision),
            commitId: text(row.commit_id),
            commitSequence: num(row.commit_sequence),
            commitStamp: new Date(num(row.commit_stamp)),
            headers: parseJson<Headers>(row.headers),
            events: parseJson<readonly EventMessage[]>(row.body),
            checkpointToken: num(row.checkpoint_token),
          },
        }

// -------------------------------------------------------------------------------------
// the read
// -------------------------------------------------------------------------------------

const byKind = (a: Latest, b: Latest): number => (a._tag === b._tag ? 0 : a._tag === 'Snapshot' ? -1 : 1)

/**
 * A load in one round trip (see `LatestReader`). A stream longer than a page goes on with `get` after the last
 * commit of the page, a page per round trip, with the same revision bounds.
 */
export async function* readLatest(ctx: MysqlContext, tenantId: string, streamId: string, maxRevision: number): Reads<Latest> {
  const key = streamKey(tenantId, streamId)
  const rows = await selectRows<LoadRow>(ctx.pool, 'readLatest', statementOf(ctx), [key, maxRevision, key, key, maxRevision, maxRevision, ctx.pageSize])
  const page: E.Either<StorageError, Latest[]> = E.isLeft(rows) ? rows : mapRows('readLatest', rows.right, toLatest(tenantId, streamId))
  if (E.isLeft(page)) {
    yield page
    return
  }
  // UNION ALL keeps its branches in order in practice, but SQL does not promise it: the snapshot goes first.
  const items = page.right.sort(byKind)
  let commits = 0
  let last: Commit | undefined
  for (const item of items) {
    if (item._tag === 'Commit') {
      commits += 1
      last = item.commit
    }
    yield E.right(item)
  }
  if (last === undefined || commits < ctx.pageSize) return
  for await (const r of get(ctx, tenantId, streamId, { minRevision: last.streamRevision + 1, maxRevision }, last.commitSequence)) {
    yield E.isLeft(r) ? r : E.right({ _tag: 'Commit', commit: r.right })
    if (E.isLeft(r)) return
  }
}
