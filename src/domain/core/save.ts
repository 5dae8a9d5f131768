import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { Commit, EventMessage } from '../../eventstore/Commit.js'
import type { NewEvent } from '../../eventstore/codec/defineEvent.js'
import type { Headers } from '../../eventstore/Json.js'
import { commitStream } from '../../eventstore/stream/streamIO.js'
import { addEvents, clearChanges, setHeaders, type StreamState } from '../../eventstore/stream/StreamState.js'
import { hasConflict } from '../ConflictDetector.js'
import { conflictDetected, retriesExhausted, wrongExpectedVersion, type RepositoryError } from '../errors.js'
import type { Context } from './Context.js'
import { encodeEvents } from './encode.js'
import { decodeEvents } from './load.js'
import type { Model } from './Model.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What to append: events on top of a loaded stream, under one commit id. */
export interface SaveRequest<S, Ev> {
  /** The state the events were decided or raised on; only asked whether it handles what others stored. */
  readonly state: S
  readonly stream: StreamState
  readonly events: readonly NewEvent<Ev>[]
  readonly headers: Headers
  readonly commitId: string
  /**
   * When set, the append is conditioned on the stream standing at this revision: a collision with another writer
   * is `WrongExpectedVersion`, and the conflict detector is not consulted (no rebase, no retry).
   */
  readonly expectedVersion?: number | undefined
}

/** The events were stored in `commit`. `missed` are the events other writers stored first (rebased over). */
export interface Appended<Ev> {
  readonly _tag: 'Appended'
  readonly events: readonly Ev[]
  readonly missed: readonly Ev[]
  readonly commit: Commit
  readonly stream: StreamState
}

/** There was nothing to append. */
export interface NothingToDo {
  readonly _tag: 'NothingToDo'
}

/** A commit with this id is already stored in the stream; nothing was written again (SEMANTICS 18). */
export interface AlreadyCommitted {
  readonly _tag: 'AlreadyCommitted'
  readonly commitId: string
}

/**
 * The state the events were decided on came from a cache without a read (`allowStaleMs`) and the stream has moved
 * on: nothing was written, and `missed` are the commits after that state, so the command can be decided again.
 */
export interface Behind {
  readonly _tag: 'Behind'
  readonly missed: readonly Commit[]
}

export type SaveOutcome<Ev> = Appended<Ev> | NothingToDo | AlreadyCommitted

/** How a save meets a concurrency conflict besides the conflict detector. */
export interface SaveHooks {
  /** The state was served by a cache without reading: the first conflict is handed back as `Behind`. */
  readonly unread?: boolean
  /** Hears the commits missed at each conflict (a cache takes them in). */
  readonly onMissed?: (missed: readonly Commit[]) => void
}

// -------------------------------------------------------------------------------------
// saving
// -------------------------------------------------------------------------------------

const alreadyCommitted = (commitId: string): AlreadyCommitted => ({ _tag: 'AlreadyCommitted', commitId })

const eventsAfter = (commits: readonly Commit[], revision: number): EventMessage[] =>
  commits.flatMap((c) => c.events.filter((_, i) => c.streamRevision - c.events.length + 1 + i > revision))

/**
 * Appends events, stamped with their revisions, in one commit. On a concurrency conflict it asks the conflict
 * detector about every pending/committed pair: no conflict means the events are rebased on the new head and the
 * commit retried (at most `maxRetries` times); a conflict is reported with the pending events and what was missed,
 * so nothing is lost. With an expected version a collision is `WrongExpectedVersion` instead, at once. A commit id
 * already stored answers `AlreadyCommitted`. Events that cannot be encoded are an `InvalidAttempt`, never a throw.
 */
export const save = async <S, Ev extends { readonly type: string }>(
  ctx: Context<Ev>,
  model: Model<S, Ev>,
  request: SaveRequest<S, Ev>,
  hooks: SaveHooks = {},
): Promise<E.Either<RepositoryError, SaveOutcome<Ev> | Behind>> => {
  if (request.events.length === 0) return E.right({ _tag: 'NothingToDo' })
  const { streamId } = request.stream
  let stream = request.stream
  const missed: Ev[] = []
  for (let attempt = 1; ; attempt++) {
    const encoded = encodeEvents(ctx, streamId, request.events, stream.streamRevision + 1, model.stamp)
    if (E.isLeft(encoded)) return encoded
    const { stamped, bodies, messages } = encoded.right
    const pending = setHeaders(addEvents(stream, messages), request.headers)
    const step = await commitStream(ctx.store, pending, request.commitId, { clock: ctx.clock })
    if (E.isRight(step.result)) {
      if (O.isNone(step.result.right)) return E.right({ _tag: 'NothingToDo' })
      return E.right({ _tag: 'Appended', events: stamped, missed, commit: step.result.right.value, stream: step.state })
    }
    const error = step.result.left
    if (error._tag === 'DuplicateCommit') return E.right(alreadyCommitted(request.commitId))
    if (error._tag !== 'ConcurrencyConflict') return E.left(error)
    if (error.missed.some((c) => c.commitId === request.commitId)) return E.right(alreadyCommitted(request.commitId))
    hooks.onMissed?.(error.missed)
    // A decision on a cached state nobody read is not a writer racing another: it is decided again on the head.
    if (hooks.unread === true && attempt === 1) return E.right({ _tag: 'Behind', missed: error.missed })
    if (request.expectedVersion !== undefined) {
      const actual = Math.max(step.state.streamRevision, ...error.missed.map((c) => c.streamRevision))
      return E.left(wrongExpectedVersion(ctx.tenantId, streamId, request.expectedVersion, actual))
    }
    const theirs = decodeEvents(ctx, model, request.state, eventsAfter(error.missed, stream.streamRevision))
    if (E.isLeft(theirs)) return theirs
    if (hasConflict(ctx.detector, stamped, theirs.right)) {
      return E.left(conflictDetected(ctx.tenantId, streamId, bodies, error.missed))
    }
    if (attempt > ctx.maxRetries) return E.left(retriesExhausted(ctx.tenantId, streamId, attempt, error))
    missed.push(...theirs.right)
    stream = clearChanges(step.state)
  }
}
