import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/stateCache.js'
import { docsPage, exampleCode } from './pages.js'

describe('docs/domain.md, "State cache" example', () => {
  it('two processes with a cache each: the stale one decides again on what the other wrote; the class face uses the cache too', async () => {
    expect(await main()).toEqual({
      withdrawn: { revision: 4, balance: 0 },
      refused: 'InsufficientFunds',
      classBalance: 7,
      sameInstance: false,
      // A keeps the decider's and the class's entry of acc-1 apart (two models); B keeps its decider's.
      entries: { a: 2, b: 1 },
    })
  })

  it('is shown whole in docs/domain.md', () => {
    expect(docsPage('domain.md')).toContain(exampleCode('stateCache.ts'))
  })
})
