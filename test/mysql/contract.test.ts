import * as E from 'fp-ts/lib/Either.js'
import { describe } from 'vitest'
import type { Persistence } from '../../src/eventstore/index.js'
import { storeProperties } from '../contract/properties.js'
import { storeContract, type StoreHarness } from '../contract/storeContract.js'
import { mysqlUrl } from '../support/services.js'
import { freshPrefix, initializedStore, mysqlAvailable } from './support.js'

const available = await mysqlAvailable()

const harness: StoreHarness = {
  name: 'mysql',
  // Each store gets a table prefix of its own and owns its pool, so that dispose can drop and close it.
  create: () => initializedStore({ uri: mysqlUrl, tablePrefix: freshPrefix(), pageSize: 5, connectionLimit: 4 }),
  dispose: async (store: Persistence) => {
    const dropped = await store.drop()
    await store.close()
    if (E.isLeft(dropped)) throw new Error(dropped.left.message)
  },
}

describe.skipIf(!available)('mysql contract', () => {
  // Every store of the kit keeps the same contract (SEMANTICS 1-15).
  storeContract(harness)
  storeProperties(harness, { model: 8, roundTrip: 15, maxOperations: 30, timeout: 60_000 })
})
