export * from './eventstore/index.js'
export * from './decider/index.js'
