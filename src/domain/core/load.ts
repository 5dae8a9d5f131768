import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { fold } from '../../decider/Decider.js'
import type { EventMessage } from '../../eventstore/Commit.js'
import { stateVersionOf } from '../../eventstore/codec/versioning.js'
import { storageError, unknownTopic, type StreamError } from '../../eventstore/errors.js'
import type { Snapshot } from '../../eventstore/Snapshot.js'
import {
  openStream,
  openStreamAt,
  openStreamFromSnapshot,
  openStreamLatest,
  type ConsumeEvents,
  type LatestStart,
} from '../../eventstore/stream/streamIO.js'
import type { StreamState } from '../../eventstore/stream/StreamState.js'
import type { Context } from './Context.js'
import type { Model } from './Model.js'

/** A stream's state as loaded, with the stream it was folded from (revision, sequence, commit ids). */
export interface Loaded<S> {
  readonly state: S
  readonly stream: StreamState
}

/** Decodes stored bodies, refusing events that the model does not handle. */
export const decodeEvents = <S, Ev extends { readonly type: string }>(
  ctx: Context<Ev>,
  model: Model<S, Ev>,
  state: S,
  messages: readonly EventMessage[],
): E.Either<StreamError, Ev[]> => {
  const out: Ev[] = []
  for (const m of messages) {
    const decoded = ctx.topics.decode(m.body, m.headers)
    if (E.isLeft(decoded)) return decoded
    if (!model.handles(state, decoded.right)) return E.left(unknownTopic(decoded.right.type))
    out.push(decoded.right)
  }
  return E.right(out)
}

/**
 * A fold that takes the events of each page as it is read (decode, check, evolve), so that a load holds one page
 * of a stream at a time, never the whole of it.
 */
const folder = <S, Ev extends { readonly type: string }>(ctx: Context<Ev>, model: Model<S, Ev>, initial: S) => {
  let state = initial
  const consume: ConsumeEvents = (messages) => {
    const decoded = decodeEvents(ctx, model, state, messages)
    if (E.isLeft(decoded)) return decoded
    state = fold(model.evolve)(state, decoded.right)
    return E.right(undefined)
  }
  const done = (stream: E.Either<StreamError, StreamState>): E.Either<StreamError, Loaded<S>> =>
    E.map((s: StreamState) => ({ state, stream: s }))(stream)
  return { consume, done }
}

/** Whether a snapshot holds the state in the shape the model folds today (another shape is replayed instead). */
const usable = <S, Ev extends { readonly type: string }>(model: Model<S, Ev>, snapshot: Snapshot): boolean =>
  stateVersionOf(snapshot.headers) === (model.stateVersion ?? 1)

/**
 * Loads a stream's state at `maxVersion` (the head when absent): from the newest snapshot at or below it, then
 * only the events after the snapshot (SEMANTICS 20). A stream with no events loads as the initial state. A store
 * with `readLatest` answers the snapshot and the first page of events in one statement; any other store is asked
 * for the snapshot, then for the events.
 */
export const load = async <S, Ev extends { readonly type: string }>(
  ctx: Context<Ev>,
  model: Model<S, Ev>,
  streamId: string,
  maxVersion?: number,
): Promise<E.Either<StreamError, Loaded<S>>> => {
  const max = maxVersion !== undefined && maxVersion > 0 ? maxVersion : undefined
  const readLatest = ctx.store.readLatest
  if (readLatest !== undefined) {
    let f: ReturnType<typeof folder<S, Ev>> | undefined
    // A snapshot of another shape of the state is ignored: the stream is replayed from its start instead.
    const start = (snapshot: Snapshot | undefined): E.Either<StreamError, LatestStart> => {
      if (snapshot === undefined || !usable(model, snapshot)) {
        f = folder(ctx, model, model.initial(streamId))
        return E.right({ from: 'start', consume: f.consume })
      }
      const restored = model.restore(snapshot)
      if (E.isLeft(restored)) return restored
      f = folder(ctx, model, restored.right)
      return E.right({ from: 'snapshot', consume: f.consume })
    }
    const opened = await openStreamLatest(ctx.store, (t, id, m) => readLatest.call(ctx.store, t, id, m), ctx.tenantId, streamId, max, start)
    if (E.isLeft(opened)) return opened
    // `start` runs before any commit is taken in, so a load that got this far has its fold.
    return f === undefined ? E.left(storageError('load', new Error('readLatest answered without asking how to start'))) : f.done(opened)
  }
  const snapshot = await ctx.store.getSnapshot(ctx.tenantId, streamId, max)
  if (E.isLeft(snapshot)) return snapshot
  if (O.isSome(snapshot.right) && usable(model, snapshot.right.value)) {
    const restored = model.restore(snapshot.right.value)
    if (E.isLeft(restored)) return restored
    const f = folder(ctx, model, restored.right)
    return f.done(await openStreamFromSnapshot(ctx.store, snapshot.right.value, max, f.consume))
  }
  const f = folder(ctx, model, model.initial(streamId))
  return f.done(await openStream(ctx.store, ctx.tenantId, streamId, max === undefined ? {} : { maxRevision: max }, f.consume))
}

/** Loads a stream's state as it was at `maxTime` (commits stamped at or before it), replaying from the start. */
export const loadAt = async <S, Ev extends { readonly type: string }>(
  ctx: Context<Ev>,
  model: Model<S, Ev>,
  streamId: string,
  maxTime: Date,
): Promise<E.Either<StreamError, Loaded<S>>> => {
  const f = folder(ctx, model, model.initial(streamId))
  return f.done(await openStreamAt(ctx.store, ctx.tenantId, streamId, maxTime, f.consume))
}
