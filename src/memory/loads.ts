import { fromIterable } from '../eventstore/adapter/reads.js'
import { firstRevision } from '../eventstore/Commit.js'
import type { Latest } from '../eventstore/ports.js'
import type { Reads } from '../eventstore/reads.js'
import { handOut, streamOf, type MemoryContext } from './context.js'

/**
 * A load in one call (see `LatestReader`): the newest snapshot at or below `maxRevision`, then the commits that
 * overlap the revisions after it. Everything is in memory, so it is `getSnapshot` and `get` taken together, at
 * one moment (no commit can slip in between them).
 */
export const readLatest = (ctx: MemoryContext, tenantId: string, streamId: string, maxRevision: number): Reads<Latest> => {
  const data = streamOf(ctx, tenantId, streamId)
  if (data === undefined) return fromIterable([])
  let snapshot
  for (const s of data.snapshots) if (s.streamRevision <= maxRevision) snapshot = s
  const min = snapshot === undefined ? 1 : snapshot.streamRevision + 1
  const out: Latest[] = snapshot === undefined ? [] : [{ _tag: 'Snapshot', snapshot }]
  for (const c of data.commits)
    if (c.streamRevision >= min && firstRevision(c) <= maxRevision) out.push({ _tag: 'Commit', commit: handOut(c) })
  return fromIterable(out)
}
