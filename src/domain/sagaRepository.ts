import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import { runSaga, type SagaDefinition } from '../decider/Saga.js'
import type { TopicMap } from '../eventstore/codec/TopicMap.js'
import type { StreamError } from '../eventstore/errors.js'
import type { Json } from '../eventstore/Json.js'
import type { EventStore } from '../eventstore/ports.js'
import { loadThrough, type CacheableModel } from './core/cache.js'
import { context, type RepositoryOptions } from './core/Context.js'
import { encodeWith } from './core/encode.js'
import { handleCommand, stateAt, type HandleOptions, type StateAt } from './core/handle.js'
import { keepEvent } from './core/Model.js'
import type { AlreadyCommitted } from './core/save.js'
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
   * stored with it as `UndispatchedMessage.<n>` headers (SEMANTICS 21). `expectedVersion` works as for
   * `deciderRepository`'s `handle`.
   */
  readonly handle: (id: string, event: Ev, options?: HandleOptions) => TE.TaskEither<RepositoryError, SagaOutcome<S, C>>
}

/** The repository machinery's view of a saga definition: `react` is left out, so replay never re-queues. */
export const sagaDefinitionModel = <S, Ev extends Typed, C>(saga: SagaDefinition<S, Ev, C>): CacheableModel<S, Ev> => {
  const codec = jsonState<S>()
  return {
    initial: () => saga.initialState,
    evolve: saga.evolve,
    handles: () => true,
    restore: (snapshot) => codec.decode(snapshot.payload),
    capture: (state) => codec.encode(state),
    stamp: keepEvent,
    // A saga definition's states are values, kept as they are.
    keeping: { owner: saga, history: false, picture: (state) => ({ kept: state }), give: (kept) => E.right(kept as S) },
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
    load: (id) => async () => E.map(stateAt<S>)(await loadThrough(ctx, model, id)),
    handle: (id, event, options = {}) => async () => {
      const request = {
        commitId: options.commitId ?? ctx.newCommitId(),
        explicitId: options.commitId !== undefined,
        expectedVersion: options.expectedVersion,
        snapshot: false,
      }
      const handled = await handleCommand(ctx, model, id, request, (state: S) => {
        const step = runSaga(config.saga, state, [event])
        const encoded: Json[] = []
        for (const [i, command] of step.commands.entries()) {
          const e = encodeWith(ctx, id, `command ${i + 1} of ${step.commands.length}`, command, encode)
          if (E.isLeft(e)) return e
          encoded.push(e.right)
        }
        return E.right({ events: [event], headers: { ...options.headers, ...undispatchedHeaders(encoded) }, result: step.commands })
      })
      if (E.isLeft(handled)) return handled
      const outcome = handled.right
      // One event is always appended, so `NothingToDo` cannot come back; `AlreadyCommitted` can.
      if (outcome._tag !== 'Appended') return E.right(outcome._tag === 'AlreadyCommitted' ? outcome : { _tag: 'AlreadyCommitted', commitId: request.commitId })
      return E.right({
        _tag: 'Appended',
        commands: outcome.result,
        revision: outcome.revision,
        commitSequence: outcome.commitSequence,
        checkpoint: outcome.checkpoint,
        state: outcome.state,
      })
    },
  }
}
