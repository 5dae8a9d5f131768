import { describe, it } from 'vitest'
import { storeModelCheck, storeRoundTripCheck } from '../contract/modelCheck.js'
import { storeContract } from '../contract/storeContract.js'
import { cleanUpAfterAll, pgAvailable, pgStores } from './support.js'

const available = await pgAvailable()
const stores = pgStores('aett_contract')

describe.skipIf(!available)('postgres contract', () => {
  cleanUpAfterAll(stores)
  const harness = stores.harness('postgres')

  // Every store of the kit keeps the same contract (SEMANTICS 1-15); each store here has a schema of its own.
  storeContract(harness)

  it('SEMANTICS 1-7: random histories agree with the model', async () => {
    await storeModelCheck(harness, { numRuns: 8, maxOperations: 30 })
  }, 60_000)

  it('SEMANTICS 14: random commits round-trip exactly', async () => {
    await storeRoundTripCheck(harness, { numRuns: 15 })
  }, 60_000)
})
