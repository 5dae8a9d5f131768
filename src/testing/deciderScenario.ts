import * as E from 'fp-ts/lib/Either.js'
import { fold, type Decider } from '../decider/Decider.js'
import { stampDomainEvent } from '../domain/core/Model.js'
import type { NewEvent } from '../eventstore/codec/defineEvent.js'
import { deepEqual, ScenarioFailure, show } from './equality.js'

/** Which rejection `thenFails` expects: a `_tag` (or the error itself when it is a string), or a predicate. */
export type ExpectedFailure<Err> = string | ((error: Err) => boolean)

/** The assertions that end a decider scenario; each throws a `ScenarioFailure` when it does not hold. */
export interface DeciderThen<Ev, Err> {
  /**
   * `decide` returned exactly these events, in order, as the repository would store them: `id` and `version` are
   * stamped on both sides before comparing, so either may be left out (or written) on either side.
   */
  readonly then: (expected: readonly NewEvent<Ev>[]) => void
  /** `decide` rejected the command; with an argument, with that error. */
  readonly thenFails: (expected?: ExpectedFailure<Err>) => void
  /** `decide` accepted the command and returned no events. */
  readonly thenNothing: () => void
}

export interface DeciderGiven<C, Ev, Err> {
  readonly when: (command: C) => DeciderThen<Ev, Err>
}

export interface DeciderScenario<C, Ev, Err> {
  /**
   * The history the decider has seen, oldest first. A domain event written without `version` gets its position
   * (1, 2, ...) and one without `id` gets `''`, as if stored, before `evolve` sees it.
   */
  readonly given: (events?: readonly NewEvent<Ev>[]) => DeciderGiven<C, Ev, Err>
}

const tagOf = (error: unknown): unknown =>
  typeof error === 'string' ? error : typeof error === 'object' && error !== null ? (error as { _tag?: unknown })._tag : undefined

/** Refuses to be awaited: a scenario's `then` is an assertion, not a promise's. */
const notThenable = (value: unknown): void => {
  if (typeof value === 'function') {
    throw new TypeError('a scenario is not a promise: call .then(expectedEvents) instead of awaiting it')
  }
}

/** A given domain event as the repository would have stored it: the fields it leaves out are filled in. */
const asStored = <Ev>(event: NewEvent<Ev>, index: number): Ev => {
  const e = event as { readonly id?: unknown; readonly version?: unknown }
  if (typeof e !== 'object' || e === null || !('timestamp' in e) || ('id' in e && 'version' in e)) return event as Ev
  return { id: '', version: index + 1, ...event } as Ev
}

/** Events as they would be appended after `after` events: what `then` compares. (A decider's events may be any value.) */
const stamped = <Ev>(events: readonly NewEvent<Ev>[], after: number): readonly unknown[] =>
  events.map((e, i) => (typeof e === 'object' && e !== null ? stampDomainEvent(e as unknown as { readonly type: string }, '', after + i + 1) : e))

/** Runs `decide`, turning a throw into a failure that says so (decide should return its errors). */
export const runDecide = <C, S, Ev, Err>(decider: Decider<C, S, Ev, Err>, history: readonly NewEvent<Ev>[], command: C): E.Either<Err, readonly NewEvent<Ev>[]> => {
  let state: S
  try {
    state = fold(decider.evolve)(decider.initialState, history.map(asStored))
  } catch (cause) {
    throw new ScenarioFailure(`evolve threw on the given events: ${String(cause)}`)
  }
  try {
    return decider.decide(command, state)
  } catch (cause) {
    throw new ScenarioFailure(`decide threw for ${show(command)}: ${String(cause)}`)
  }
}

/**
 * Given/when/then for a decider, usable in any test runner: assertions throw a descriptive `ScenarioFailure`.
 *
 * @example
 * const { given } = deciderScenario(account)
 * given([opened]).when({ type: 'Deposit', amount: 5 }).then([deposited(5)])
 * given([]).when({ type: 'Withdraw', amount: 1 }).thenFails('InsufficientFunds')
 */
export const deciderScenario = <C, S, Ev, Err>(decider: Decider<C, S, Ev, Err>): DeciderScenario<C, Ev, Err> => ({
  given: (history = []) => ({
    when: (command) => {
      const run = () => runDecide(decider, history, command)
      return {
        then: (expected) => {
          notThenable(expected)
          const r = run()
          if (E.isLeft(r)) throw new ScenarioFailure(`expected events, but the command was rejected with ${show(r.left)}`, expected, r.left)
          if (!deepEqual(stamped(r.right, history.length), stamped(expected, history.length))) {
            throw new ScenarioFailure(`expected events ${show(expected)}\nbut decide returned ${show(r.right)}`, expected, r.right)
          }
        },
        thenFails: (expected) => {
          const r = run()
          if (E.isRight(r)) throw new ScenarioFailure(`expected a rejection, but decide returned ${show(r.right)}`, expected, r.right)
          if (expected === undefined) return
          const ok = typeof expected === 'function' ? expected(r.left) : tagOf(r.left) === expected
          if (!ok) throw new ScenarioFailure(`expected a rejection ${typeof expected === 'string' ? expected : 'matching the predicate'}, got ${show(r.left)}`, expected, r.left)
        },
        thenNothing: () => {
          const r = run()
          if (E.isLeft(r)) throw new ScenarioFailure(`expected no events, but the command was rejected with ${show(r.left)}`, [], r.left)
          if (r.right.length > 0) throw new ScenarioFailure(`expected no events, but decide returned ${show(r.right)}`, [], r.right)
        },
      }
    },
  }),
})

/**
 * The one-line form: `given(decider, events).when(command).then(expected)`, the same as
 * `deciderScenario(decider).given(events)`.
 */
export const given = <C, S, Ev, Err>(decider: Decider<C, S, Ev, Err>, events: readonly NewEvent<Ev>[] = []): DeciderGiven<C, Ev, Err> =>
  deciderScenario(decider).given(events)
