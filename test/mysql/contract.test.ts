import * as E from 'fp-ts/lib/Either.js'
import { describe } from 'vitest'
import type { Persistence } from '../../src/eventstore/index.js'
import { mysqlStore } from '../../src/mysql/index.js'
import { storeContract, storeProperties, type StoreHarness } from 'aett/testing/contract'
import { mysqlUrl } from '../support/services.js'
import { freshPrefix, initializedStore, mysqlAvailable } from './support.js'

const available = await mysqlAvailable()

/** The table prefix of each store the harness made, so that `reopen` can open another store on the same tables. */
const prefixes = new WeakMap<Persistence, string>()

const open = (tablePrefix: string): Persistence => {
  const store = mysqlStore({ uri: mysqlUrl, tablePrefix, pageSize: 5, connectionLimit: 4 })
  prefixes.set(store, tablePrefix)
  return store
}

/** A URI on the loopback interface where nothing listens: every call fails with the driver's connection error. */
const unreachable = (): string => {
  const u = new URL(mysqlUrl)
  u.hostname = '127.0.0.1'
  u.port = '1'
  return u.toString()
}

const harness: StoreHarness = {
  name: 'mysql',
  // Each store gets a table prefix of its own and owns its pool, so that dispose can drop and close it.
  create: async () => {
    const tablePrefix = freshPrefix()
    const store = await initializedStore({ uri: mysqlUrl, tablePrefix, pageSize: 5, connectionLimit: 4 })
    prefixes.set(store, tablePrefix)
    return store
  },
  dispose: async (store: Persistence) => {
    const dropped = await store.drop()
    await store.close()
    if (E.isLeft(dropped)) throw new Error(dropped.left.message)
  },
  reopen: async (store) => open(prefixes.get(store) ?? freshPrefix()),
  failing: async () => mysqlStore({ uri: unreachable(), tablePrefix: freshPrefix(), connectionLimit: 1 }),
}

describe.skipIf(!available)('mysql contract', () => {
  // Every store of the kit keeps the same contract (SEMANTICS 1-15).
  storeContract(harness)
  storeProperties(harness, { model: 8, roundTrip: 15, maxOperations: 30, timeout: 60_000 })
})
