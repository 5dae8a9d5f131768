import * as E from 'fp-ts/lib/Either.js'
import type { DomainEvent } from '../../eventstore/codec/defineEvent.js'
import type { StorageError, StreamError } from '../../eventstore/errors.js'
import type { Headers } from '../../eventstore/Json.js'
import { emptyStream, type StreamState } from '../../eventstore/stream/StreamState.js'
import type { Context } from '../core/Context.js'
import type { Loaded } from '../core/load.js'
import type { Model } from '../core/Model.js'
import { save } from '../core/save.js'
import type { RepositoryError } from '../errors.js'
import { internals, type StreamInternals } from './internals.js'
import type { SaveResult } from './results.js'

/** What both class repositories need of an instance (`AggregateRoot` and `SagaRoot` are both one). */
export interface InstanceRoot {
  readonly id: string
  readonly version: number
  readonly commitSequence: number
  readonly [internals]: StreamInternals
}

/** A loaded instance: it counted the events it replayed, and learns the sequence of the last commit read. */
export const loadedInstance = <I extends InstanceRoot>(loaded: E.Either<StreamError, Loaded<I>>): E.Either<StreamError, I> =>
  E.map(({ state, stream }: Loaded<I>) => {
    state[internals].committed(stream.streamRevision, stream.commitSequence, stream.partialAt)
    return state
  })(loaded)

/**
 * Stores an instance's pending events in one commit under `headers`, and moves the instance to the new head.
 * `afterAppend` runs once the commit is stored (the aggregate repository snapshots there); a failure it
 * returns is reported beside the result, since the commit itself is stored.
 */
export const saveInstance = async <I extends InstanceRoot, Ev extends DomainEvent>(
  ctx: Context<Ev>,
  model: Model<I, Ev>,
  instance: I,
  request: { readonly headers: Headers; readonly commitId?: string | undefined },
  afterAppend: (before: number, stream: StreamState) => Promise<StorageError | undefined> = async () => undefined,
): Promise<E.Either<RepositoryError, SaveResult>> => {
  const inner = instance[internals]
  const pending = [...inner.pending] as Ev[]
  const before = instance.version - pending.length
  const stream = { ...emptyStream(ctx.tenantId, instance.id), streamRevision: before, commitSequence: instance.commitSequence, partialAt: inner.partialAt }
  const commitId = request.commitId ?? ctx.newCommitId()
  const saved = await save(ctx, model, { state: instance, stream, events: pending, headers: request.headers, commitId })
  if (E.isLeft(saved) || saved.right._tag === 'NothingToDo') return saved as E.Either<RepositoryError, SaveResult>
  if (saved.right._tag === 'AlreadyCommitted') {
    // As NEventStore does: the events are stored already under this commit id, so they are no longer pending.
    inner.committed(instance.version, instance.commitSequence)
    return E.right(saved.right)
  }
  const { commit, missed } = saved.right
  // Events others stored first were judged not to conflict, so they are applied after ours (SEMANTICS 17).
  for (const e of missed) inner.replay(e)
  inner.committed(commit.streamRevision, commit.commitSequence)
  const failure = await afterAppend(before, saved.right.stream)
  return E.right({
    _tag: 'Appended',
    revision: commit.streamRevision,
    commitSequence: commit.commitSequence,
    checkpoint: commit.checkpointToken,
    ...(failure === undefined ? {} : { snapshotFailure: failure }),
  })
}
