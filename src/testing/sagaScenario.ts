import { replaySaga, type SagaDefinition } from '../decider/Saga.js'
import { deepEqual, ScenarioFailure, show } from './equality.js'

export interface SagaThen<C> {
  /** The event made the saga send exactly these commands, in order. */
  readonly then: (expected: readonly C[]) => void
  /** The event made the saga send nothing. */
  readonly thenNothing: () => void
}

export interface SagaScenario<Ev, C> {
  /** The events the saga has followed; replaying them sends nothing. */
  readonly given: (events?: readonly Ev[]) => { readonly when: (event: Ev) => SagaThen<C> }
}

/**
 * Given/when/then for a saga: after the given history, which commands does one more event send?
 *
 * @example
 * const { given } = sagaScenario(shipping)
 * given([placed]).when(paid).then([{ type: 'Ship', orderId: 'o-1' }])
 */
export const sagaScenario = <S, Ev, C>(saga: SagaDefinition<S, Ev, C>): SagaScenario<Ev, C> => ({
  given: (history = []) => ({
    when: (event) => {
      const run = (): readonly C[] => {
        try {
          const state = saga.evolve(replaySaga(saga, history), event)
          return saga.react(state, event)
        } catch (cause) {
          throw new ScenarioFailure(`the saga threw on ${show(event)}: ${String(cause)}`)
        }
      }
      return {
        then: (expected) => {
          if (typeof expected === 'function') throw new TypeError('a scenario is not a promise: call .then(expectedCommands)')
          const actual = run()
          if (!deepEqual(actual, expected)) {
            throw new ScenarioFailure(`expected commands ${show(expected)}\nbut the saga sent ${show(actual)}`, expected, actual)
          }
        },
        thenNothing: () => {
          const actual = run()
          if (actual.length > 0) throw new ScenarioFailure(`expected no commands, but the saga sent ${show(actual)}`, [], actual)
        },
      }
    },
  }),
})

/** The one-line form: `givenSaga(saga, events).when(event).then(commands)`. */
export const givenSaga = <S, Ev, C>(saga: SagaDefinition<S, Ev, C>, events: readonly Ev[] = []): { readonly when: (event: Ev) => SagaThen<C> } =>
  sagaScenario(saga).given(events)
