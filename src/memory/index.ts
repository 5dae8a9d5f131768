export { memoryStore, MemoryStore } from './store.js'
export type { MemoryStoreOptions } from './config.js'
