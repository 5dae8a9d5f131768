/**
 * `aett/testing`: given/when/then scenarios for deciders and sagas, and the structural equality they assert with.
 * Loads without fast-check; the property helpers (arbitraries from codecs, decider laws) are in
 * `aett/testing/properties`, and the store contract suites in `aett/testing/contract`.
 */
export * from './equality.js'
export * from './deciderScenario.js'
export * from './sagaScenario.js'
