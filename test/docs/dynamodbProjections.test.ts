import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/dynamodbProjections.js'
import { dynaliteForFile } from '../dynamodb/server.js'
import { docsPage, exampleCode } from './pages.js'

const db = dynaliteForFile()

describe('docs/stores/dynamodb.md document projection example', () => {
  it('runs the document projection of projections.md on DynamoDB and reads it back by id and by field', async () => {
    const r = await main(db().endpoint)
    if (E.isLeft(r)) return expect.fail(`the example failed: ${JSON.stringify(r.left)}`)
    expect(r.right).toEqual({
      ada: E.right({ owner: 'Ada', balance: 70 }),
      rich: E.right(['acc-2']),
      lag: E.right({ commits: 0, lastError: undefined }),
    })
  })

  it('is shown whole in docs/stores/dynamodb.md', () => {
    expect(docsPage('stores/dynamodb.md')).toContain(exampleCode('dynamodbProjections.ts'))
  })
})
