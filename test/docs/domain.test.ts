import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/domain.js'

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
    const page = readFileSync(new URL('../../docs/domain.md', import.meta.url), 'utf8')
    const code = readFileSync(new URL('../../docs/examples/domain.ts', import.meta.url), 'utf8').trimEnd()
    expect(page).toContain(code)
  })
})
