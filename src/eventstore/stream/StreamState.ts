import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { Commit, CommitAttempt, EventMessage } from '../Commit.js'
import { takeCommitsInto } from './takeCommitsInto.js'
import { duplicateCommit, partialStream, type DuplicateCommit, type PartialStream } from '../errors.js'
import type { EncodedEvent, Headers, Json } from '../Json.js'
import { lowerRevision, upperRevision } from '../adapter/bounds.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * One stream as a unit of work (SEMANTICS 16), as an immutable value: what was read (committed events and
 * headers, the head it reached) and what waits to be committed (pending events and commit headers). Every
 * function below returns a new state; `EventStream` is a thin mutable shell over them.
 */
export interface StreamState {
  readonly tenantId: string
  readonly streamId: string
  /** Revision of the last committed event this state knows (0 for a new stream). */
  readonly streamRevision: number
  /** Sequence of the last commit this state knows (0 for a new stream). */
  readonly commitSequence: number
  readonly committedEvents: readonly EventMessage[]
  /** The headers of every commit read, later commits overwriting earlier keys. */
  readonly committedHeaders: Headers
  readonly pendingEvents: readonly EventMessage[]
  readonly pendingHeaders: Headers
  /** Ids of the commits read, so that committing one of them again is caught before the store is asked. */
  readonly commitIds: ReadonlySet<string>
  /** The max revision the stream was opened with when it cut through a commit; such a stream may not commit. */
  readonly partialAt: number | null
}

/** Bounds used when taking commits into a state: events outside `[min, max]` are left out. */
export interface Window {
  readonly minRevision: number
  readonly maxRevision: number
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** A new, empty stream: revision 0, sequence 0, nothing pending. */
export const emptyStream = (tenantId: string, streamId: string): StreamState => ({
  tenantId,
  streamId,
  streamRevision: 0,
  commitSequence: 0,
  committedEvents: [],
  committedHeaders: {},
  pendingEvents: [],
  pendingHeaders: {},
  commitIds: new Set(),
  partialAt: null,
})

/** Normalises optional bounds: a missing or non-positive bound means "from the start" / "to the end". */
export const toWindow = (minRevision?: number, maxRevision?: number): Window => ({
  minRevision: lowerRevision(minRevision),
  maxRevision: upperRevision(maxRevision),
})

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * Takes commits into a state, oldest first (NEventStore's `PopulateStream`). Only events inside the window are
 * kept; a commit that starts beyond the window is ignored, and one that ends beyond it makes the state partial.
 * Commits already known (by revision) are skipped, so catching up after a conflict can be given any overlap.
 */
export const takeCommits = (state: StreamState, commits: Iterable<Commit>, window: Window): StreamState =>
  takeCommitsInto(state, commits, window, new Set(state.commitIds), [...state.committedEvents])

/** Adds one event to the pending commit. */
export const addEvent = (state: StreamState, body: EncodedEvent, headers: Headers = {}): StreamState => ({
  ...state,
  pendingEvents: [...state.pendingEvents, { body, headers }],
})

/** Adds event messages to the pending commit, in order. */
export const addEvents = (state: StreamState, messages: Iterable<EventMessage>): StreamState => ({
  ...state,
  pendingEvents: [...state.pendingEvents, ...messages],
})

/** Sets one header of the pending commit (keys may contain dots). */
export const setHeader = (state: StreamState, key: string, value: Json): StreamState => ({
  ...state,
  pendingHeaders: { ...state.pendingHeaders, [key]: value },
})

/** Merges headers into the pending commit's headers. */
export const setHeaders = (state: StreamState, headers: Headers): StreamState => ({
  ...state,
  pendingHeaders: { ...state.pendingHeaders, ...headers },
})

/** Drops pending events and headers. */
export const clearChanges = (state: StreamState): StreamState => ({ ...state, pendingEvents: [], pendingHeaders: {} })

/**
 * Takes in the commits a writer missed (from a `ConcurrencyConflict`) and keeps what is pending, so that the
 * next attempt continues the new head (SEMANTICS 16).
 */
export const catchUp = (state: StreamState, missed: Iterable<Commit>): StreamState =>
  takeCommits(state, missed, toWindow(state.streamRevision + 1))

/** The state after its pending commit was stored as `commit`. */
export const markCommitted = (state: StreamState, commit: Commit): StreamState => {
  const ids = new Set(state.commitIds)
  ids.add(commit.commitId)
  return {
    ...state,
    streamRevision: commit.streamRevision,
    commitSequence: commit.commitSequence,
    committedEvents: [...state.committedEvents, ...commit.events],
    committedHeaders: { ...state.committedHeaders, ...commit.headers },
    pendingEvents: [],
    pendingHeaders: {},
    commitIds: ids,
  }
}

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** Whether there is anything to commit. */
export const hasChanges = (state: StreamState): boolean => state.pendingEvents.length > 0

/**
 * The attempt that commits what is pending, `None` when nothing is. A partial stream refuses, and so does a
 * commit id the state has already read (the store would answer the same).
 */
export const toAttempt = (
  state: StreamState,
  commitId: string,
  commitStamp: Date,
): E.Either<PartialStream | DuplicateCommit, O.Option<CommitAttempt>> => {
  if (state.partialAt !== null) return E.left(partialStream(state.tenantId, state.streamId, state.partialAt))
  if (state.commitIds.has(commitId)) return E.left(duplicateCommit(state.tenantId, state.streamId, commitId))
  if (!hasChanges(state)) return E.right(O.none)
  return E.right(
    O.some({
      tenantId: state.tenantId,
      streamId: state.streamId,
      streamRevision: state.streamRevision + state.pendingEvents.length,
      commitId,
      commitSequence: state.commitSequence + 1,
      commitStamp,
      headers: state.pendingHeaders,
      events: state.pendingEvents,
    }),
  )
}

/** Revision of the first committed event the state holds (events before it were outside the window). */
export const firstCommittedRevision = (state: StreamState): number =>
  state.streamRevision - state.committedEvents.length + 1
