import { createHash } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import type { Commit } from '../eventstore/Commit.js'
import type { StorageError } from '../eventstore/errors.js'
import type { Headers, Json } from '../eventstore/Json.js'
import type { Latest } from '../eventstore/ports.js'
import type { Reads } from '../eventstore/reads.js'
import type { Snapshot } from '../eventstore/Snapshot.js'
import { mapRows, num, parseJson, text } from '../sql/rows.js'
import { get } from './commitStore.js'
import type { Row } from './connection.js'
import type { Context } from './context.js'
import type { Names } from './schema.js'
import type { NamedStatement } from './statements.js'

// -------------------------------------------------------------------------------------
// the statement
// -------------------------------------------------------------------------------------

/**
 * The one-statement load: the newest snapshot at or below `$3` and the first `$4` commits after it that overlap
 * `(snapshot revision, $3]` (whole commits, as `get` reads them), in commit order. Params: tenant, stream, max
 * revision, limit. Rows: `kind` 0 (the snapshot: `body` is its payload) or 1 (a commit: `body` is its events).
 *
 * The commits table has no revision index, so the read walks the (tenant, stream, sequence) index; `start` lets it
 * begin at the snapshot's commit instead of the stream's first. The snapshot's sequence is only a hint (a snapshot
 * may name any), so it is used only once checked: when the commit of that sequence begins at or below the revision
 * after the snapshot, every earlier commit ends at or below the snapshot's revision (each commit continues its
 * head exactly), so none of them is wanted. Otherwise the walk begins at the stream's first commit.
 * Prepared by name: its plan (a probe of the snapshots' primary key, a range of the (tenant, stream, sequence)
 * index) does not depend on the values, and a load is on every command's path.
 */
export const loadStatement = (n: Names): NamedStatement => {
  const text = `WITH snap AS (
      SELECT stream_revision, commit_sequence, payload::text AS payload, headers::text AS headers FROM ${n.snapshots}
      WHERE tenant_id = $1 AND stream_id = $2 AND stream_revision <= $3::bigint
      ORDER BY stream_revision DESC LIMIT 1
    ), start AS (
      SELECT c.commit_sequence FROM ${n.commits} c, snap
      WHERE c.tenant_id = $1 AND c.stream_id = $2 AND c.commit_sequence = snap.commit_sequence
        AND c.stream_revision - c.event_count <= snap.stream_revision
    )
    SELECT 0 AS kind, NULL::bigint AS checkpoint_token, stream_revision, NULL::text AS commit_id, commit_sequence,
      NULL::bigint AS stamp_ms, headers, payload AS body
    FROM snap
    UNION ALL
    (SELECT 1, token, stream_revision, commit_id, commit_sequence,
       (extract(epoch FROM commit_stamp) * 1000)::bigint, headers::text, events::text
     FROM ${n.commits}
     WHERE tenant_id = $1 AND stream_id = $2
       AND commit_sequence >= COALESCE((SELECT commit_sequence FROM start), 0)
       AND stream_revision > COALESCE((SELECT stream_revision FROM snap), 0)
       AND stream_revision - event_count + 1 <= $3::bigint
     ORDER BY commit_sequence LIMIT $4)`
  return { name: `aett_load_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`, text }
}

/** Statements are per store (their text names its schema); built once per context. */
const statements = new WeakMap<Context, NamedStatement>()

const statementOf = (ctx: Context): NamedStatement => {
  let s = statements.get(ctx)
  if (s === undefined) statements.set(ctx, (s = loadStatement(ctx.names)))
  return s
}

// -------------------------------------------------------------------------------------
// rows
// -------------------------------------------------------------------------------------

/** A row of the load statement; ids are the ones asked for (the statement matched them exactly). */
const toLatest =
  (tenantId: string, streamId: string) =>
  (row: Row): Latest => {
    if (num(row['kind']) === 0) {
      const snapshot: Snapshot = {
        tenantId,
        streamId,
        streamRevision: num(row['stream_revision']),
        commitSequence: num(row['commit_sequence']),
        payload: parseJson<Json>(row['body']),
        headers: parseJson<Headers>(row['headers']),
      }
      return { _tag: 'Snapshot', snapshot }
    }
    const commit: Commit = {
      tenantId,
      streamId,
      streamRevision: num(row['stream_revision']),
      commitId: text(row['commit_id']),
      commitSequence: num(row['commit_sequence']),
      commitStamp: new Date(num(row['stamp_ms'])),
      headers: parseJson<Headers>(row['headers']),
      events: parseJson<Commit['events']>(row['body']),
      checkpointToken: num(row['checkpoint_token']),
    }
    return { _tag: 'Commit', commit }
  }

// -------------------------------------------------------------------------------------
// the read
// -------------------------------------------------------------------------------------

const byKind = (a: Latest, b: Latest): number => (a._tag === b._tag ? 0 : a._tag === 'Snapshot' ? -1 : 1)

/**
 * A load in one round trip (see `LatestReader`). A stream longer than a page goes on with `get` after the last
 * commit of the page, a page per round trip, with the same revision bounds.
 */
export async function* readLatest(ctx: Context, tenantId: string, streamId: string, maxRevision: number): Reads<Latest> {
  const rows = await ctx.db.query('readLatest', statementOf(ctx), [tenantId, streamId, maxRevision, ctx.pageSize])
  const page: E.Either<StorageError, Latest[]> = E.isLeft(rows) ? rows : mapRows('readLatest', rows.right, toLatest(tenantId, streamId))
  if (E.isLeft(page)) {
    yield page
    return
  }
  // UNION ALL keeps its branches in order in practice, but SQL does not promise it: the snapshot goes first.
  const items = page.right.sort(byKind)
  let snapshotRevision = 0
  let last: Commit | undefined
  for (const item of items) {
    if (item._tag === 'Snapshot') snapshotRevision = item.snapshot.streamRevision
    else last = item.commit
    yield E.right(item)
  }
  const commits = items.length - (snapshotRevision > 0 ? 1 : 0)
  if (last === undefined || commits < ctx.pageSize) return
  for await (const r of get(ctx, tenantId, streamId, { minRevision: last.streamRevision + 1, maxRevision }, last.commitSequence)) {
    yield E.isLeft(r) ? r : E.right({ _tag: 'Commit', commit: r.right })
    if (E.isLeft(r)) return
  }
}
