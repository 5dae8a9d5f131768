import * as E from 'fp-ts/lib/Either.js'
import * as fc from 'fast-check'
import { fold, type Decider } from '../../decider/Decider.js'
import type { Json } from '../../eventstore/Json.js'
import type { StateCodec } from '../../domain/StateCodec.js'
import { deepEqual, ScenarioFailure, show } from '../equality.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export interface DeciderLawsConfig<C, S, Ev> {
  readonly events: fc.Arbitrary<Ev>
  readonly commands: fc.Arbitrary<C>
  /**
   * How the repository keeps the state in snapshots. By default a JSON round trip, which is what the default
   * `jsonState` amounts to in a database: a state holding `Date`s or `Map`s fails the snapshot law until it is
   * given a codec (`stateFromCodec`).
   */
  readonly stateCodec?: StateCodec<S>
  /** State equality; structural by default (`deepEqual`). */
  readonly equals?: (a: S, b: S) => boolean
  /** Longest generated history; 20 by default. */
  readonly maxEvents?: number
  /** fast-check parameters (numRuns, seed, ...). */
  readonly parameters?: fc.Parameters<unknown>
}

/** The law that failed, with fast-check's report (counterexample, seed, shrunk path). */
export interface LawViolation {
  readonly _tag: 'LawViolation'
  readonly law: DeciderLaw
  readonly message: string
}

export type DeciderLaw = 'evolveIsTotal' | 'decideIsDeterministic' | 'snapshotThenRestEqualsReplay'

/** Each law as a fast-check property. */
export interface DeciderLawProperties<C, Ev> {
  readonly evolveIsTotal: fc.IPropertyWithHooks<[Ev[]]>
  readonly decideIsDeterministic: fc.IPropertyWithHooks<[Ev[], C]>
  readonly snapshotThenRestEqualsReplay: fc.IPropertyWithHooks<[Ev[], Ev[]]>
}

// -------------------------------------------------------------------------------------
// laws
// -------------------------------------------------------------------------------------

const jsonRoundTrip = <S>(): StateCodec<S> => ({
  encode: (s) => JSON.parse(JSON.stringify(s)) as Json,
  decode: (payload) => E.right(payload as unknown as S),
})

/**
 * The laws as fast-check properties, to run with `fc.assert` or `@fast-check/vitest`:
 * - `evolveIsTotal`: evolve gives a state (does not throw, not `undefined`) for every event in any history;
 * - `decideIsDeterministic`: the same history and command always decide the same;
 * - `snapshotThenRestEqualsReplay`: a snapshot of the state after some events, restored through the state
 *   codec, then the rest of the events, equals replaying every event.
 */
export const deciderLaws = <C, S, Ev, Err>(
  decider: Decider<C, S, Ev, Err>,
  config: DeciderLawsConfig<C, S, Ev>,
): DeciderLawProperties<C, Ev> => {
  const history = fc.array(config.events, { maxLength: config.maxEvents ?? 20 })
  const codec = config.stateCodec ?? jsonRoundTrip<S>()
  const equals = config.equals ?? deepEqual
  const replay = fold(decider.evolve)
  return {
    evolveIsTotal: fc.property(history, (events) => {
      let s = decider.initialState
      for (const e of events) {
        s = decider.evolve(s, e)
        if (s === undefined) throw new Error(`evolve returned undefined for ${show(e)}`)
      }
    }),
    decideIsDeterministic: fc.property(history, config.commands, (events, command) => {
      const first = decider.decide(command, replay(decider.initialState, events))
      const second = decider.decide(command, replay(decider.initialState, events))
      if (!deepEqual(first, second)) throw new Error(`decide gave ${show(first)} and then ${show(second)}`)
    }),
    snapshotThenRestEqualsReplay: fc.property(history, history, (before, after) => {
      const restored = codec.decode(codec.encode(replay(decider.initialState, before)))
      if (E.isLeft(restored)) throw new Error(`the snapshot did not decode: ${restored.left.message}`)
      const viaSnapshot = replay(restored.right, after)
      const whole = replay(decider.initialState, [...before, ...after])
      if (!equals(viaSnapshot, whole)) throw new Error(`from the snapshot: ${show(viaSnapshot)}\nreplaying all: ${show(whole)}`)
    }),
  }
}

/** Runs every law; the first one broken comes back as a `LawViolation` value. */
export const checkDeciderLaws = <C, S, Ev, Err>(
  decider: Decider<C, S, Ev, Err>,
  config: DeciderLawsConfig<C, S, Ev>,
): E.Either<LawViolation, void> => {
  const laws = deciderLaws(decider, config)
  for (const law of Object.keys(laws) as DeciderLaw[]) {
    const details = fc.check(laws[law] as unknown as fc.IProperty<unknown>, config.parameters ?? {})
    if (details.failed) {
      return E.left({ _tag: 'LawViolation', law, message: fc.defaultReportMessage(details) ?? `${law} failed` })
    }
  }
  return E.right(undefined)
}

/** Runs every law and throws a `ScenarioFailure` naming the broken one: for test runners. */
export const assertDeciderLaws = <C, S, Ev, Err>(decider: Decider<C, S, Ev, Err>, config: DeciderLawsConfig<C, S, Ev>): void => {
  const r = checkDeciderLaws(decider, config)
  if (E.isLeft(r)) throw new ScenarioFailure(`decider law ${r.left.law} does not hold:\n${r.left.message}`)
}
