import { MemoryStore } from '../../src/memory/index.js'
import { storeContract } from 'aett/testing/contract'

// The reference store: the contract must hold here first. It has no pages or connections, so the harness is trivial.
storeContract({
  name: 'memory',
  create: async () => new MemoryStore(),
  dispose: async (store) => {
    await store.drop()
    await store.close()
  },
})
