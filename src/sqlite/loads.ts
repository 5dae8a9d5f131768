import * as E from 'fp-ts/lib/Either.js'
import { UNBOUNDED } from '../eventstore/adapter/bounds.js'
import type { Commit } from '../eventstore/Commit.js'
import type { StorageError } from '../eventstore/errors.js'
import type { Latest } from '../eventstore/ports.js'
import type { Reads } from '../eventstore/reads.js'
import type { Snapshot } from '../eventstore/Snapshot.js'
import { get } from './commitStore.js'
import { withRetry } from './connection.js'
import { statements, type SqliteContext } from './context.js'
import { toCommit, toSnapshot, type CommitRow, type SnapshotRow } from './rows.js'

// -------------------------------------------------------------------------------------
// the first page
// -------------------------------------------------------------------------------------

interface FirstPage {
  readonly snapshot: Snapshot | undefined
  readonly commits: readonly Commit[]
}

/**
 * The snapshot and the first page of commits after it, as two statements run back to back in one synchronous
 * step: SQLite runs in the process, so there is no round trip to save, only statement work and the asynchronous
 * steps between them. Measured against one compound SELECT of both (a CTE for the snapshot, `UNION ALL` the page),
 * the two plain statements cost 22-33 us where the compound one cost 47-85 us (it materialises the CTE and runs the
 * page as a co-routine), so the load keeps the store's own statements: the snapshot probe, then `get`'s page.
 */
const firstPage = (ctx: SqliteContext, tenantId: string, streamId: string, maxRevision: number): Promise<E.Either<StorageError, FirstPage>> =>
  withRetry('readLatest', ctx.retry, () => {
    const st = statements(ctx)
    const row = st.snapshotAt.get(tenantId, streamId, maxRevision) as SnapshotRow | undefined
    const snapshot = row === undefined ? undefined : toSnapshot(row)
    const min = snapshot === undefined ? 1 : snapshot.streamRevision + 1
    const rows = (
      maxRevision >= UNBOUNDED
        ? st.streamPageAll.all(tenantId, streamId, min, ctx.pageSize)
        : st.streamPage.all(tenantId, streamId, min, tenantId, streamId, maxRevision, maxRevision, maxRevision, ctx.pageSize)
    ) as CommitRow[]
    return E.right({ snapshot, commits: rows.map(toCommit) })
  })

// -------------------------------------------------------------------------------------
// the read
// -------------------------------------------------------------------------------------

/**
 * A load in one step (see `LatestReader`); a busy database is retried like every read. A stream longer than a page
 * goes on with `get` from the revision after the page's last commit, one page at a time.
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
