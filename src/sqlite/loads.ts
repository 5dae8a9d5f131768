import * as E from 'fp-ts/lib/Either.js'
import { UNBOUNDED } from '../eventstore/adapter/bounds.js'
import type { Commit, EventMessage } from '../eventstore/Commit.js'
import type { StorageError } from '../eventstore/errors.js'
import type { Headers, Json } from '../eventstore/Json.js'
import type { Latest } from '../eventstore/ports.js'
import type { Reads } from '../eventstore/reads.js'
import type { Snapshot } from '../eventstore/Snapshot.js'
import { num, parseJson, text } from '../sql/rows.js'
import { get } from './commitStore.js'
import type { SqliteDatabase, SqliteStatement } from './config.js'
import { withRetry } from './connection.js'
import { statements, type SqliteContext } from './context.js'
import type { Names } from './schema.js'
import type { Statements } from './statements.js'

// -------------------------------------------------------------------------------------
// statements
// -------------------------------------------------------------------------------------

/**
 * The one-statement load: the newest snapshot at or below the bound and the first page of commits after it,
 * as one compound SELECT. Every row starts with its kind (0: the snapshot, 1: a commit); the columns after it
 * are `revision, sequence, payload, headers, checkpoint, commit id, stamp` (a snapshot has no token, id or stamp;
 * a commit keeps its headers inside its payload). Named parameters: `@t`, `@s`, `@max` (bounded only), `@limit`.
 */
export interface LoadStatements {
  /** No upper bound: the newest snapshot, then the commits after it. */
  readonly latest: SqliteStatement
  /** Up to `@max`: the commit that straddles it is returned whole, as `get` does (SEMANTICS 5). */
  readonly latestTo: SqliteStatement
}

const prepareLoadStatements = (db: SqliteDatabase, n: Names): LoadStatements => {
  const c = n.commits
  const raw = (sql: string) => db.prepare(sql).safeIntegers(false).raw(true)
  // The snapshot is one probe of the snapshots' primary key; the commits seek the (tenant, stream, revision)
  // index just past it. The CTE is read twice (the snapshot row, and the revision the commits start after).
  const statement = (snapshotBound: string, commitBound: string) =>
    raw(
      `WITH snap AS (
         SELECT stream_revision, commit_sequence, payload, headers FROM ${n.snapshots}
         WHERE tenant_id = @t AND stream_id = @s${snapshotBound} ORDER BY stream_revision DESC LIMIT 1)
       SELECT 0, stream_revision, commit_sequence, payload, headers, NULL, NULL, NULL FROM snap
       UNION ALL
       SELECT * FROM (
         SELECT 1, stream_revision, commit_sequence, payload, NULL, checkpoint, commit_id, commit_stamp FROM ${c}
         WHERE tenant_id = @t AND stream_id = @s
           AND stream_revision > COALESCE((SELECT stream_revision FROM snap), 0)${commitBound}
         ORDER BY stream_revision LIMIT @limit)`,
    )
  return {
    latest: statement('', ''),
    // As `streamPage`: the first commit reaching `@max` is found by one probe, so the read stops there.
    latestTo: statement(
      ' AND stream_revision <= @max',
      `
           AND stream_revision <= COALESCE(
             (SELECT stream_revision FROM ${c} WHERE tenant_id = @t AND stream_id = @s AND stream_revision >= @max
               ORDER BY stream_revision LIMIT 1), @max)
           AND stream_revision - items + 1 <= @max`,
    ),
  }
}

/**
 * Prepared on first use and kept with the store's other statements: keyed by them, so that the moment the store
 * forgets those (`drop()`, `close()`), these are forgotten too.
 */
const prepared = new WeakMap<Statements, LoadStatements>()

const loadStatements = (ctx: SqliteContext): LoadStatements => {
  const st = statements(ctx)
  let loads = prepared.get(st)
  if (loads === undefined) prepared.set(st, (loads = prepareLoadStatements(ctx.db, ctx.names)))
  return loads
}

// -------------------------------------------------------------------------------------
// rows
// -------------------------------------------------------------------------------------

interface Payload {
  readonly headers: Headers
  readonly events: readonly EventMessage[]
}

interface FirstPage {
  readonly snapshot: Snapshot | undefined
  readonly commits: readonly Commit[]
}

/** The rows of the load statement; throws on a row that does not parse (the caller makes it a StorageError). */
const toFirstPage = (tenantId: string, streamId: string, rows: readonly (readonly unknown[])[]): FirstPage => {
  let snapshot: Snapshot | undefined
  const commits: Commit[] = []
  for (const row of rows) {
    if (row[0] === 0) {
      snapshot = {
        tenantId,
        streamId,
        streamRevision: num(row[1]),
        commitSequence: num(row[2]),
        payload: parseJson<Json>(row[3]),
        headers: parseJson<Headers>(row[4]),
      }
      continue
    }
    const payload = parseJson<Payload>(row[3])
    commits.push({
      tenantId,
      streamId,
      streamRevision: num(row[1]),
      commitId: text(row[6]),
      commitSequence: num(row[2]),
      commitStamp: new Date(num(row[7])),
      headers: payload.headers,
      events: payload.events,
      checkpointToken: num(row[5]),
    })
  }
  return { snapshot, commits }
}

const firstPage = (ctx: SqliteContext, tenantId: string, streamId: string, maxRevision: number): Promise<E.Either<StorageError, FirstPage>> =>
  withRetry('readLatest', ctx.retry, () => {
    const st = loadStatements(ctx)
    const rows =
      maxRevision >= UNBOUNDED
        ? st.latest.all({ t: tenantId, s: streamId, limit: ctx.pageSize })
        : st.latestTo.all({ t: tenantId, s: streamId, max: maxRevision, limit: ctx.pageSize })
    return E.right(toFirstPage(tenantId, streamId, rows as unknown[][]))
  })

// -------------------------------------------------------------------------------------
// the read
// -------------------------------------------------------------------------------------

/**
 * A load in one statement (see `LatestReader`); a busy database is retried like every read. A stream longer than
 * a page goes on with `get` from the revision after the page's last commit, one page at a time.
 */
export async function* readLatest(ctx: SqliteContext, tenantId: string, streamId: string, maxRevision: number): Reads<Latest> {
  // A driver error, or a row that does not parse, comes back from `withRetry` as a StorageError carrying it.
  const page = await firstPage(ctx, tenantId, streamId, maxRevision)
  if (E.isLeft(page)) {
    yield page
    return
  }
  const { snapshot, commits } = page.right
  if (snapshot !== undefined) yield E.right({ _tag: 'Snapshot', snapshot })
  for (const commit of commits) yield E.right({ _tag: 'Commit', commit })
  const last = commits[commits.length - 1]
  if (last === undefined || commits.length < ctx.pageSize) return
  for await (const r of get(ctx, tenantId, streamId, { minRevision: last.streamRevision + 1, maxRevision })) {
    yield E.isLeft(r) ? r : E.right({ _tag: 'Commit', commit: r.right })
    if (E.isLeft(r)) return
  }
}
