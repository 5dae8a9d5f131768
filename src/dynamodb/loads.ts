import * as O from 'fp-ts/lib/Option.js'
import { UNBOUNDED } from '../eventstore/adapter/bounds.js'
import type { Latest } from '../eventstore/ports.js'
import type { Reads } from '../eventstore/reads.js'
import type { Snapshot } from '../eventstore/Snapshot.js'
import { loadCommit } from './chunks.js'
import { overlapping } from './commitStore.js'
import type { Item } from './connection.js'
import type { DynamoDbContext } from './context.js'
import { asReads } from './paging.js'
import { num } from './rows.js'
import { A, streamKey } from './schema.js'
import { newest } from './snapshotStore.js'
import { streamNewestQuery } from './statements.js'

/**
 * A load in one round trip (`LatestReader`): the snapshot Query and a Query of the stream's newest commits (one
 * page of up to `FIRST_PAGE`, newest first) are sent together. A stream reads back in key order from either end, so when that page
 * reaches down to the snapshot's revision (or to the stream's first commit) it holds exactly the commits that
 * `get` from the revision after the snapshot answers, and the load is done: two requests, one round trip, and the
 * commits in one Query. When more commits follow the snapshot than one page holds, the page is dropped and the
 * read goes on with `get` from the snapshot's revision, ascending, so that memory stays flat (SEMANTICS 5). A load
 * bounded by `maxRevision` is `getSnapshot` then `get`: its commits end inside the stream, not at the newest.
 */

/**
 * The first page's size: the newest commits are read before it is known where the snapshot is, so the page costs
 * reads for up to this many commits whatever the snapshot's place; past it, a load takes a second round trip.
 */
export const FIRST_PAGE = 32

const snapshotAt = async (ctx: DynamoDbContext, tenantId: string, streamId: string, maxRevision: number): Promise<Snapshot | undefined> =>
  O.toUndefined(await newest(ctx, tenantId, streamId, maxRevision))

/** The commits of a newest-first page above `revision`, oldest first, or `undefined` if the page stops short of it. */
const above = (items: readonly Item[], more: boolean, revision: number): readonly Item[] | undefined => {
  const kept: Item[] = []
  for (const item of items) {
    // A commit overlaps `(revision, ...]` when its last revision is above `revision`.
    if (num(item, A.revision) <= revision) return kept.reverse()
    kept.push(item)
  }
  return more ? undefined : kept.reverse()
}

/** The commits from `minRevision` on, as `get` reads them, each as a load's item. */
async function* tail(ctx: DynamoDbContext, pk: string, minRevision: number, maxRevision: number): AsyncGenerator<Latest> {
  for await (const commit of overlapping(ctx, pk, { minRevision, maxRevision })) yield { _tag: 'Commit', commit }
}

async function* latest(ctx: DynamoDbContext, tenantId: string, streamId: string, maxRevision: number): AsyncGenerator<Latest> {
  const pk = streamKey(tenantId, streamId)
  if (maxRevision < UNBOUNDED) {
    const snapshot = await snapshotAt(ctx, tenantId, streamId, maxRevision)
    if (snapshot !== undefined) yield { _tag: 'Snapshot', snapshot }
    yield* tail(ctx, pk, (snapshot?.streamRevision ?? 0) + 1, maxRevision)
    return
  }
  const [snapshot, page] = await Promise.all([
    snapshotAt(ctx, tenantId, streamId, maxRevision),
    ctx.connection.send('Query', { ...streamNewestQuery(ctx.config, pk), Limit: Math.min(FIRST_PAGE, ctx.config.pageSize) }),
  ])
  if (snapshot !== undefined) yield { _tag: 'Snapshot', snapshot }
  const from = snapshot?.streamRevision ?? 0
  const items = above(page.Items ?? [], page.LastEvaluatedKey !== undefined, from)
  if (items === undefined) {
    yield* tail(ctx, pk, from + 1, maxRevision)
    return
  }
  for (const item of items) yield { _tag: 'Commit', commit: await loadCommit(ctx, item) }
}

export const readLatest = (ctx: DynamoDbContext, tenantId: string, streamId: string, maxRevision: number): Reads<Latest> =>
  asReads(latest(ctx, tenantId, streamId, maxRevision))
