/**
 * The store contract run by a consumer's own vitest (test/package/consumers.test.ts copies this file into consumer
 * projects as `src/contract.test.ts`), on the in-memory store: `aett/testing/contract` works with the vitest and
 * fast-check versions the consumer installed.
 */
import { memoryStore } from 'aett/memory'
import { storeContract } from 'aett/testing/contract'

storeContract({
  name: 'memory, in a consumer project',
  create: async () => memoryStore(),
  dispose: async (store) => {
    await store.drop()
    await store.close()
  },
})
