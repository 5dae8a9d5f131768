export * from './Decider.js'
export * from './combinators.js'
export * from './Saga.js'
export * from './evolve.js'
