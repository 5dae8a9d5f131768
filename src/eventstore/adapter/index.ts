/**
 * `aett/adapter`: the kit for store authors. `defineStore` writes the rules every store keeps alike (options,
 * closed state, ids, JSON images, bounds, thrown errors); the helpers below are what store operations share.
 * Users of the kit never need these names; `aett/testing/contract` proves a store built with them.
 */
export * from './defineStore.js'
export * from './attempt.js'
export * from './bounds.js'
export * from './ids.js'
export * from './json.js'
export * from './reads.js'
