import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/errors.js'
import { docsPage, exampleCode } from './pages.js'

describe('docs/errors.md example', () => {
  it('returns every failure as a tagged value and matches them exhaustively', async () => {
    const r = await main()
    expect(r.tags).toEqual(['DuplicateCommit', 'ConcurrencyConflict', 'InvalidAttempt', 'DecodeError'])
    expect(r.http.map((h) => h.status)).toEqual([200, 409, 400, 500])
    expect(r.http[1]?.message).toBe('1 newer commit(s) in acc-1: reload and retry')
    expect(r.http[3]?.message).toBe('stored Deposited does not decode: Deposited/timestamp: expected DateFromISOString')
    expect(r.retry).toEqual([false, true, false])
    expect(r.recognised).toBe('DuplicateCommit')
    expect(r.plainError).toBe(false)
    expect(r.commands).toEqual([
      { status: 422, message: 'refused: NotOpen' },
      { status: 412, message: 'acc-2 is at revision 0, not 3' },
    ])
  })

  it('is shown whole in docs/errors.md, so the page cannot drift from the code that runs', () => {
    expect(docsPage('errors.md')).toContain(exampleCode('errors.ts'))
  })
})
