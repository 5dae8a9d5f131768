import { describe, it } from 'vitest'
import { MemoryStore } from '../../src/memory/index.js'
import type { StoreHarness } from 'aett/testing/contract'
import { storeModelCheck, storeRoundTripCheck } from 'aett/testing/contract'

const memory: StoreHarness = {
  name: 'memory',
  create: async () => new MemoryStore(),
  dispose: async (store) => store.close(),
}

describe('memory store properties', () => {
  it('SEMANTICS 1-7: the memory store agrees with a simple model under random appends, conflicts, duplicates, gaps and reads', async () => {
    // given random histories of up to 60 operations, when each is applied to a fresh store, then every answer matches the model
    await storeModelCheck(memory, { numRuns: 200, maxOperations: 60 })
  })

  it('SEMANTICS 14: a stream read back equals what was committed, for any sequence of commits', async () => {
    // given any commits (event counts, JSON bodies and headers, stamps), when written and read back, then they are equal
    await storeRoundTripCheck(memory, { numRuns: 200 })
  })
})
