import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { Commit, EventMessage } from '../Commit.js'
import { storageError, streamNotFound, type ReadError, type StreamError } from '../errors.js'
import type { CommitStore, Latest, RevisionRange } from '../ports.js'
import type { Reads } from '../reads.js'
import type { Snapshot } from '../Snapshot.js'
import { takeCommitsInto } from './takeCommitsInto.js'
import {
  catchUp,
  emptyStream,
  markCommitted,
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

// Commits are taken in by batches of at most 256 commits or about 1,000 events, whichever comes first: all at once
// would hold a long stream twice, and a batch of many large commits lives long enough to reach the old generation
// (measured by `npm run bench:memory`: the peak heap of a 1,000,000-event load grew with the stream).
const BATCH = 256
const BATCH_EVENTS = 1000

/**
 * Takes the events of each batch as it is read (decoding and folding them, say), so that a long stream is never
 * held whole: the state keeps its head, headers and commit ids, and an empty `committedEvents`. A `Left` stops
 * the read.
 */
export type ConsumeEvents = (events: readonly EventMessage[]) => E.Either<StreamError, void>

const identity = (c: Commit): Commit => c

const populate = (start: StreamState, reads: Reads<Commit>, window: Window, consume?: ConsumeEvents): Promise<E.Either<StreamError, StreamState>> =>
  populateFrom(start, reads[Symbol.asyncIterator](), identity, window, consume)

/**
 * Takes the commits of a read into `start`, batch by batch. `commitOf` finds the commit in each item (undefined
 * for an item that has none, which ends the load with `misplaced`), so that a read of other items (see
 * `openStreamLatest`) needs no wrapping iterator.
 */
const populateFrom = async <A>(
  start: StreamState,
  iterator: AsyncIterator<E.Either<ReadError, A>>,
  commitOf: (item: A) => Commit | undefined,
  window: Window,
  consume?: ConsumeEvents,
  first?: Commit,
): Promise<E.Either<StreamError, StreamState>> => {
  let state = start
  let batch: Commit[] = first === undefined ? [] : [first]
  let batchEvents = first === undefined ? 0 : first.events.length
  // One set of commit ids for the whole load, and without `consume` one array of events (a consumer gets a new
  // array per batch, which it may keep).
  const ids = new Set(start.commitIds)
  const events = [...start.committedEvents]
  const take = (): E.Either<StreamError, void> => {
    state = takeCommitsInto(state, batch, window, ids, consume === undefined ? events : [...state.committedEvents])
    batch = []
    batchEvents = 0
    if (consume === undefined || state.committedEvents.length === 0) return E.right(undefined)
    const consumed = consume(state.committedEvents)
    state = { ...state, committedEvents: [] }
    return consumed
  }
  const stop = async (error: StreamError): Promise<E.Either<StreamError, StreamState>> => {
    await iterator.return?.()
    return E.left(error)
  }
  for (;;) {
    const r = await iterator.next()
    if (r.done === true) break
    if (E.isLeft(r.value)) return r.value
    const c = commitOf(r.value.right)
    if (c === undefined) return stop(storageError('readLatest', new Error('the store answered a snapshot after the first item')))
    batch.push(c)
    batchEvents += c.events.length
    if (batch.length === BATCH || batchEvents >= BATCH_EVENTS) {
      const taken = take()
      if (E.isLeft(taken)) return stop(taken.left)
    }
  }
  if (batch.length > 0) {
    const taken = take()
    if (E.isLeft(taken)) return taken
  }
  return E.right(state)
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
  consume?: ConsumeEvents,
): Promise<E.Either<StreamError, StreamState>> => {
  const window = toWindow(range.minRevision, range.maxRevision)
  let seen = 0
  const counting: ConsumeEvents | undefined =
    consume === undefined
      ? undefined
      : (events) => {
          seen += events.length
          return consume(events)
        }
  const opened = await populate(emptyStream(tenantId, streamId), store.get(tenantId, streamId, range), window, counting)
  if (E.isLeft(opened)) return opened
  const fromAbove0 = range.minRevision !== undefined && range.minRevision > 0
  if (fromAbove0 && seen + opened.right.committedEvents.length === 0) return E.left(streamNotFound(tenantId, streamId))
  return opened
}

/** Opens a stream at a snapshot, reading only the events after it (up to `maxRevision`, if given). */
export const openStreamFromSnapshot = async (
  store: CommitStore,
  snapshot: Snapshot,
  maxRevision?: number,
  consume?: ConsumeEvents,
): Promise<E.Either<StreamError, StreamState>> => {
  const base: StreamState = {
    ...emptyStream(snapshot.tenantId, snapshot.streamId),
    streamRevision: snapshot.streamRevision,
    commitSequence: snapshot.commitSequence,
  }
  const range = maxRevision === undefined ? { minRevision: snapshot.streamRevision + 1 } : { minRevision: snapshot.streamRevision + 1, maxRevision }
  return populate(base, store.get(snapshot.tenantId, snapshot.streamId, range), toWindow(range.minRevision, range.maxRevision), consume)
}

/** How a load that read its snapshot with `readLatest` goes on: from the snapshot, or by replaying the stream. */
export interface LatestStart {
  /** `snapshot`: the snapshot's state, then the commits after it; `start`: the whole stream (the snapshot is ignored). */
  readonly from: 'snapshot' | 'start'
  readonly consume?: ConsumeEvents
}

/**
 * Opens a stream with one `readLatest` read (the snapshot and the first page of commits in one statement), up to
 * `maxRevision` if given. `start` is told the snapshot found (undefined for none) and says how to go on; when it
 * asks to replay from the start despite a snapshot (a snapshot of another shape of the state, say), the read is
 * ended and the stream is read again from its start. Without a snapshot, `from` is taken as `start`.
 */
export const openStreamLatest = async (
  store: CommitStore,
  readLatest: (tenantId: string, streamId: string, maxRevision?: number) => Reads<Latest>,
  tenantId: string,
  streamId: string,
  maxRevision: number | undefined,
  start: (snapshot: Snapshot | undefined) => E.Either<StreamError, LatestStart>,
): Promise<E.Either<StreamError, StreamState>> => {
  const iterator = readLatest(tenantId, streamId, maxRevision)[Symbol.asyncIterator]()
  const r = await iterator.next()
  let item: Latest | undefined
  if (r.done !== true) {
    if (E.isLeft(r.value)) return r.value
    item = r.value.right
  }
  const snapshot = item?._tag === 'Snapshot' ? item.snapshot : undefined
  const how = start(snapshot)
  if (E.isLeft(how)) {
    await iterator.return?.()
    return how
  }
  const { consume } = how.right
  const range = maxRevision === undefined ? {} : { maxRevision }
  if (snapshot !== undefined && how.right.from === 'start') {
    await iterator.return?.()
    return openStream(store, tenantId, streamId, range, consume)
  }
  const base: StreamState =
    snapshot === undefined
      ? emptyStream(tenantId, streamId)
      : { ...emptyStream(tenantId, streamId), streamRevision: snapshot.streamRevision, commitSequence: snapshot.commitSequence }
  const window = toWindow(snapshot === undefined ? undefined : snapshot.streamRevision + 1, maxRevision)
  if (item === undefined) return E.right(base)
  return populateFrom(base, iterator, commitOfLatest, window, consume, item._tag === 'Commit' ? item.commit : undefined)
}

const commitOfLatest = (item: Latest): Commit | undefined => (item._tag === 'Commit' ? item.commit : undefined)

/** Opens a stream as it was at `maxTime`: the commits stamped at or before it. */
export const openStreamAt = async (
  store: CommitStore,
  tenantId: string,
  streamId: string,
  maxTime: Date,
  consume?: ConsumeEvents,
): Promise<E.Either<StreamError, StreamState>> =>
  populate(emptyStream(tenantId, streamId), store.getTo(tenantId, streamId, maxTime), toWindow(), consume)

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
