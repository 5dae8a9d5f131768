import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe } from 'vitest'
import { mysqlStore, type MysqlStore } from '../../src/mysql/index.js'
import { sqliteStore } from '../../src/sqlite/index.js'
import { freshPrefix, mysqlAvailable } from '../mysql/support.js'
import { pgAvailable, pgStores } from '../postgres/support.js'
import { mysqlUrl } from '../support/services.js'
import { documentSuite, type DocStore } from './documentsSuite.js'

// Document projections on every store that keeps projections: SQLite (:memory:), PostgreSQL, MySQL/MariaDB.

const init = async <S extends DocStore>(store: S): Promise<S> => {
  const r = await store.initialize()
  if (E.isLeft(r)) throw new Error(r.left.message)
  return store
}

documentSuite('SQLite', () => init(sqliteStore({ filename: ':memory:' }) as unknown as DocStore), 25)

const pgUp = await pgAvailable()
const pg = pgStores('aett_docs')
afterAll(async () => {
  if (pgUp) await pg.dropAll()
})
describe.skipIf(!pgUp)('postgres', () => {
  documentSuite('PostgreSQL', () => init(pg.create() as unknown as DocStore), 6)
})

const myUp = await mysqlAvailable()
const mine: MysqlStore[] = []
afterAll(async () => {
  for (const s of mine) {
    await s.drop()
    await s.close()
  }
})
describe.skipIf(!myUp)('mysql', () => {
  documentSuite(
    'MySQL/MariaDB',
    async () => {
      const store = mysqlStore({ uri: mysqlUrl, tablePrefix: freshPrefix(), connectionLimit: 2 })
      mine.push(store)
      return init(store as unknown as DocStore)
    },
    4,
  )
})
