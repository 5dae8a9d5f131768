import { fold } from './Decider.js'

/**
 * A process manager as pure functions: it folds the events it follows into a state and, after each one,
 * says which commands to send. `react` sees the state *after* the event was applied.
 */
export interface SagaDefinition<S, Ev, C> {
  readonly initialState: S
  readonly evolve: (state: S, event: Ev) => S
  readonly react: (state: S, event: Ev) => readonly C[]
}

/** The result of feeding events to a saga: its new state and the commands to send, in order. */
export interface SagaStep<S, C> {
  readonly state: S
  readonly commands: readonly C[]
}

/** Applies events one by one, collecting the commands each one triggers. */
export const runSaga = <S, Ev, C>(saga: SagaDefinition<S, Ev, C>, state: S, events: Iterable<Ev>): SagaStep<S, C> => {
  let s = state
  const commands: C[] = []
  for (const e of events) {
    s = saga.evolve(s, e)
    commands.push(...saga.react(s, e))
  }
  return { state: s, commands }
}

/** Rebuilds a saga's state from its history without re-issuing any command. */
export const replaySaga = <S, Ev, C>(saga: SagaDefinition<S, Ev, C>, events: Iterable<Ev>): S =>
  fold(saga.evolve)(saga.initialState, events)
