import * as E from 'fp-ts/lib/Either.js'
import { fold, type Decider } from '../decider/Decider.js'
import { deepEqual, ScenarioFailure, show } from './equality.js'

/** Which rejection `thenFails` expects: a `_tag` (or the error itself when it is a string), or a predicate. */
export type ExpectedFailure<Err> = string | ((error: Err) => boolean)

/** The assertions that end a decider scenario; each throws a `ScenarioFailure` when it does not hold. */
export interface DeciderThen<Ev, Err> {
  /** `decide` returned exactly these events, in order. */
  readonly then: (expected: readonly Ev[]) => void
  /** `decide` rejected the command; with an argument, with that error. */
  readonly thenFails: (expected?: ExpectedFailure<Err>) => void
  /** `decide` accepted the command and returned no events. */
  readonly thenNothing: () => void
}

export interface DeciderGiven<C, Ev, Err> {
  readonly when: (command: C) => DeciderThen<Ev, Err>
}

export interface DeciderScenario<C, Ev, Err> {
  /** The history the decider has seen, oldest first. */
  readonly given: (events?: readonly Ev[]) => DeciderGiven<C, Ev, Err>
}

const tagOf = (error: unknown): unknown =>
  typeof error === 'string' ? error : typeof error === 'object' && error !== null ? (error as { _tag?: unknown })._tag : undefined

/** Refuses to be awaited: a scenario's `then` is an assertion, not a promise's. */
const notThenable = (value: unknown): void => {
  if (typeof value === 'function') {
    throw new TypeError('a scenario is not a promise: call .then(expectedEvents) instead of awaiting it')
  }
}

/** Runs `decide`, turning a throw into a failure that says so (decide should return its errors). */
export const runDecide = <C, S, Ev, Err>(decider: Decider<C, S, Ev, Err>, history: readonly Ev[], command: C): E.Either<Err, readonly Ev[]> => {
  let state: S
  try {
    state = fold(decider.evolve)(decider.initialState, history)
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
          if (!deepEqual(r.right, expected)) {
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
export const given = <C, S, Ev, Err>(decider: Decider<C, S, Ev, Err>, events: readonly Ev[] = []): DeciderGiven<C, Ev, Err> =>
  deciderScenario(decider).given(events)
