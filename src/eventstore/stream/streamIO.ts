import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { Commit } from '../Commit.js'
import { streamNotFound, type StreamError } from '../errors.js'
import type { CommitStore, RevisionRange } from '../ports.js'
import type { Reads } from '../reads.js'
import type { Snapshot } from '../Snapshot.js'
import {
  catchUp,
  emptyStream,
  markCommitted,
  takeCommits,
  toAttempt,
  toWindow,
  type StreamState,
  type Window,
} from './StreamState.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** How a stream stamps and names its commits. */
export interface StreamOptions {
  /** The commit stamp; `new Date()` by default. Stores keep millisecond precision. */
  readonly clock?: () => Date
  /** Commit ids when none is given; `crypto.randomUUID()` by default. */
  readonly newCommitId?: () => string
}

/**
 * A step of the unit of work: the next state, whatever happened, and the result. On a concurrency conflict the
 * state has taken in the missed commits and kept its pending events, so committing it again can succeed.
 */
export interface StreamStep<A> {
  readonly state: StreamState
  readonly result: E.Either<StreamError, A>
}

// -------------------------------------------------------------------------------------
// reading
// -------------------------------------------------------------------------------------

// Commits are taken in by batches: one at a time would copy the state's arrays once per commit (quadratic),
// all at once would hold a long stream twice.
const BATCH = 256

const populate = async (start: StreamState, reads: Reads<Commit>, window: Window): Promise<E.Either<StreamError, StreamState>> => {
  let state = start
  let batch: Commit[] = []
  for await (const r of reads) {
    if (E.isLeft(r)) return r
    batch.push(r.right)
    if (batch.length === BATCH) {
      state = takeCommits(state, batch, window)
      batch = []
    }
  }
  return E.right(batch.length === 0 ? state : takeCommits(state, batch, window))
}

/**
 * Opens a stream with optional revision bounds. A max revision that cuts through a commit gives a partial
 * stream; opening from a revision above 0 that yields no events is `StreamNotFound` (SEMANTICS 16).
 */
export const openStream = async (
  store: CommitStore,
  tenantId: string,
  streamId: string,
  range: RevisionRange = {},
): Promise<E.Either<StreamError, StreamState>> => {
  const window = toWindow(range.minRevision, range.maxRevision)
  const opened = await populate(emptyStream(tenantId, streamId), store.get(tenantId, streamId, range), window)
  if (E.isLeft(opened)) return opened
  const fromAbove0 = range.minRevision !== undefined && range.minRevision > 0
  if (fromAbove0 && opened.right.committedEvents.length === 0) return E.left(streamNotFound(tenantId, streamId))
  return opened
}

/** Opens a stream at a snapshot, reading only the events after it (up to `maxRevision`, if given). */
export const openStreamFromSnapshot = async (
  store: CommitStore,
  snapshot: Snapshot,
  maxRevision?: number,
): Promise<E.Either<StreamError, StreamState>> => {
  const base: StreamState = {
    ...emptyStream(snapshot.tenantId, snapshot.streamId),
    streamRevision: snapshot.streamRevision,
    commitSequence: snapshot.commitSequence,
  }
  const range = maxRevision === undefined ? { minRevision: snapshot.streamRevision + 1 } : { minRevision: snapshot.streamRevision + 1, maxRevision }
  return populate(base, store.get(snapshot.tenantId, snapshot.streamId, range), toWindow(range.minRevision, range.maxRevision))
}

/** Opens a stream as it was at `maxTime`: the commits stamped at or before it. */
export const openStreamAt = async (
  store: CommitStore,
  tenantId: string,
  streamId: string,
  maxTime: Date,
): Promise<E.Either<StreamError, StreamState>> =>
  populate(emptyStream(tenantId, streamId), store.getTo(tenantId, streamId, maxTime), toWindow())

// -------------------------------------------------------------------------------------
// writing
// -------------------------------------------------------------------------------------

const defaultClock = (): Date => new Date()
const defaultCommitId = (): string => globalThis.crypto.randomUUID()

/**
 * Commits what is pending under `commitId` (a fresh UUID when absent). `None` when nothing was pending. On a
 * concurrency conflict the returned state has caught up with the missed commits and still holds its pending
 * events; every other failure leaves the state as it was.
 */
export const commitStream = async (
  store: CommitStore,
  state: StreamState,
  commitId?: string,
  options: StreamOptions = {},
): Promise<StreamStep<O.Option<Commit>>> => {
  const id = commitId ?? (options.newCommitId ?? defaultCommitId)()
  const attempt = toAttempt(state, id, (options.clock ?? defaultClock)())
  if (E.isLeft(attempt)) return { state, result: attempt }
  if (O.isNone(attempt.right)) return { state, result: E.right(O.none) }
  const stored = await store.commit(attempt.right.value)
  if (E.isRight(stored)) return { state: markCommitted(state, stored.right), result: E.right(O.some(stored.right)) }
  const error = stored.left
  if (error._tag === 'ConcurrencyConflict') return { state: catchUp(state, error.missed), result: E.left(error) }
  return { state, result: E.left(error) }
}
