import type { Either } from 'fp-ts/lib/Either.js'
import type { NewEvent } from '../eventstore/codec/defineEvent.js'

export type { NewEvent } from '../eventstore/codec/defineEvent.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * An aggregate as pure functions: where it starts, how an event changes its state, and which events (or which
 * error) a command yields in a state. Nothing here does I/O; repositories and command handlers run it.
 */
export interface Decider<C, S, Ev, Err> {
  readonly initialState: S
  readonly evolve: (state: S, event: Ev) => S
  /**
   * The events a command yields. Domain events may leave out `id` and `version` (`NewEvent<Ev>`): the repository
   * stamps them on append with the stream id and each event's revision, whatever `decide` wrote.
   */
  readonly decide: (command: C, state: S) => Either<Err, readonly NewEvent<Ev>[]>
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/** Replays events onto a state. Deterministic: the same state and events give the same result. */
export const fold =
  <S, Ev>(evolve: (state: S, event: Ev) => S) =>
  (state: S, events: Iterable<Ev>): S => {
    let s = state
    for (const e of events) s = evolve(s, e)
    return s
  }

/** The state a decider reaches from its initial state through `events`. */
export const replay = <C, S, Ev, Err>(decider: Decider<C, S, Ev, Err>, events: Iterable<Ev>): S =>
  fold(decider.evolve)(decider.initialState, events)
