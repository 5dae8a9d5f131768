import * as E from 'fp-ts/lib/Either.js'
import { firstRevision, type Commit, type CommitAttempt, type EventMessage } from '../Commit.js'
import { concurrencyConflict, duplicateCommit, invalidAttempt, type CommitError, type InvalidAttempt, type StorageError } from '../errors.js'
import type { EncodedEvent, Headers } from '../Json.js'
import type { Snapshot } from '../Snapshot.js'
import { idProblem } from './ids.js'
import { jsonObjectImage } from './json.js'

const isPositiveInt = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 1

const textOf = (v: unknown): string => (typeof v === 'string' ? v : '')

/**
 * Checks what an attempt can be checked for without the store, and returns the attempt as every store keeps it:
 * its JSON image (see `jsonImage`), with a commit stamp of its own. At least one event, positive integer
 * sequence and revision, a revision that leaves room for its events, storable ids within `ID_LIMITS`, a valid
 * stamp, and bodies with a string `type`. Anything a plain JavaScript caller passes (null, a number, a half-built
 * object) is an `InvalidAttempt`, never a throw. The store shell calls this before every commit.
 */
export const validateAttempt = (input: CommitAttempt): E.Either<InvalidAttempt, CommitAttempt> => {
  const a = input as unknown as Record<string, unknown> | null
  if (typeof a !== 'object' || a === null) return E.left(invalidAttempt('', '', `a commit attempt must be an object, got ${a === null ? 'null' : typeof a}`))
  const tenantId = textOf(a['tenantId'])
  const streamId = textOf(a['streamId'])
  const fail = (reason: string) => E.left(invalidAttempt(tenantId, streamId, reason))
  for (const what of ['tenantId', 'streamId', 'commitId'] as const) {
    const problem = idProblem(what, a[what])
    if (problem !== undefined) return fail(problem)
  }
  const events = a['events']
  if (!Array.isArray(events) || events.length === 0) return fail('a commit needs at least one event')
  const { commitSequence, streamRevision, commitStamp } = a
  if (!isPositiveInt(commitSequence)) return fail(`commitSequence must be a positive integer, got ${String(commitSequence)}`)
  if (!isPositiveInt(streamRevision)) return fail(`streamRevision must be a positive integer, got ${String(streamRevision)}`)
  const first = firstRevision({ streamRevision, events })
  if (first < 1) return fail(`streamRevision ${streamRevision} is smaller than the ${events.length} events of the commit`)
  if (commitSequence > first) return fail(`commitSequence ${commitSequence} cannot exceed the first event's revision ${first}`)
  if (!(commitStamp instanceof Date) || Number.isNaN(commitStamp.getTime())) return fail('commitStamp must be a valid Date')
  const headers = jsonObjectImage(a['headers'] ?? {}, 'headers')
  if (E.isLeft(headers)) return fail(headers.left)
  const messages: EventMessage[] = new Array(events.length)
  for (let i = 0; i < events.length; i++) {
    const m = events[i] as { body?: unknown; headers?: unknown } | null | undefined
    if (typeof m !== 'object' || m === null) return fail(`events/${i} must be an object with a body`)
    const body = jsonObjectImage(m.body, `events/${i}/body`)
    if (E.isLeft(body)) return fail(body.left)
    if (typeof body.right['type'] !== 'string') return fail('every event body needs a string `type`')
    const eventHeaders = jsonObjectImage(m.headers ?? {}, `events/${i}/headers`)
    if (E.isLeft(eventHeaders)) return fail(eventHeaders.left)
    messages[i] = { body: body.right as EncodedEvent, headers: eventHeaders.right }
  }
  return E.right({
    tenantId,
    streamId,
    streamRevision,
    commitId: a['commitId'] as string,
    commitSequence,
    commitStamp: new Date(commitStamp.getTime()),
    headers: headers.right as Headers,
    events: messages,
  })
}

/**
 * Checks a snapshot as `validateAttempt` checks an attempt, and returns its JSON image: storable ids, positive
 * integer revision and sequence (a sequence no larger than the revision), a JSON payload and JSON headers.
 */
export const validateSnapshot = (input: Snapshot): E.Either<InvalidAttempt, Snapshot> => {
  const s = input as unknown as Record<string, unknown> | null
  if (typeof s !== 'object' || s === null) return E.left(invalidAttempt('', '', `a snapshot must be an object, got ${s === null ? 'null' : typeof s}`))
  const tenantId = textOf(s['tenantId'])
  const streamId = textOf(s['streamId'])
  const fail = (reason: string) => E.left(invalidAttempt(tenantId, streamId, `snapshot: ${reason}`))
  for (const what of ['tenantId', 'streamId'] as const) {
    const problem = idProblem(what, s[what])
    if (problem !== undefined) return fail(problem)
  }
  const { streamRevision, commitSequence } = s
  if (!isPositiveInt(streamRevision)) return fail(`streamRevision must be a positive integer, got ${String(streamRevision)}`)
  if (!isPositiveInt(commitSequence)) return fail(`commitSequence must be a positive integer, got ${String(commitSequence)}`)
  if (commitSequence > streamRevision) return fail(`commitSequence ${commitSequence} cannot exceed streamRevision ${streamRevision}`)
  const payload = jsonObjectImage({ payload: s['payload'] }, 'snapshot')
  if (E.isLeft(payload)) return fail(payload.left)
  if (!('payload' in payload.right)) return fail('payload is missing')
  const headers = jsonObjectImage(s['headers'] ?? {}, 'headers')
  if (E.isLeft(headers)) return fail(headers.left)
  return E.right({ tenantId, streamId, streamRevision, commitSequence, payload: payload.right['payload'] as Snapshot['payload'], headers: headers.right })
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

/** What a store knows about an attempt it did not store: whether its commit id is taken, and the head. */
export interface Known {
  readonly duplicate: boolean
  readonly head: Head | undefined
}

/**
 * Why an attempt that a store did not (or must not) append is refused, in the precedence of SEMANTICS 4: a
 * duplicate commit id wins, then a collision with the head (a conflict carrying the commits the writer missed,
 * read through `missed` only in that case), then a gap. `undefined` means the attempt continues the head: the
 * store may append it now, or (if it just failed to) report a StorageError of its own.
 */
export const refusal = async (
  a: CommitAttempt,
  known: Known,
  missed: () => Promise<E.Either<StorageError, readonly Commit[]>>,
): Promise<CommitError | undefined> => {
  if (known.duplicate) return duplicateCommit(a.tenantId, a.streamId, a.commitId)
  switch (checkAgainstHead(a, known.head)) {
    case 'continues':
      return undefined
    case 'gap':
      return gapAfterHead(a, known.head)
    case 'behind': {
      const commits = await missed()
      if (E.isLeft(commits)) return commits.left
      return concurrencyConflict(a.tenantId, a.streamId, a.commitSequence, a.streamRevision, commits.right)
    }
  }
}

/** Which stored commits a writer behind the head had not seen: those from the first one it collides with. */
export const collidesWith = (a: CommitAttempt) => {
  const first = firstRevision(a)
  return (c: Pick<Commit, 'commitSequence' | 'streamRevision'>): boolean => c.commitSequence >= a.commitSequence || c.streamRevision >= first
}
