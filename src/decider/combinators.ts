import * as E from 'fp-ts/lib/Either.js'
import type { NewEvent } from '../eventstore/codec/defineEvent.js'
import type { Decider } from './Decider.js'

/** Tells which side of a combined decider a command or event belongs to. */
export interface Routing<C1, Ev1, C2, Ev2> {
  readonly isLeftCommand: (c: C1 | C2) => c is C1
  readonly isLeftEvent: (e: Ev1 | Ev2) => e is Ev1
}

/**
 * Runs two deciders as one over a pair of states. Commands and events are routed by the given guards; each
 * side only ever sees its own.
 */
export const combine = <C1, S1, Ev1, Err1, C2, S2, Ev2, Err2>(
  left: Decider<C1, S1, Ev1, Err1>,
  right: Decider<C2, S2, Ev2, Err2>,
  routing: Routing<C1, Ev1, C2, Ev2>,
): Decider<C1 | C2, readonly [S1, S2], Ev1 | Ev2, Err1 | Err2> => ({
  initialState: [left.initialState, right.initialState],
  evolve: ([s1, s2], e) =>
    routing.isLeftEvent(e) ? [left.evolve(s1, e), s2] : [s1, right.evolve(s2, e as Ev2)],
  decide: (c, [s1, s2]) =>
    routing.isLeftCommand(c)
      ? (left.decide(c, s1) as E.Either<Err1 | Err2, readonly NewEvent<Ev1 | Ev2>[]>)
      : (right.decide(c as C2, s2) as E.Either<Err1 | Err2, readonly NewEvent<Ev1 | Ev2>[]>),
})

/** A two-way mapping between types, for adapting a decider's events or state. */
export interface Iso<A, B> {
  readonly to: (a: A) => B
  readonly from: (b: B) => A
}

/** Accepts another command type (contramap). */
export const mapCommand = <C, S, Ev, Err, C2>(d: Decider<C, S, Ev, Err>, f: (c: C2) => C): Decider<C2, S, Ev, Err> => ({
  initialState: d.initialState,
  evolve: d.evolve,
  decide: (c, s) => d.decide(f(c), s),
})

/**
 * Speaks another event type in both directions (events are produced and consumed). `to` also maps what `decide`
 * returns, where domain events may still lack `id` and `version` (`NewEvent`): it should carry those fields over
 * as they are, not read them.
 */
export const mapEvent = <C, S, Ev, Err, Ev2>(d: Decider<C, S, Ev, Err>, iso: Iso<Ev, Ev2>): Decider<C, S, Ev2, Err> => ({
  initialState: d.initialState,
  evolve: (s, e) => d.evolve(s, iso.from(e)),
  decide: (c, s) => E.map((es: readonly NewEvent<Ev>[]) => es.map((e): NewEvent<Ev2> => iso.to(e as Ev)))(d.decide(c, s)),
})

/** Keeps another state type in both directions. */
export const mapState = <C, S, Ev, Err, S2>(d: Decider<C, S, Ev, Err>, iso: Iso<S, S2>): Decider<C, S2, Ev, Err> => ({
  initialState: iso.to(d.initialState),
  evolve: (s, e) => iso.to(d.evolve(iso.from(s), e)),
  decide: (c, s) => d.decide(c, iso.from(s)),
})

/** Maps the rejection type. */
export const mapError = <C, S, Ev, Err, Err2>(d: Decider<C, S, Ev, Err>, f: (e: Err) => Err2): Decider<C, S, Ev, Err2> => ({
  initialState: d.initialState,
  evolve: d.evolve,
  decide: (c, s) => E.mapLeft(f)(d.decide(c, s)),
})
