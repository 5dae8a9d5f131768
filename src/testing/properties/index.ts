/**
 * `aett/testing/properties`: property-based helpers on fast-check (an optional peer of the package, which this
 * subpath imports): arbitraries derived from io-ts codecs, and the laws every decider should obey.
 * The given/when/then scenarios are in `aett/testing`, which loads without fast-check.
 */
export * from './arbitraries.js'
export * from './laws.js'
