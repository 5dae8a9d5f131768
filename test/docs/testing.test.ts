import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/testing.js'

describe('docs/testing.md example', () => {
  it('runs the scenarios, samples events and checks the laws', async () => {
    const r = await main()
    expect(r.failure).toContain('expected events, but the command was rejected')
    expect(r.failure).toContain('InsufficientFunds')
    expect(r.sample).toEqual(['Deposited', 'Deposited', 'Deposited'])
    expect(r.laws).toBe('all laws hold')
  })

  it('is shown whole in docs/testing.md', () => {
    const page = readFileSync(new URL('../../docs/testing.md', import.meta.url), 'utf8')
    const code = readFileSync(new URL('../../docs/examples/testing.ts', import.meta.url), 'utf8').trimEnd()
    expect(page).toContain(code)
  })
})
