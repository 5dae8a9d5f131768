import * as E from 'fp-ts/lib/Either.js'
import { collidesWith, refusal } from '../eventstore/adapter/attempt.js'
import type { Window } from '../eventstore/adapter/bounds.js'
import { fromIterable } from '../eventstore/adapter/reads.js'
import { firstRevision, type Commit, type CommitAttempt } from '../eventstore/Commit.js'
import type { CommitError } from '../eventstore/errors.js'
import type { Reads } from '../eventstore/reads.js'
import { createStream, handOut, keep, streamOf, type MemoryContext } from './context.js'

const handOutAll = (commits: Iterable<Commit>): Reads<Commit> => fromIterable(Array.from(commits, handOut))

/** Appends an attempt; everything is synchronous underneath, so it is atomic with respect to every other call. */
export const commit = async (ctx: MemoryContext, attempt: CommitAttempt): Promise<E.Either<CommitError, Commit>> => {
  const stream = streamOf(ctx, attempt.tenantId, attempt.streamId)
  const commits = stream?.commits ?? []
  const head = commits[commits.length - 1]
  const refused = await refusal(attempt, { duplicate: stream?.commitIds.has(attempt.commitId) ?? false, head }, async () =>
    E.right(commits.filter(collidesWith(attempt)).map(handOut)),
  )
  if (refused !== undefined) return E.left(refused)
  // `refusal` awaited nothing that could interleave (its reader only runs for a conflict), but check the head
  // again anyway so that the store's atomicity never rests on that detail.
  if (streamOf(ctx, attempt.tenantId, attempt.streamId)?.commits.at(-1) !== head) return commit(ctx, attempt)
  const stored = keep({ ...attempt, checkpointToken: ctx.nextToken })
  ctx.nextToken += 1
  const data = stream ?? createStream(ctx, attempt.tenantId, attempt.streamId)
  data.commits.push(stored)
  data.commitIds.add(attempt.commitId)
  ctx.log.push(stored)
  return E.right(handOut(stored))
}

export const get = (ctx: MemoryContext, tenantId: string, streamId: string, { minRevision, maxRevision }: Window): Reads<Commit> => {
  const commits = streamOf(ctx, tenantId, streamId)?.commits ?? []
  // A commit overlaps [min, max] when its last revision reaches min and its first does not pass max.
  return handOutAll(commits.filter((c) => c.streamRevision >= minRevision && firstRevision(c) <= maxRevision))
}

export const getTo = (ctx: MemoryContext, tenantId: string, streamId: string, maxTime: Date): Reads<Commit> => {
  const t = maxTime.getTime()
  return handOutAll((streamOf(ctx, tenantId, streamId)?.commits ?? []).filter((c) => c.commitStamp.getTime() <= t))
}

export const getAllTo = (ctx: MemoryContext, tenantId: string, maxTime: Date): Reads<Commit> => {
  const t = maxTime.getTime()
  return handOutAll(ctx.log.filter((c) => c.tenantId === tenantId && c.commitStamp.getTime() <= t))
}

export const getFromTo = (ctx: MemoryContext, from: number, to: number, tenantId: string | undefined): Reads<Commit> => {
  // The log is sorted by token; find the first token above `from` by binary search.
  const log = ctx.log
  let lo = 0
  let hi = log.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((log[mid]?.checkpointToken ?? 0) <= from) lo = mid + 1
    else hi = mid
  }
  const out: Commit[] = []
  for (let i = lo; i < log.length; i++) {
    const c = log[i] as Commit
    if (c.checkpointToken > to) break
    if (tenantId === undefined || c.tenantId === tenantId) out.push(c)
  }
  return handOutAll(out)
}
