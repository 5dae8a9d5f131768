/**
 * `aett/testing/contract`: the event store contract (docs/SEMANTICS.md) as vitest suites, for every store of the
 * kit and for a store of your own. A store's spec file is a harness and one call:
 *
 *   storeContract({ name: 'my-store', create: async () => ..., dispose: async (store) => ... })
 *
 * Needs `vitest` and `fast-check` (optional peers of the package); nothing else in the kit imports this subpath.
 */
export { storeContract, fuzzContract, type ContractOptions, type FuzzOptions, type StoreHarness } from './storeContract.js'
export { storeModelCheck, storeRoundTripCheck, type CheckOptions } from './modelCheck.js'
export { storeFuzz, anyValue, hostileString, hostileUnit, isJson, storableId } from './fuzz.js'
export { storeProperties, type PropertyRuns } from './properties.js'
export * from './fixtures.js'
export { subscriptionContract, instrument, eventually, type SubscriptionHarness, type Instrumented } from './subscriptionContract.js'
