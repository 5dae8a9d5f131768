import { describe, it } from 'vitest'
import { storeModelCheck } from 'aett/testing/contract'
import { storeContract } from 'aett/testing/contract'
import { fileHarness, memoryHarness, tempDir } from './support.js'

// The whole contract, twice: on a file (WAL, synchronous FULL, as users get it) and on `:memory:`.
const dir = tempDir()
const onFile = fileHarness(dir)

storeContract(onFile)
storeContract(memoryHarness)

describe('sqlite: model check', () => {
  it('random interleavings agree with the model on a file', async () => {
    await storeModelCheck(onFile, { numRuns: 8 })
  })

  it('random interleavings agree with the model in memory', async () => {
    await storeModelCheck(memoryHarness, { numRuns: 15 })
  })
})
