import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { fromIterable } from '../eventstore/adapter/reads.js'
import type { StorageError } from '../eventstore/errors.js'
import type { Reads } from '../eventstore/reads.js'
import type { Snapshot, StreamHead, StreamInfo } from '../eventstore/Snapshot.js'
import { createStream, keep, streamOf, type MemoryContext } from './context.js'

export const getSnapshot = async (
  ctx: MemoryContext,
  tenantId: string,
  streamId: string,
  maxRevision: number,
): Promise<E.Either<StorageError, O.Option<Snapshot>>> => {
  let found: Snapshot | undefined
  for (const s of streamOf(ctx, tenantId, streamId)?.snapshots ?? []) if (s.streamRevision <= maxRevision) found = s
  return E.right(O.fromNullable(found))
}

/** One snapshot per revision: a later one at the same revision replaces the earlier. */
export const addSnapshot = async (ctx: MemoryContext, snapshot: Snapshot): Promise<E.Either<StorageError, void>> => {
  const data = streamOf(ctx, snapshot.tenantId, snapshot.streamId) ?? createStream(ctx, snapshot.tenantId, snapshot.streamId)
  data.snapshots = [...data.snapshots.filter((s) => s.streamRevision !== snapshot.streamRevision), keep(snapshot)].sort(
    (a, b) => a.streamRevision - b.streamRevision,
  )
  return E.right(undefined)
}

export const streamsToSnapshot = (ctx: MemoryContext, tenantId: string, threshold: number): Reads<StreamHead> => {
  const heads: StreamHead[] = []
  for (const [streamId, data] of ctx.tenants.get(tenantId) ?? []) {
    const head = data.commits[data.commits.length - 1]
    if (head === undefined) continue
    const snapshotRevision = data.snapshots[data.snapshots.length - 1]?.streamRevision ?? 0
    if (head.streamRevision - snapshotRevision >= threshold) heads.push({ tenantId, streamId, headRevision: head.streamRevision, snapshotRevision })
  }
  return fromIterable(heads)
}

export const listStreams = (ctx: MemoryContext, tenantId: string): Reads<StreamInfo> => {
  const out: StreamInfo[] = []
  for (const [streamId, data] of ctx.tenants.get(tenantId) ?? []) {
    const head = data.commits[data.commits.length - 1]
    if (head === undefined) continue
    out.push({ tenantId, streamId, headRevision: head.streamRevision, headSequence: head.commitSequence, lastCommitStamp: new Date(head.commitStamp.getTime()) })
  }
  return fromIterable(out)
}

export const listTenants = (ctx: MemoryContext): Reads<string> =>
  fromIterable([...ctx.tenants].filter(([, streams]) => [...streams.values()].some((d) => d.commits.length > 0)).map(([t]) => t))
