import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe } from 'vitest'
import { subscriptionContract, type SubscriptionHarness } from 'aett/testing/contract'
import type { Persistence, Subscribable } from '../../src/eventstore/index.js'
import { mysqlStore } from '../../src/mysql/index.js'
import { mysqlUrl } from '../support/services.js'
import { freshPrefix, mysqlAvailable } from './support.js'

const available = await mysqlAvailable()

const figures: string[] = []
afterAll(() => {
  if (figures.length > 0) console.info(`subscription figures\n  ${figures.join('\n  ')}`)
})

/** The table prefix of each store the harness made, so that `reopen` opens another store (another pool) on it. */
type SubscribableStore = Persistence & Subscribable

const prefixes = new WeakMap<SubscribableStore, string>()

const open = (tablePrefix: string): SubscribableStore => {
  const store = mysqlStore({ uri: mysqlUrl, tablePrefix, pageSize: 50, connectionLimit: 4 })
  prefixes.set(store, tablePrefix)
  return store
}

export const mysqlSubscriptionHarness: SubscriptionHarness = {
  name: 'mysql',
  create: async () => {
    const store = open(freshPrefix())
    const init = await store.initialize()
    if (E.isLeft(init)) throw new Error(init.left.message, { cause: init.left.cause })
    return store
  },
  dispose: async (store) => {
    const dropped = await store.drop()
    await store.close()
    if (E.isLeft(dropped)) throw new Error(dropped.left.message)
  },
  reopen: async (store) => open(prefixes.get(store) ?? freshPrefix()),
  onFigure: (figure, value, unit) => void figures.push(`${figure}: ${value} ${unit}`),
}

describe.skipIf(!available)('mysql subscriptions', () => {
  subscriptionContract(mysqlSubscriptionHarness)
})
