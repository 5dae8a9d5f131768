import { describe } from 'vitest'
import { storeProperties } from 'aett/testing/contract'
import { storeContract } from 'aett/testing/contract'
import { cleanUpAfterAll, pgAvailable, pgStores } from './support.js'

const available = await pgAvailable()
const stores = pgStores('aett_contract')

describe.skipIf(!available)('postgres contract', () => {
  cleanUpAfterAll(stores)
  const harness = stores.harness('postgres')

  // Every store of the kit keeps the same contract (SEMANTICS 1-15); each store here has a schema of its own.
  storeContract(harness)
  storeProperties(harness, { model: 8, roundTrip: 15, maxOperations: 30, timeout: 60_000 })
})

// Group commit is on by default; the contract holds with it off too (one transaction per append).
describe.skipIf(!available)('postgres contract, groupCommit off', () => {
  cleanUpAfterAll(stores)
  storeContract(stores.harness('postgres (groupCommit: false)', { groupCommit: false }))
})
