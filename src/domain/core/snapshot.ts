import * as E from 'fp-ts/lib/Either.js'
import { streamNotFound, type StorageError, type StreamError } from '../../eventstore/errors.js'
import type { Headers } from '../../eventstore/Json.js'
import type { Snapshot } from '../../eventstore/Snapshot.js'
import type { StreamState } from '../../eventstore/stream/StreamState.js'
import { shouldSnapshot } from '../SnapshotPolicy.js'
import type { Context } from './Context.js'
import type { Loaded } from './load.js'
import type { Model } from './Model.js'

/** Stores a snapshot of a loaded state at the revision it was loaded at. A stream with no events has none. */
export const storeSnapshot = async <S, Ev extends { readonly type: string }>(
  ctx: Context<Ev>,
  model: Model<S, Ev>,
  loaded: Loaded<S>,
  headers: Headers = {},
): Promise<E.Either<StreamError, Snapshot>> => {
  const { stream, state } = loaded
  if (stream.streamRevision === 0) return E.left(streamNotFound(ctx.tenantId, stream.streamId))
  const snapshot: Snapshot = {
    tenantId: ctx.tenantId,
    streamId: stream.streamId,
    streamRevision: stream.streamRevision,
    commitSequence: stream.commitSequence,
    payload: model.capture(state, stream.streamId, stream.streamRevision),
    headers,
  }
  const added = await ctx.store.addSnapshot(snapshot)
  return E.map(() => snapshot)(added)
}

/**
 * Takes the snapshot the policy asks for after a save from `before` to the stream's new revision. A failure here
 * does not undo the save, so it is handed back beside the save's outcome instead of replacing it.
 */
export const snapshotAfterSave = async <S, Ev extends { readonly type: string }>(
  ctx: Context<Ev>,
  model: Model<S, Ev>,
  before: number,
  state: S,
  stream: StreamState,
): Promise<StorageError | undefined> => {
  if (!shouldSnapshot(ctx.snapshotPolicy, before, stream.streamRevision)) return undefined
  const taken = await storeSnapshot(ctx, model, { state, stream })
  return E.isLeft(taken) && taken.left._tag === 'StorageError' ? taken.left : undefined
}
