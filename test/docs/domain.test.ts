import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/domain.js'
import { docsPage, exampleCode } from './pages.js'

describe('docs/domain.md example', () => {
  it('runs the class face and the functional face over the same store', async () => {
    const r = await main()
    expect(r).toEqual({
      ada: { balance: 151, version: 3 },
      conflict: 'ConflictDetected',
      once: 'Appended',
      twice: 'AlreadyCommitted',
      refused: 'InsufficientFunds',
      bo: { balance: 20, version: 2 },
      boAsClass: { owner: 'Bo', balance: 20 },
    })
  })

  it('is shown whole in docs/domain.md', () => {
    expect(docsPage('domain.md')).toContain(exampleCode('domain.ts'))
  })
})
