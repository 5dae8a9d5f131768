import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/testing.js'
import { docsPage, exampleCode } from './pages.js'

describe('docs/testing.md example', () => {
  it('runs the scenarios, samples events and checks the laws', async () => {
    const r = await main()
    expect(r.failure).toContain('expected events, but the command was rejected')
    expect(r.failure).toContain('InsufficientFunds')
    expect(r.sample).toEqual(['Deposited', 'Deposited', 'Deposited'])
    expect(r.laws).toBe('all laws hold')
  })

  it('is shown whole in docs/testing.md', () => {
    expect(docsPage('testing.md')).toContain(exampleCode('testing.ts'))
  })
})
