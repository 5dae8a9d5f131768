import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/projections.js'
import { docsPage, exampleCode } from './pages.js'

describe('docs/projections.md example', () => {
  it('keeps the balances read model in the store’s database and reports its status', async () => {
    const r = await main()
    if (!('rows' in r)) return expect.fail(`the example failed: ${JSON.stringify(r)}`)
    expect(r.rows).toEqual([
      { account: 'acc-1', owner: 'Ada', balance: 70 },
      { account: 'acc-2', owner: 'Grace', balance: 100 },
    ])
    expect(r.ada).toEqual(E.right({ owner: 'Ada', balance: 70 }))
    expect(r.rich).toEqual(E.right(['acc-2']))
    // acc-1 had three events appended while the inline projection was registered (evolve runs per event).
    expect(r.moved).toEqual(E.right({ count: 3 }))
    expect(r.rebuilt).toEqual(E.right(3))
    expect(r.lastProgress).toBe('3/3')
    expect(r.status).toEqual(E.right({ position: 3, head: 3, lag: 0, lastError: undefined }))
  })

  it('is shown whole in docs/projections.md, so the page cannot drift from the code that runs', () => {
    expect(docsPage('projections.md')).toContain(exampleCode('projections.ts'))
  })
})
