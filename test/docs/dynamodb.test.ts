import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/dynamodb.js'
import { dynaliteForFile } from '../dynamodb/server.js'
import { docsPage, exampleCode } from './pages.js'

const db = dynaliteForFile()

describe('docs/stores/dynamodb.md example', () => {
  it('creates the tables, meets a conflict, retries, snapshots and reads the global order from a checkpoint', async () => {
    const r = await main(db().endpoint)
    if (E.isLeft(r)) return expect.fail(`the example failed: ${JSON.stringify(r.left)}`)
    expect(r.right).toEqual({
      conflict: 'ConcurrencyConflict',
      missed: [2],
      retried: 3,
      revisions: E.right([1, 2, 3]),
      afterFirst: E.right([2, 3]),
      snapshot: E.right(O.some(3)),
    })
  })

  it('is shown whole in docs/stores/dynamodb.md', () => {
    expect(docsPage('stores/dynamodb.md')).toContain(exampleCode('dynamodb.ts'))
  })
})
