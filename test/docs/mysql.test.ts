import * as E from 'fp-ts/lib/Either.js'
import mysql from 'mysql2/promise'
import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/mysql.js'
import { mysqlUrl, serviceAvailable, uniqueName } from '../support/services.js'
import { docsPage, exampleCode } from './pages.js'

const available = await serviceAvailable('MySQL/MariaDB', async () => {
  const connection = await mysql.createConnection({ uri: mysqlUrl, connectTimeout: 3000 })
  await connection.end()
})

describe('docs/stores/mysql.md example', () => {
  it.skipIf(!available)('appends, reports a conflict and a duplicate as values, and reads the global log', async () => {
    // given a fresh table prefix; when the example runs (it drops its tables at the end)
    const r = await main({ uri: mysqlUrl, tablePrefix: uniqueName('aett_doc') })
    // then
    expect(r).toEqual(E.right({ tokens: [1, 2], missed: 1, duplicate: 'DuplicateCommit', secondStored: true }))
  })

  it('is shown whole in docs/stores/mysql.md, so the page cannot drift from the code that runs', () => {
    expect(docsPage('stores/mysql.md')).toContain(exampleCode('mysql.ts'))
  })
})
