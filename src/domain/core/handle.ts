import * as E from 'fp-ts/lib/Either.js'
import { fold } from '../../decider/Decider.js'
import type { NewEvent } from '../../eventstore/codec/defineEvent.js'
import type { Commit } from '../../eventstore/Commit.js'
import { invalidArgument, type InvalidArgument, type ReadError, type SnapshotError, type StreamError } from '../../eventstore/errors.js'
import type { Headers } from '../../eventstore/Json.js'
import type { EventStore } from '../../eventstore/ports.js'
import type { StreamState } from '../../eventstore/stream/StreamState.js'
import { wrongExpectedVersion, type RepositoryError } from '../errors.js'
import type { Context } from './Context.js'
import { advance, forget, keepAppended, loadThrough, stampNow, takeIn, type CacheableModel, type Through } from './cache.js'
import type { Loaded } from './load.js'
import { save, type AlreadyCommitted, type Behind, type NothingToDo } from './save.js'
import { snapshotAfterSave } from './snapshot.js'

// The one command path every repository face runs (`deciderRepository`, `sagaRepository`, and the class
// repositories through `classes/saveInstance.ts`): the checks before deciding (already committed, expected
// version), the save with its retry loop, the new state folded over what others stored first and our own events,
// the snapshot the policy asks for, and the outcome with revision, sequence and checkpoint.

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

type Typed = { readonly type: string }

/** Options of one command (functional faces) or one save (class faces). */
export interface HandleOptions {
  /** Makes the command idempotent: a commit id already stored answers `AlreadyCommitted`. */
  readonly commitId?: string
  readonly headers?: Headers
  /**
   * The stream revision the caller based the command on (an HTTP `If-Match`). A stream at another revision is
   * `WrongExpectedVersion` before anything is decided, and the append is conditioned on it: a concurrent writer
   * makes it `WrongExpectedVersion` too, never a rebase or a retry. `0` means "a stream with no events yet".
   */
  readonly expectedVersion?: number
}

/** A state as loaded: the revision it reflects and the sequence of the last commit read. */
export interface StateAt<S> {
  readonly id: string
  readonly state: S
  readonly version: number
  readonly commitSequence: number
}

/** What a face hands over to be appended: events on top of `state`, which stands at `stream`'s head. */
export interface Change<S, Ev> {
  readonly state: S
  readonly stream: StreamState
  /** As decided (`id`/`version` may be missing) or raised; stamped on append. */
  readonly events: readonly NewEvent<Ev>[]
  readonly headers: Headers
  readonly commitId: string
  readonly expectedVersion?: number | undefined
}

export interface ChangeOptions {
  /** The events are applied to `state` already (class instances): only what others stored first is folded in. */
  readonly applied?: boolean
  /** Whether the snapshot policy runs after the save (sagas are never snapshotted). */
  readonly snapshot?: boolean
  /** `state` came from the cache without a read: a first conflict answers `Behind` (functional faces only). */
  readonly unread?: boolean
}

/** The events were stored: where the stream now stands and the state there. */
export interface Committed<S, Ev> {
  readonly _tag: 'Appended'
  /** The events as stored (stamped). */
  readonly events: readonly Ev[]
  readonly revision: number
  readonly commitSequence: number
  readonly checkpoint: number
  /** The state after the events others stored first (rebased over) and then ours. */
  readonly state: S
  /** Set when the snapshot policy asked for a snapshot and storing it failed; the events are stored. */
  readonly snapshotFailure?: SnapshotError
}

export type ChangeOutcome<S, Ev> = Committed<S, Ev> | NothingToDo | AlreadyCommitted

/** What a face's `decide` step returns: the events, the commit's headers and a result of its own. */
export interface Decision<Ev, R> {
  readonly events: readonly NewEvent<Ev>[]
  readonly headers: Headers
  readonly result: R
}

/** What handling a command did, as the functional faces report it. */
export type Handled<S, Ev, R> =
  | (Committed<S, Ev> & { readonly result: R })
  | { readonly _tag: 'NothingToDo'; readonly revision: number; readonly state: S }
  | AlreadyCommitted

/** How a command is to be handled. */
export interface CommandRequest {
  readonly commitId: string
  /** The commit id was given by the caller (not generated), so a repeat may be stored before the newest snapshot. */
  readonly explicitId: boolean
  readonly expectedVersion?: number | undefined
  readonly snapshot: boolean
}

// -------------------------------------------------------------------------------------
// pieces
// -------------------------------------------------------------------------------------

export const stateAt = <S>({ state, stream }: Loaded<S>): StateAt<S> => ({
  id: stream.streamId,
  state,
  version: stream.streamRevision,
  commitSequence: stream.commitSequence,
})

const alreadyCommitted = (commitId: string): AlreadyCommitted => ({ _tag: 'AlreadyCommitted', commitId })

/** An expected version that can mean something: a non-negative safe integer, or none. */
export const checkExpectedVersion = (operation: string, expected: number | undefined): E.Either<InvalidArgument, void> =>
  expected === undefined || (Number.isSafeInteger(expected) && expected >= 0)
    ? E.right(undefined)
    : E.left(invalidArgument(operation, `expectedVersion must be a non-negative integer, got ${String(expected)}`))

/** Whether a commit id is among a stream's commits up to `maxRevision`, read page by page. */
export const committedEarlier = async (
  ctx: { readonly store: EventStore; readonly tenantId: string },
  streamId: string,
  commitId: string,
  maxRevision: number,
): Promise<E.Either<ReadError, boolean>> => {
  if (maxRevision <= 0) return E.right(false)
  for await (const c of ctx.store.get(ctx.tenantId, streamId, { maxRevision })) {
    if (E.isLeft(c)) return c
    if (c.right.commitId === commitId) return E.right(true)
  }
  return E.right(false)
}

/**
 * Saves a change and settles what follows: the new state (folded over the events others stored first, then ours,
 * unless ours are applied already), the snapshot the policy asks for, and revision/sequence/checkpoint. With a
 * cache, the commits missed at a conflict are taken into it and the state after the append is kept in it; a
 * failure leaves it as it was.
 */
export const commitChange = async <S, Ev extends Typed>(
  ctx: Context<Ev>,
  model: CacheableModel<S, Ev>,
  change: Change<S, Ev>,
  options: ChangeOptions = {},
): Promise<E.Either<RepositoryError, ChangeOutcome<S, Ev>>> =>
  // Without `unread`, `save` never answers `Behind`.
  commitOrBehind(ctx, model, change, { ...options, unread: false }) as Promise<E.Either<RepositoryError, ChangeOutcome<S, Ev>>>

const commitOrBehind = async <S, Ev extends Typed>(
  ctx: Context<Ev>,
  model: CacheableModel<S, Ev>,
  change: Change<S, Ev>,
  options: ChangeOptions,
): Promise<E.Either<RepositoryError, ChangeOutcome<S, Ev> | Behind>> => {
  const streamId = change.stream.streamId
  const hooks = ctx.cache === undefined ? {} : { unread: options.unread === true, onMissed: (missed: readonly Commit[]) => takeIn(ctx, model, streamId, missed) }
  // Taken before the append, for the entry kept after it (`keepAppended`).
  const before = ctx.cache === undefined ? undefined : stampNow(ctx, streamId)
  const saved = await save(ctx, model, change, hooks)
  // An attempt the store finds leaving a gap was decided on an entry of a stream deleted since: drop it. (An event
  // that cannot be encoded is an `InvalidAttempt` too; dropping the entry then costs one load, nothing more.)
  if (E.isLeft(saved) && saved.left._tag === 'InvalidAttempt' && ctx.cache !== undefined) forget(ctx, model, streamId)
  if (E.isLeft(saved) || saved.right._tag !== 'Appended') return saved as E.Either<RepositoryError, NothingToDo | AlreadyCommitted | Behind>
  const { commit, missed, events, stream } = saved.right
  // Events others stored first were judged not to conflict, so they are folded in before ours (SEMANTICS 17); a
  // class instance has applied its own already, so theirs come after.
  const state = fold(model.evolve)(change.state, options.applied === true ? missed : [...missed, ...events])
  if (ctx.cache !== undefined) keepAppended(ctx, model, { state: change.state, stream: change.stream }, saved.right, options.applied === true, before)
  const failure = options.snapshot === true ? await snapshotAfterSave(ctx, model, change.stream.streamRevision, state, stream) : undefined
  return E.right({
    _tag: 'Appended',
    events,
    revision: commit.streamRevision,
    commitSequence: commit.commitSequence,
    checkpoint: commit.checkpointToken,
    state,
    ...(failure === undefined ? {} : { snapshotFailure: failure }),
  })
}

// -------------------------------------------------------------------------------------
// the command path of the functional faces
// -------------------------------------------------------------------------------------

/**
 * Load, check, decide, append. A commit id among the commits read is answered `AlreadyCommitted` before deciding
 * (SEMANTICS 18); an expected version the stream is not at is `WrongExpectedVersion` before deciding; a caller's
 * commit id that `decide` would now refuse or find nothing to do for is looked up among the commits before the
 * newest snapshot, since only those can tell whether it is a repeat.
 *
 * With a cache in stale mode the state may come from it unread. Whatever an append would not check is then
 * confirmed with a short read first (a refusal, nothing to do, another expected version), and an append that
 * finds the stream moved on takes in the commits it missed and decides again on them: every outcome is the one a
 * command that had read the stream would have had.
 */
export const handleCommand = async <S, Ev extends Typed, X, R>(
  ctx: Context<Ev>,
  model: CacheableModel<S, Ev>,
  streamId: string,
  request: CommandRequest,
  decide: (state: S) => E.Either<X, Decision<Ev, R>>,
): Promise<E.Either<RepositoryError | X, Handled<S, Ev, R>>> => {
  const { commitId, expectedVersion } = request
  const valid = checkExpectedVersion('handle', expectedVersion)
  if (E.isLeft(valid)) return valid
  let loaded: E.Either<StreamError, Through<S>> = await loadThrough(ctx, model, streamId)
  // A bounded loop: only the first state can come from the cache unread (it may answer `Behind` once), and only a
  // state from the cache may meet a stream that does not continue it (then one full load follows).
  for (;;) {
    if (E.isLeft(loaded)) return loaded
    const { state, stream, served } = loaded.right
    const unread = served === 'cache'
    const reread = () => loadThrough(ctx, model, streamId, false)
    if (stream.commitIds.has(commitId)) return E.right(alreadyCommitted(commitId))
    const earlier = async (): Promise<E.Either<ReadError, boolean>> =>
      request.explicitId ? committedEarlier(ctx, streamId, commitId, stream.streamRevision) : E.right(false)
    if (expectedVersion !== undefined && stream.streamRevision !== expectedVersion) {
      if (unread) {
        loaded = await reread()
        continue
      }
      const seen = await earlier()
      if (E.isLeft(seen)) return seen
      if (seen.right) return E.right(alreadyCommitted(commitId))
      return E.left(wrongExpectedVersion(ctx.tenantId, streamId, expectedVersion, stream.streamRevision))
    }
    const decided = decide(state)
    if (E.isLeft(decided) || decided.right.events.length === 0) {
      if (unread) {
        // No append will check this answer against the store: a read does, and a moved stream decides again.
        const confirmed = await reread()
        if (E.isLeft(confirmed) || confirmed.right.stream.streamRevision !== stream.streamRevision) {
          loaded = confirmed
          continue
        }
      }
      // A repeat of a command stored before the newest snapshot is not among the commits just read, and deciding
      // it again may now refuse it; only the stream's earlier commits can tell (SEMANTICS 18).
      const seen = await earlier()
      if (E.isLeft(seen)) return seen
      if (seen.right) return E.right(alreadyCommitted(commitId))
    }
    if (E.isLeft(decided)) return decided
    const { events, headers, result } = decided.right
    const change = { state, stream, events, headers, commitId, expectedVersion }
    const outcome = await commitOrBehind(ctx, model, change, { snapshot: request.snapshot, unread })
    if (E.isLeft(outcome) && outcome.left._tag === 'InvalidAttempt' && served !== 'store' && ctx.cache !== undefined) {
      // The entry (dropped by now) was of a stream deleted since: decide again on the stream as stored.
      loaded = await loadThrough(ctx, model, streamId, false)
      continue
    }
    if (E.isLeft(outcome)) return outcome
    switch (outcome.right._tag) {
      case 'Behind': {
        // The cache's entry has taken the missed commits in already (`takeIn`); this state follows them too.
        const caught = advance(ctx, model, { state, stream }, outcome.right.missed)
        loaded = caught === 'gap' ? await reread() : E.map((l: Loaded<S>): Through<S> => ({ state: l.state, stream: l.stream, served: 'read' }))(caught)
        continue
      }
      case 'NothingToDo':
        return E.right({ _tag: 'NothingToDo', revision: stream.streamRevision, state })
      case 'AlreadyCommitted':
        return E.right(outcome.right)
      case 'Appended':
        return E.right({ ...outcome.right, result })
    }
  }
}
