import * as E from 'fp-ts/lib/Either.js'
import { firstRevision, type CommitAttempt } from './Commit.js'
import { invalidAttempt, type InvalidAttempt } from './errors.js'
import { isStorableId, unstorableIdReason } from './ids.js'

const isPositiveInt = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 1

/**
 * Checks what an attempt can be checked for without the store: at least one event, positive integer sequence
 * and revision, a revision that leaves room for its events, ids and a valid stamp. Every store calls this first,
 * so that the rules live in one place.
 */
export const validateAttempt = (a: CommitAttempt): E.Either<InvalidAttempt, CommitAttempt> => {
  const fail = (reason: string) => E.left(invalidAttempt(a.tenantId, a.streamId, reason))
  if (typeof a.tenantId !== 'string' || a.tenantId.length === 0) return fail('tenantId must be a non-empty string')
  if (typeof a.streamId !== 'string' || a.streamId.length === 0) return fail('streamId must be a non-empty string')
  if (typeof a.commitId !== 'string' || a.commitId.length === 0) return fail('commitId must be a non-empty string')
  for (const [what, id] of [['tenantId', a.tenantId], ['streamId', a.streamId], ['commitId', a.commitId]] as const) {
    if (!isStorableId(id)) return fail(unstorableIdReason(what))
  }
  if (!Array.isArray(a.events) || a.events.length === 0) return fail('a commit needs at least one event')
  if (!isPositiveInt(a.commitSequence)) return fail(`commitSequence must be a positive integer, got ${String(a.commitSequence)}`)
  if (!isPositiveInt(a.streamRevision)) return fail(`streamRevision must be a positive integer, got ${String(a.streamRevision)}`)
  if (firstRevision(a) < 1)
    return fail(`streamRevision ${a.streamRevision} is smaller than the ${a.events.length} events of the commit`)
  if (a.commitSequence > a.streamRevision - a.events.length + 1)
    return fail(`commitSequence ${a.commitSequence} cannot exceed the first event's revision ${firstRevision(a)}`)
  if (!(a.commitStamp instanceof Date) || Number.isNaN(a.commitStamp.getTime())) return fail('commitStamp must be a valid Date')
  for (const m of a.events) {
    if (typeof m?.body?.type !== 'string') return fail('every event body needs a string `type`')
  }
  return E.right(a)
}

/** A stream's head as a store sees it before appending. */
export interface Head {
  readonly commitSequence: number
  readonly streamRevision: number
}

export type HeadCheck = 'continues' | 'behind' | 'gap'

/**
 * Classifies an attempt against the stream's head (SEMANTICS 3): it must continue the head exactly. An attempt
 * that collides with the head on either number is behind (a concurrency conflict); one that leaves a gap is not.
 */
export const checkAgainstHead = (a: CommitAttempt, head: Head | undefined): HeadCheck => {
  const seq = head?.commitSequence ?? 0
  const rev = head?.streamRevision ?? 0
  const first = firstRevision(a)
  if (a.commitSequence <= seq || first <= rev) return 'behind'
  if (a.commitSequence === seq + 1 && first === rev + 1) return 'continues'
  return 'gap'
}

/** The error for an attempt that leaves a gap after the head: one wording for every store. */
export const gapAfterHead = (a: CommitAttempt, head: Head | undefined): InvalidAttempt =>
  invalidAttempt(
    a.tenantId,
    a.streamId,
    `attempt (sequence ${a.commitSequence}, revision ${a.streamRevision}) leaves a gap after head ` +
      `(sequence ${head?.commitSequence ?? 0}, revision ${head?.streamRevision ?? 0})`,
  )
