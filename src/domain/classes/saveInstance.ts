import * as E from 'fp-ts/lib/Either.js'
import type { DomainEvent } from '../../eventstore/codec/defineEvent.js'
import type { StreamError } from '../../eventstore/errors.js'
import type { Headers } from '../../eventstore/Json.js'
import { emptyStream } from '../../eventstore/stream/StreamState.js'
import type { Context } from '../core/Context.js'
import { checkExpectedVersion, commitChange } from '../core/handle.js'
import { decodeEvents, type Loaded } from '../core/load.js'
import type { Model } from '../core/Model.js'
import { wrongExpectedVersion, type RepositoryError } from '../errors.js'
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

/** What a save asks for: the commit's headers, and the options of `SaveOptions`. */
export interface InstanceSave {
  readonly headers: Headers
  readonly commitId?: string | undefined
  readonly expectedVersion?: number | undefined
}

/**
 * How a class face brings an instance to the stream's head after `AlreadyCommitted` (its pending events are stored
 * already under that commit id): `base` is the revision the pending events were raised on.
 */
export type ToHead<I> = (instance: I, base: number, commitId: string) => Promise<E.Either<StreamError, void>>

/**
 * Stores an instance's pending events in one commit under `headers` through the one command path
 * (`core/handle.ts`), and moves the instance to the new head. An expected version the instance does not stand on
 * is `WrongExpectedVersion` before anything is sent. After `AlreadyCommitted`, `toHead` puts the instance at the
 * stream's head as stored (SEMANTICS 19), so that it can be changed and saved again.
 */
export const saveInstance = async <I extends InstanceRoot, Ev extends DomainEvent>(
  ctx: Context<Ev>,
  model: Model<I, Ev>,
  instance: I,
  request: InstanceSave,
  options: { readonly snapshot: boolean; readonly toHead: ToHead<I> },
): Promise<E.Either<RepositoryError, SaveResult>> => {
  const valid = checkExpectedVersion('save', request.expectedVersion)
  if (E.isLeft(valid)) return valid
  const inner = instance[internals]
  const pending = [...inner.pending] as Ev[]
  const before = instance.version - pending.length
  if (request.expectedVersion !== undefined && before !== request.expectedVersion) {
    return E.left(wrongExpectedVersion(ctx.tenantId, instance.id, request.expectedVersion, before))
  }
  const stream = { ...emptyStream(ctx.tenantId, instance.id), streamRevision: before, commitSequence: instance.commitSequence, partialAt: inner.partialAt }
  const commitId = request.commitId ?? ctx.newCommitId()
  const change = { state: instance, stream, events: pending, headers: request.headers, commitId, expectedVersion: request.expectedVersion }
  const saved = await commitChange(ctx, model, change, { applied: true, snapshot: options.snapshot })
  if (E.isLeft(saved)) return saved
  const outcome = saved.right
  switch (outcome._tag) {
    case 'NothingToDo':
      return E.right(outcome)
    case 'AlreadyCommitted': {
      const moved = await options.toHead(instance, before, commitId)
      return E.isLeft(moved) ? moved : E.right(outcome)
    }
    case 'Appended':
      inner.committed(outcome.revision, outcome.commitSequence)
      return E.right({
        _tag: 'Appended',
        revision: outcome.revision,
        commitSequence: outcome.commitSequence,
        checkpoint: outcome.checkpoint,
        ...(outcome.snapshotFailure === undefined ? {} : { snapshotFailure: outcome.snapshotFailure }),
      })
  }
}

/**
 * `ToHead` by replay: the commits after `base` other than the one stored under `commitId` are applied to the
 * instance, oldest first (a load's replay: a saga dispatches nothing again), and it stands at the head. Exact when
 * the commit under that id holds the instance's pending events, which is what a repeat under one commit id is;
 * commits another writer stored between `base` and it are applied after the instance's own events, as a rebase is.
 */
export const replayToHead =
  <I extends InstanceRoot, Ev extends DomainEvent>(ctx: Context<Ev>, model: Model<I, Ev>): ToHead<I> =>
  async (instance, base, commitId) => {
    const inner = instance[internals]
    let revision = base
    let sequence = instance.commitSequence
    // Everything is read and decoded before the instance changes, so a failed read leaves it as it was.
    const theirs: Ev[] = []
    for await (const r of ctx.store.get(ctx.tenantId, instance.id, { minRevision: base + 1 })) {
      if (E.isLeft(r)) return r
      const c = r.right
      revision = Math.max(revision, c.streamRevision)
      sequence = Math.max(sequence, c.commitSequence)
      if (c.commitId === commitId) continue
      const first = c.streamRevision - c.events.length + 1
      const decoded = decodeEvents(ctx, model, instance, c.events.filter((_, i) => first + i > base))
      if (E.isLeft(decoded)) return decoded
      theirs.push(...decoded.right)
    }
    for (const e of theirs) inner.replay(e)
    inner.committed(revision, sequence)
    return E.right(undefined)
  }
