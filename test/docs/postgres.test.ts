import * as E from 'fp-ts/lib/Either.js'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/postgres.js'
import { pgUrl, serviceAvailable, uniqueName } from '../support/services.js'
import { docsPage, exampleCode } from './pages.js'

const available = await serviceAvailable('PostgreSQL', async () => {
  const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 })
  await client.connect()
  await client.end()
})

describe('docs/stores/postgres.md example', () => {
  it.skipIf(!available)('appends, reports a conflict and a duplicate as values, and reads the global log', async () => {
    // given a fresh schema; when the example runs (it drops its schema at the end)
    const schema = uniqueName('aett_doc')
    const r = await main({ connectionString: pgUrl, schema })
    // then
    expect(r).toEqual(
      E.right({ commits: 2, ascending: true, resumedAfterFirst: 1, missed: 1, duplicate: 'DuplicateCommit', secondStored: true }),
    )
    // and nothing of the schema is left
    const client = new pg.Client({ connectionString: pgUrl })
    await client.connect()
    const { rows } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])
    await client.end()
    expect(rows).toEqual([])
  })

  it('is shown whole in docs/stores/postgres.md, so the page cannot drift from the code that runs', () => {
    expect(docsPage('stores/postgres.md')).toContain(exampleCode('postgres.ts'))
  })
})
