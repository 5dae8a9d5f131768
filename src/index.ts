/**
 * `aett`: the core names flat (event store model and codecs, deciders and sagas, the domain layer) and the
 * in-memory store. Each database store lives at its own subpath (`aett/sqlite`, `aett/postgres`, `aett/mysql`,
 * `aett/dynamodb`) so that importing the core never loads a driver; `aett/testing` needs fast-check.
 */
export * from './eventstore/index.js'
export * from './decider/index.js'
export * from './domain/index.js'
export { MemoryStore, memoryStore, type MemoryStoreOptions } from './memory/index.js'
export * from './subscriptions/index.js'
