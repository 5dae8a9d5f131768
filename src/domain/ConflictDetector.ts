// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

type Typed = { readonly type: string }
type Of<Ev extends Typed, K> = Extract<Ev, { readonly type: K }>

/** Says whether a pending event conflicts with an event another writer committed first. */
export type ConflictPredicate<P, C> = (pending: P, committed: C) => boolean

/**
 * Predicates keyed by (pending topic, committed topic) (SEMANTICS 17). An immutable value: `register` returns a
 * new detector. A registered pair answers with its predicate; an unregistered pair conflicts only when both
 * events share a topic.
 *
 * @example
 * const detector = conflictDetector<AccountEvent>()
 *   .register('Deposited', 'Deposited', () => false) // deposits commute
 */
export interface ConflictDetector<Ev extends Typed> {
  readonly rules: ReadonlyMap<string, ConflictPredicate<Ev, Ev>>
  readonly register: <P extends Ev['type'], C extends Ev['type']>(
    pendingTopic: P,
    committedTopic: C,
    predicate: ConflictPredicate<Of<Ev, P>, Of<Ev, C>>,
  ) => ConflictDetector<Ev>
}

// JSON of the pair keeps topics containing any separator apart.
const key = (pending: string, committed: string): string => JSON.stringify([pending, committed])

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const make = <Ev extends Typed>(rules: ReadonlyMap<string, ConflictPredicate<Ev, Ev>>): ConflictDetector<Ev> => ({
  rules,
  register: (pendingTopic, committedTopic, predicate) => {
    const next = new Map(rules)
    next.set(key(pendingTopic, committedTopic), predicate as ConflictPredicate<Ev, Ev>)
    return make(next)
  },
})

/** A detector with no registered pairs: events conflict exactly when they share a topic. */
export const conflictDetector = <Ev extends Typed>(): ConflictDetector<Ev> => make(new Map())

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/** Whether one pending event conflicts with one committed event. */
export const conflictsWith = <Ev extends Typed>(detector: ConflictDetector<Ev>, pending: Ev, committed: Ev): boolean => {
  const rule = detector.rules.get(key(pending.type, committed.type))
  return rule === undefined ? pending.type === committed.type : rule(pending, committed)
}

/** Whether any pending event conflicts with any committed one. */
export const hasConflict = <Ev extends Typed>(
  detector: ConflictDetector<Ev>,
  pending: readonly Ev[],
  committed: readonly Ev[],
): boolean => pending.some((p) => committed.some((c) => conflictsWith(detector, p, c)))
