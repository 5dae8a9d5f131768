import type { Commit } from './Commit.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The attempt's commit id is already stored in that stream (SEMANTICS 4). Nothing was written. */
export interface DuplicateCommit {
  readonly _tag: 'DuplicateCommit'
  readonly tenantId: string
  readonly streamId: string
  readonly commitId: string
}

/**
 * Another writer got to the attempt's sequence or revision first (SEMANTICS 3). `missed` holds the commits
 * the writer had not seen, oldest first, so that it can catch up without another read.
 */
export interface ConcurrencyConflict {
  readonly _tag: 'ConcurrencyConflict'
  readonly tenantId: string
  readonly streamId: string
  readonly attemptedSequence: number
  readonly attemptedRevision: number
  readonly missed: readonly Commit[]
}

/** The attempt can never succeed as written: no events, a revision that does not match, a gap. */
export interface InvalidAttempt {
  readonly _tag: 'InvalidAttempt'
  readonly tenantId: string
  readonly streamId: string
  readonly reason: string
}

/**
 * A pre-commit hook of `withHooks` refused the attempt (or threw). Nothing was stored and no post-commit hook ran.
 * `hook` names the hook (its `name`, or its position in the list); `details` is what it attached, or what it threw.
 */
export interface HookRejected {
  readonly _tag: 'HookRejected'
  readonly tenantId: string
  readonly streamId: string
  readonly commitId: string
  readonly hook: string
  readonly reason: string
  readonly details: unknown
}

/** The database or driver failed; `cause` is the driver's own error, kept whole. */
export interface StorageError {
  readonly _tag: 'StorageError'
  readonly operation: string
  readonly message: string
  readonly cause: unknown
}

/** One failing field of a decode: `path` reads like `Deposited/amount`. */
export interface DecodeIssue {
  readonly path: string
  readonly expected: string
  readonly actual: unknown
}

/** A stored body has a known topic but does not match its codec. */
export interface DecodeError {
  readonly _tag: 'DecodeError'
  readonly topic: string
  readonly issues: readonly DecodeIssue[]
  readonly message: string
}

/** A stored body names a topic that no codec is registered for (or has no `type` at all). */
export interface UnknownTopic {
  readonly _tag: 'UnknownTopic'
  readonly topic: string
}

/** Opening a stream from a revision above 0 found no events (SEMANTICS 16). */
export interface StreamNotFound {
  readonly _tag: 'StreamNotFound'
  readonly tenantId: string
  readonly streamId: string
}

/** The stream was opened with a max revision that cuts through a commit, so it may not commit (SEMANTICS 16). */
export interface PartialStream {
  readonly _tag: 'PartialStream'
  readonly tenantId: string
  readonly streamId: string
  readonly maxRevision: number
}

/**
 * A read or lookup was asked with a bound that means nothing: a checkpoint, revision or threshold that is NaN or
 * not a number, or an Invalid Date. Answered before any I/O, the same on every store; never read as "from 0".
 */
export interface InvalidArgument {
  readonly _tag: 'InvalidArgument'
  readonly operation: string
  readonly reason: string
  readonly message: string
}

/** What a read can fail with: the database, or a bound that means nothing. */
export type ReadError = StorageError | InvalidArgument

/** What adding a snapshot can fail with: the database, or a snapshot that can never be stored as given. */
export type SnapshotError = StorageError | InvalidAttempt

/** What a commit attempt can fail with. */
export type CommitError = DuplicateCommit | ConcurrencyConflict | InvalidAttempt | StorageError | HookRejected

/** What decoding a stored body can fail with. */
export type CodecError = DecodeError | UnknownTopic

/** What an event stream (unit of work) can fail with. */
export type StreamError = CommitError | CodecError | StreamNotFound | PartialStream | InvalidArgument

/** Every error the event store layer can return: a closed union, discriminated by `_tag`. */
export type EventStoreError = StreamError

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

export const duplicateCommit = (tenantId: string, streamId: string, commitId: string): DuplicateCommit => ({
  _tag: 'DuplicateCommit',
  tenantId,
  streamId,
  commitId,
})

export const concurrencyConflict = (
  tenantId: string,
  streamId: string,
  attemptedSequence: number,
  attemptedRevision: number,
  missed: readonly Commit[],
): ConcurrencyConflict => ({
  _tag: 'ConcurrencyConflict',
  tenantId,
  streamId,
  attemptedSequence,
  attemptedRevision,
  missed,
})

export const invalidAttempt = (tenantId: string, streamId: string, reason: string): InvalidAttempt => ({
  _tag: 'InvalidAttempt',
  tenantId,
  streamId,
  reason,
})

export const hookRejected = (
  attempt: { readonly tenantId: string; readonly streamId: string; readonly commitId: string },
  hook: string,
  reason: string,
  details?: unknown,
): HookRejected => ({
  _tag: 'HookRejected',
  tenantId: attempt.tenantId,
  streamId: attempt.streamId,
  commitId: attempt.commitId,
  hook,
  reason,
  details,
})

/** Wraps a driver failure; the message is taken from the cause when it has one. */
export const storageError = (operation: string, cause: unknown): StorageError => ({
  _tag: 'StorageError',
  operation,
  message: `${operation} failed: ${describeCause(cause)}`,
  cause,
})

export const invalidArgument = (operation: string, reason: string): InvalidArgument => ({
  _tag: 'InvalidArgument',
  operation,
  reason,
  message: `${operation}: ${reason}`,
})

export const decodeError = (topic: string, issues: readonly DecodeIssue[]): DecodeError => ({
  _tag: 'DecodeError',
  topic,
  issues,
  message: issues.map((i) => `${i.path}: expected ${i.expected}`).join('; '),
})

export const unknownTopic = (topic: string): UnknownTopic => ({ _tag: 'UnknownTopic', topic })

export const streamNotFound = (tenantId: string, streamId: string): StreamNotFound => ({
  _tag: 'StreamNotFound',
  tenantId,
  streamId,
})

export const partialStream = (tenantId: string, streamId: string, maxRevision: number): PartialStream => ({
  _tag: 'PartialStream',
  tenantId,
  streamId,
  maxRevision,
})

// -------------------------------------------------------------------------------------
// refinements
// -------------------------------------------------------------------------------------

const tags: ReadonlySet<string> = new Set<EventStoreError['_tag']>([
  'DuplicateCommit',
  'ConcurrencyConflict',
  'InvalidAttempt',
  'StorageError',
  'HookRejected',
  'DecodeError',
  'UnknownTopic',
  'StreamNotFound',
  'PartialStream',
  'InvalidArgument',
])

/** A structural check by tag, so that errors from two copies of the package are still recognised. */
export const isEventStoreError = (u: unknown): u is EventStoreError =>
  typeof u === 'object' && u !== null && tags.has((u as { _tag?: unknown })._tag as string)

// -------------------------------------------------------------------------------------
// pattern matching
// -------------------------------------------------------------------------------------

type Handlers<E extends { readonly _tag: string }, R> = { readonly [K in E['_tag']]: (e: Extract<E, { _tag: K }>) => R }

/** Exhaustive match on any closed error union of the kit: a missing case does not compile. */
export const matchError =
  <E extends { readonly _tag: string }, R>(handlers: Handlers<E, R>) =>
  (e: E): R =>
    (handlers[e._tag as E['_tag']] as (e: E) => R)(e)

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const describeCause = (cause: unknown): string => {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code
    return code === undefined ? cause.message : `${cause.message} (${String(code)})`
  }
  return String(cause)
}
