import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import type { Decider } from '../decider/Decider.js'
import type { NewEvent } from '../eventstore/codec/defineEvent.js'
import type { TopicMap } from '../eventstore/codec/TopicMap.js'
import type { SnapshotError, StreamError } from '../eventstore/errors.js'
import type { Headers } from '../eventstore/Json.js'
import type { EventStore } from '../eventstore/ports.js'
import type { Snapshot } from '../eventstore/Snapshot.js'
import { loadThrough, type CacheableModel } from './core/cache.js'
import { context, type RepositoryOptions } from './core/Context.js'
import { handleCommand, stateAt, type HandleOptions, type StateAt } from './core/handle.js'
import { load, loadAt } from './core/load.js'
import { stampDomainEvent } from './core/Model.js'
import type { AlreadyCommitted } from './core/save.js'
import { storeSnapshot } from './core/snapshot.js'
import { rejected, type HandleError } from './errors.js'
import { jsonState, type StateCodec } from './StateCodec.js'

export type { HandleOptions, StateAt } from './core/handle.js'

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
      readonly snapshotFailure?: SnapshotError
    }
  | { readonly _tag: 'NothingToDo'; readonly revision: number; readonly state: S }
  | AlreadyCommitted

/** The functional face of an aggregate repository: a decider, a topic map and a store. */
export interface DeciderRepository<C, S, Ev, Err> {
  /** The state at `maxVersion` (the head when absent), from the newest snapshot at or below it (SEMANTICS 20). */
  readonly load: (id: string, maxVersion?: number) => TE.TaskEither<StreamError, StateAt<S>>
  /** The state as it was at `time`. */
  readonly loadAt: (id: string, time: Date) => TE.TaskEither<StreamError, StateAt<S>>
  /**
   * The command handler: load, decide, append (with bounded retry on non-conflicting concurrency). With
   * `expectedVersion` a stream at another revision is `WrongExpectedVersion` before deciding, and the append is
   * conditioned on it instead of retried.
   */
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
): CacheableModel<S, Ev> => ({
  initial: () => decider.initialState,
  evolve: decider.evolve,
  handles: () => true,
  restore: (snapshot) => codec.decode(snapshot.payload),
  capture: (state) => codec.encode(state),
  stateVersion: codec.version,
  stamp: stampDomainEvent,
  // A decider's states are values (`evolve` returns a new one), so a cache keeps them as they are.
  keeping: { owner: decider, history: false, picture: (state) => ({ kept: state }), give: (kept) => E.right(kept as S) },
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
    const given = options.commitId ?? config.commitIdOf?.(command)
    const request = { commitId: given ?? ctx.newCommitId(), explicitId: given !== undefined, expectedVersion: options.expectedVersion, snapshot: true }
    const handled = await handleCommand(ctx, model, id, request, (state: S) =>
      E.bimap(rejected, (events: readonly NewEvent<Ev>[]) => ({ events, headers: options.headers ?? {}, result: undefined }))(config.decider.decide(command, state)),
    )
    if (E.isLeft(handled) || handled.right._tag !== 'Appended') return handled as E.Either<HandleError<Err>, HandleOutcome<S, Ev>>
    const { result: _, ...appended } = handled.right
    return E.right(appended)
  }

  return {
    // A load at an explicit version never goes through the cache.
    load: (id, maxVersion) => async () =>
      E.map(stateAt<S>)(maxVersion !== undefined && maxVersion > 0 ? await load(ctx, model, id, maxVersion) : await loadThrough(ctx, model, id)),
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
