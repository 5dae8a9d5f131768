import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import { fold, type Decider } from '../decider/Decider.js'
import type { TopicMap } from '../eventstore/codec/TopicMap.js'
import type { StorageError, StreamError } from '../eventstore/errors.js'
import type { Headers } from '../eventstore/Json.js'
import type { Snapshot } from '../eventstore/Snapshot.js'
import { context, type EventStore, type RepositoryOptions } from './core/Context.js'
import { load, loadAt, type Loaded } from './core/load.js'
import { stampDomainEvent, type Model } from './core/Model.js'
import { save, type AlreadyCommitted } from './core/save.js'
import { snapshotAfterSave, storeSnapshot } from './core/snapshot.js'
import { rejected, type HandleError } from './errors.js'
import { jsonState, type StateCodec } from './StateCodec.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

type Typed = { readonly type: string }

/** Everything a decider repository needs. */
export interface DeciderRepositoryConfig<C, S, Ev extends Typed, Err> extends RepositoryOptions<Ev> {
  readonly decider: Decider<C, S, Ev, Err>
  readonly topics: TopicMap<Ev>
  readonly store: EventStore
  /** How states are kept in snapshots; as plain JSON by default (`jsonState`). */
  readonly stateCodec?: StateCodec<S>
  /** The commit id for a command when `handle` is given none, e.g. `(c) => commitIdFrom(c.commandId)`. */
  readonly commitIdOf?: (command: C) => string | undefined
}

/** A state as loaded: the revision it reflects and the sequence of the last commit read. */
export interface StateAt<S> {
  readonly id: string
  readonly state: S
  readonly version: number
  readonly commitSequence: number
}

/** What `handle` did. */
export type HandleOutcome<S, Ev> =
  | {
      readonly _tag: 'Appended'
      /** The events as stored: `id` and `version` stamped with the stream id and each event's revision. */
      readonly events: readonly Ev[]
      readonly revision: number
      readonly commitSequence: number
      readonly checkpoint: number
      readonly state: S
      /** Set when the snapshot policy asked for a snapshot and storing it failed; the events are stored. */
      readonly snapshotFailure?: StorageError
    }
  | { readonly _tag: 'NothingToDo'; readonly revision: number; readonly state: S }
  | AlreadyCommitted

export interface HandleOptions {
  /** Makes the command idempotent: a commit id already stored answers `AlreadyCommitted`. */
  readonly commitId?: string
  readonly headers?: Headers
}

/** The functional face of an aggregate repository: a decider, a topic map and a store. */
export interface DeciderRepository<C, S, Ev, Err> {
  /** The state at `maxVersion` (the head when absent), from the newest snapshot at or below it (SEMANTICS 20). */
  readonly load: (id: string, maxVersion?: number) => TE.TaskEither<StreamError, StateAt<S>>
  /** The state as it was at `time`. */
  readonly loadAt: (id: string, time: Date) => TE.TaskEither<StreamError, StateAt<S>>
  /** The command handler: load, decide, append (with bounded retry on non-conflicting concurrency). */
  readonly handle: (id: string, command: C, options?: HandleOptions) => TE.TaskEither<HandleError<Err>, HandleOutcome<S, Ev>>
  /** Stores a snapshot of the state at `version` (the head when absent). */
  readonly snapshot: (id: string, version?: number, headers?: Headers) => TE.TaskEither<StreamError, Snapshot>
  /** Stores a snapshot of the state as it was at `time`. */
  readonly snapshotAt: (id: string, time: Date, headers?: Headers) => TE.TaskEither<StreamError, Snapshot>
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The repository machinery's view of a decider. */
export const deciderModel = <C, S, Ev extends Typed, Err>(
  decider: Decider<C, S, Ev, Err>,
  codec: StateCodec<S> = jsonState<S>(),
): Model<S, Ev> => ({
  initial: () => decider.initialState,
  evolve: decider.evolve,
  handles: () => true,
  restore: (snapshot) => codec.decode(snapshot.payload),
  capture: (state) => codec.encode(state),
  stamp: stampDomainEvent,
})

/** Whether a commit id is among a stream's commits up to `maxRevision`, read page by page. */
const committedEarlier = async (
  ctx: { readonly store: EventStore; readonly tenantId: string },
  streamId: string,
  commitId: string,
  maxRevision: number,
): Promise<E.Either<StorageError, boolean>> => {
  if (maxRevision <= 0) return E.right(false)
  for await (const c of ctx.store.get(ctx.tenantId, streamId, { maxRevision })) {
    if (E.isLeft(c)) return c
    if (c.right.commitId === commitId) return E.right(true)
  }
  return E.right(false)
}

const stateAt = <S>({ state, stream }: Loaded<S>): StateAt<S> => ({
  id: stream.streamId,
  state,
  version: stream.streamRevision,
  commitSequence: stream.commitSequence,
})

/**
 * A repository for a decider. Events that `decide` returns are stamped before they are appended: `id` becomes
 * the stream id and `version` the event's stream revision, so `decide` stays pure and need not know its version.
 *
 * @example
 * const accounts = deciderRepository({ decider: account, topics, store })
 * const outcome = await accounts.handle('acc-1', { type: 'Deposit', amount: 5 })()
 */
export const deciderRepository = <C, S, Ev extends Typed, Err>(
  config: DeciderRepositoryConfig<C, S, Ev, Err>,
): DeciderRepository<C, S, Ev, Err> => {
  const ctx = context(config.store, config.topics, config)
  const model = deciderModel(config.decider, config.stateCodec)

  const handle = async (id: string, command: C, options: HandleOptions = {}): Promise<E.Either<HandleError<Err>, HandleOutcome<S, Ev>>> => {
    const commitId = options.commitId ?? config.commitIdOf?.(command) ?? ctx.newCommitId()
    const loaded = await load(ctx, model, id)
    if (E.isLeft(loaded)) return loaded
    const { state, stream } = loaded.right
    // The commits read since the newest snapshot are known: a repeat is answered before deciding again.
    if (stream.commitIds.has(commitId)) return E.right({ _tag: 'AlreadyCommitted', commitId })
    const decided = config.decider.decide(command, state)
    const explicitId = options.commitId !== undefined || config.commitIdOf?.(command) !== undefined
    if (explicitId && (E.isLeft(decided) || decided.right.length === 0)) {
      // A repeat of a command stored before the newest snapshot is not among the commits just read, and deciding
      // it again may now refuse it; only the stream's earlier commits can tell (SEMANTICS 18).
      const seen = await committedEarlier(ctx, id, commitId, stream.streamRevision)
      if (E.isLeft(seen)) return seen
      if (seen.right) return E.right({ _tag: 'AlreadyCommitted', commitId })
    }
    if (E.isLeft(decided)) return E.left(rejected(decided.left))
    const saved = await save(ctx, model, { state, stream, events: decided.right, headers: options.headers ?? {}, commitId })
    if (E.isLeft(saved)) return saved
    const outcome = saved.right
    switch (outcome._tag) {
      case 'NothingToDo':
        return E.right({ _tag: 'NothingToDo', revision: stream.streamRevision, state })
      case 'AlreadyCommitted':
        return E.right(outcome)
      case 'Appended': {
        const next = fold(model.evolve)(state, [...outcome.missed, ...outcome.events])
        const failure = await snapshotAfterSave(ctx, model, stream.streamRevision, next, outcome.stream)
        return E.right({
          _tag: 'Appended',
          events: outcome.events,
          revision: outcome.commit.streamRevision,
          commitSequence: outcome.commit.commitSequence,
          checkpoint: outcome.commit.checkpointToken,
          state: next,
          ...(failure === undefined ? {} : { snapshotFailure: failure }),
        })
      }
    }
  }

  return {
    load: (id, maxVersion) => async () => E.map(stateAt<S>)(await load(ctx, model, id, maxVersion)),
    loadAt: (id, time) => async () => E.map(stateAt<S>)(await loadAt(ctx, model, id, time)),
    handle: (id, command, options) => () => handle(id, command, options),
    snapshot: (id, version, headers) => async () => {
      const loaded = await load(ctx, model, id, version)
      return E.isLeft(loaded) ? loaded : storeSnapshot(ctx, model, loaded.right, headers)
    },
    snapshotAt: (id, time, headers) => async () => {
      const loaded = await loadAt(ctx, model, id, time)
      return E.isLeft(loaded) ? loaded : storeSnapshot(ctx, model, loaded.right, headers)
    },
  }
}

/** The command handler alone: `deciderRepository(config).handle`. */
export const commandHandler = <C, S, Ev extends Typed, Err>(
  config: DeciderRepositoryConfig<C, S, Ev, Err>,
): DeciderRepository<C, S, Ev, Err>['handle'] => deciderRepository(config).handle
