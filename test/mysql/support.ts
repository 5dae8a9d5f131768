import * as E from 'fp-ts/lib/Either.js'
import mysql from 'mysql2/promise'
import type { Persistence } from '../../src/eventstore/index.js'
import { mysqlStore, type MysqlStoreOptions } from '../../src/mysql/index.js'
import { mysqlUrl, serviceAvailable, uniqueName } from '../support/services.js'

/** Probes MariaDB/MySQL once per test file (loud skip, or a failure under AETT_REQUIRE_SERVICES=1). */
export const mysqlAvailable = (): Promise<boolean> =>
  serviceAvailable('MySQL/MariaDB', async () => {
    const connection = await mysql.createConnection({ uri: mysqlUrl, connectTimeout: 3000 })
    await connection.end()
  })

/** A fresh table prefix for one test run. */
export const freshPrefix = (): string => uniqueName('aett')

/** A pool owned by a test (a mysql2 pool, which fits the store's structural `MysqlPool`). */
export const testPool = (options: { readonly connectionLimit?: number } = {}): mysql.Pool =>
  mysql.createPool({ uri: mysqlUrl, connectionLimit: options.connectionLimit ?? 4 })

/** Creates and initialises a store, failing the test loudly when that does not work. */
export const initializedStore = async (options: MysqlStoreOptions): Promise<Persistence> => {
  const store = mysqlStore(options)
  const init = await store.initialize()
  if (E.isLeft(init)) throw new Error(init.left.message, { cause: init.left.cause })
  return store
}

/** Unwraps a Right in a test, with the Left's message when it is not one. */
export const rightOf = <A>(e: E.Either<{ readonly _tag: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected Right, got ${JSON.stringify(e.left)}`)
  return e.right
}
