import * as E from 'fp-ts/lib/Either.js'
import { STATE_HEADER } from '../../eventstore/codec/versioning.js'
import { streamNotFound, type SnapshotError, type StreamError } from '../../eventstore/errors.js'
import type { Headers } from '../../eventstore/Json.js'
import type { Snapshot } from '../../eventstore/Snapshot.js'
import type { StreamState } from '../../eventstore/stream/StreamState.js'
import { shouldSnapshot } from '../SnapshotPolicy.js'
import type { Context } from './Context.js'
import { encodeWith } from './encode.js'
import type { Loaded } from './load.js'
import type { Model } from './Model.js'

/**
 * Stores a snapshot of a loaded state at the revision it was loaded at. A stream with no events has none; a state
 * whose codec throws is an `InvalidAttempt` (nothing is stored).
 */
export const storeSnapshot = async <S, Ev extends { readonly type: string }>(
  ctx: Context<Ev>,
  model: Model<S, Ev>,
  loaded: Loaded<S>,
  headers: Headers = {},
): Promise<E.Either<StreamError, Snapshot>> => {
  const { stream, state } = loaded
  if (stream.streamRevision === 0) return E.left(streamNotFound(ctx.tenantId, stream.streamId))
  const payload = encodeWith(ctx, stream.streamId, `the state at revision ${stream.streamRevision}`, state, (s) =>
    model.capture(s, stream.streamId, stream.streamRevision),
  )
  if (E.isLeft(payload)) return payload
  const snapshot: Snapshot = {
    tenantId: ctx.tenantId,
    streamId: stream.streamId,
    streamRevision: stream.streamRevision,
    commitSequence: stream.commitSequence,
    payload: payload.right,
    // The version of the state's shape, so that a load by a model of another shape ignores this snapshot.
    headers: model.stateVersion === undefined ? headers : { ...headers, [STATE_HEADER]: model.stateVersion },
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
): Promise<SnapshotError | undefined> => {
  if (!shouldSnapshot(ctx.snapshotPolicy, before, stream.streamRevision)) return undefined
  const taken = await storeSnapshot(ctx, model, { state, stream })
  // A snapshot refused as given (a state that cannot be encoded or stored) is reported too, not swallowed.
  return E.isLeft(taken) && (taken.left._tag === 'StorageError' || taken.left._tag === 'InvalidAttempt') ? taken.left : undefined
}
