import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/event-streams.js'
import { docsPage, exampleCode } from './pages.js'

describe('docs/event-streams.md example', () => {
  it('commits, catches up after a conflict, refuses partial streams and finds nothing where nothing is', async () => {
    const r = await main()
    expect(r).toEqual({
      first: { revision: 1, sequence: 1, headers: { 'user.id': 'ann' } },
      conflict: 'ConcurrencyConflict',
      bobCaughtUp: { revision: 2, pending: 1 },
      retried: 3,
      upTo1Partial: false,
      refused: 'PartialStream',
      missing: 'StreamNotFound',
      functional: { revision: 1, pendingBefore: 1, ok: true },
    })
  })

  it('is shown whole in docs/event-streams.md', () => {
    expect(docsPage('event-streams.md')).toContain(exampleCode('event-streams.ts'))
  })
})
