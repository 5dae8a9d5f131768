import type { Commit } from '../eventstore/Commit.js'
import type { ConcurrencyConflict, StreamError } from '../eventstore/errors.js'
import type { EncodedEvent } from '../eventstore/Json.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The decider refused the command; `error` is its own error value. Nothing was written. */
export interface Rejected<Err> {
  readonly _tag: 'Rejected'
  readonly error: Err
}

/**
 * Another writer stored events that conflict with the pending ones (SEMANTICS 17). Nothing was written; the
 * pending events are given back, with the commits that were missed, so nothing is lost.
 */
export interface ConflictDetected {
  readonly _tag: 'ConflictDetected'
  readonly tenantId: string
  readonly streamId: string
  readonly pending: readonly EncodedEvent[]
  readonly missed: readonly Commit[]
}

/** Every retry met another concurrent writer; `last` is the final conflict. Nothing was written. */
export interface RetriesExhausted {
  readonly _tag: 'RetriesExhausted'
  readonly tenantId: string
  readonly streamId: string
  readonly attempts: number
  readonly last: ConcurrencyConflict
}

/**
 * The stream was not at the revision the caller expected (`expectedVersion`, e.g. from an HTTP `If-Match`), either
 * before deciding or when the conditioned append collided with another writer. Nothing was decided or written;
 * `actual` is the revision the repository found the stream at.
 */
export interface WrongExpectedVersion {
  readonly _tag: 'WrongExpectedVersion'
  readonly tenantId: string
  readonly streamId: string
  readonly expected: number
  readonly actual: number
}

/** What loading and saving can fail with. */
export type RepositoryError = StreamError | ConflictDetected | RetriesExhausted | WrongExpectedVersion

/** What handling a command can fail with: a repository error or the decider's rejection. */
export type HandleError<Err> = RepositoryError | Rejected<Err>

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

export const rejected = <Err>(error: Err): Rejected<Err> => ({ _tag: 'Rejected', error })

export const conflictDetected = (
  tenantId: string,
  streamId: string,
  pending: readonly EncodedEvent[],
  missed: readonly Commit[],
): ConflictDetected => ({ _tag: 'ConflictDetected', tenantId, streamId, pending, missed })

export const retriesExhausted = (
  tenantId: string,
  streamId: string,
  attempts: number,
  last: ConcurrencyConflict,
): RetriesExhausted => ({ _tag: 'RetriesExhausted', tenantId, streamId, attempts, last })

export const wrongExpectedVersion = (tenantId: string, streamId: string, expected: number, actual: number): WrongExpectedVersion => ({
  _tag: 'WrongExpectedVersion',
  tenantId,
  streamId,
  expected,
  actual,
})

// -------------------------------------------------------------------------------------
// class face
// -------------------------------------------------------------------------------------

const describe = (e: { readonly _tag: string }): string => {
  const m = (e as { message?: unknown }).message
  const where = (e as { streamId?: unknown }).streamId
  return [e._tag, typeof where === 'string' ? `stream ${JSON.stringify(where)}` : '', typeof m === 'string' ? m : '']
    .filter((s) => s !== '')
    .join(': ')
}

/**
 * What the class face throws: an `Error` that carries the tagged error value, so that OO callers can
 * `catch (e) { if (e instanceof DomainFailure) switch (e.error._tag) ... }` and still match exhaustively.
 */
export class DomainFailure<E extends { readonly _tag: string } = RepositoryError> extends Error {
  override readonly name = 'DomainFailure'
  constructor(readonly error: E) {
    super(describe(error))
  }
}

/** Recognises a `DomainFailure` structurally, so that two copies of the package still agree. */
export const isDomainFailure = (u: unknown): u is DomainFailure<{ readonly _tag: string }> =>
  u instanceof Error && u.name === 'DomainFailure' && typeof (u as { error?: { _tag?: unknown } }).error?._tag === 'string'
