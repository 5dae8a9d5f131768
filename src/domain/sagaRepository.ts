import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import { fold } from '../decider/Decider.js'
import { runSaga, type SagaDefinition } from '../decider/Saga.js'
import type { TopicMap } from '../eventstore/codec/TopicMap.js'
import type { StreamError } from '../eventstore/errors.js'
import type { Json } from '../eventstore/Json.js'
import { context, type EventStore, type RepositoryOptions } from './core/Context.js'
import { load } from './core/load.js'
import { keepEvent, type Model } from './core/Model.js'
import { save, type AlreadyCommitted } from './core/save.js'
import type { HandleOptions, StateAt } from './deciderRepository.js'
import type { RepositoryError } from './errors.js'
import { undispatchedHeaders } from './sagaHeaders.js'
import { jsonState } from './StateCodec.js'

type Typed = { readonly type: string }

export interface SagaRepositoryConfig<S, Ev extends Typed, C> extends RepositoryOptions<Ev> {
  readonly saga: SagaDefinition<S, Ev, C>
  readonly topics: TopicMap<Ev>
  readonly store: EventStore
  /** How a command is written into a commit header; as it is by default (commands must then be plain JSON). */
  readonly encodeCommand?: (command: C) => Json
}

/** What handling an event did: the saga's stream took the event, and `commands` travel with that commit. */
export type SagaOutcome<S, C> =
  | {
      readonly _tag: 'Appended'
      readonly commands: readonly C[]
      readonly revision: number
      readonly commitSequence: number
      readonly checkpoint: number
      readonly state: S
    }
  | AlreadyCommitted

/** The functional face of a saga repository. */
export interface SagaDefinitionRepository<S, Ev, C> {
  /** The saga's state, replayed from its events; no command is produced again. */
  readonly load: (id: string) => TE.TaskEither<StreamError, StateAt<S>>
  /**
   * Feeds one event to saga `id`: the event is stored in the saga's stream and the commands `react` returns are
   * stored with it as `UndispatchedMessage.<n>` headers (SEMANTICS 21).
   */
  readonly handle: (id: string, event: Ev, options?: HandleOptions) => TE.TaskEither<RepositoryError, SagaOutcome<S, C>>
}

/** The repository machinery's view of a saga definition: `react` is left out, so replay never re-queues. */
export const sagaDefinitionModel = <S, Ev extends Typed, C>(saga: SagaDefinition<S, Ev, C>): Model<S, Ev> => {
  const codec = jsonState<S>()
  return {
    initial: () => saga.initialState,
    evolve: saga.evolve,
    handles: () => true,
    restore: (snapshot) => codec.decode(snapshot.payload),
    capture: (state) => codec.encode(state),
    stamp: keepEvent,
  }
}

/**
 * A repository for a saga written as functions; it stores the same commits as `SagaRepository` does for the
 * equivalent `Saga` class.
 */
export const sagaRepository = <S, Ev extends Typed, C>(config: SagaRepositoryConfig<S, Ev, C>): SagaDefinitionRepository<S, Ev, C> => {
  const ctx = context(config.store, config.topics, config)
  const model = sagaDefinitionModel(config.saga)
  const encode = config.encodeCommand ?? ((c: C) => c as unknown as Json)
  return {
    load: (id) => async () =>
      E.map(({ state, stream }: { readonly state: S; readonly stream: { streamRevision: number; commitSequence: number } }) => ({
        id,
        state,
        version: stream.streamRevision,
        commitSequence: stream.commitSequence,
      }))(await load(ctx, model, id)),
    handle: (id, event, options = {}) => async () => {
      const loaded = await load(ctx, model, id)
      if (E.isLeft(loaded)) return loaded
      const { state, stream } = loaded.right
      const commitId = options.commitId ?? ctx.newCommitId()
      if (stream.commitIds.has(commitId)) return E.right({ _tag: 'AlreadyCommitted', commitId })
      const step = runSaga(config.saga, state, [event])
      const headers = { ...options.headers, ...undispatchedHeaders(step.commands.map(encode)) }
      const saved = await save(ctx, model, { state, stream, events: [event], headers, commitId })
      if (E.isLeft(saved)) return saved
      const outcome = saved.right
      // One event is always appended, so `NothingToDo` cannot come back; `AlreadyCommitted` can.
      if (outcome._tag !== 'Appended') return E.right(outcome._tag === 'AlreadyCommitted' ? outcome : { _tag: 'AlreadyCommitted', commitId })
      return E.right({
        _tag: 'Appended',
        commands: step.commands,
        revision: outcome.commit.streamRevision,
        commitSequence: outcome.commit.commitSequence,
        checkpoint: outcome.commit.checkpointToken,
        state: fold(model.evolve)(state, [...outcome.missed, event]),
      })
    },
  }
}
