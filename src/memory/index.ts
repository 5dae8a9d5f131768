export * from './MemoryStore.js'
