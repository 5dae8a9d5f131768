import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/events.js'
import { docsPage, exampleCode } from './pages.js'

describe('docs/events.md example', () => {
  it('encodes, decodes, and reports decode errors and unknown topics as values', async () => {
    // when the example runs
    const r = await main()
    // then it shows what the page says
    expect(r.stored).toEqual({
      type: 'AccountOpened',
      id: 'acc-1',
      version: 1,
      timestamp: '2026-03-01T09:00:00.000Z',
      owner: 'Ada',
      openedOn: '2026-03-01T00:00:00.000Z',
    })
    expect(r.roundTrips).toBe(true)
    expect(r.decodeError).toBe('Deposited/amount: expected number')
    expect(r.unknownTopic).toBe('UnknownTopic')
    expect(r.kept).toEqual(E.right({ type: 'Deposited', id: 'acc-1', version: 3, timestamp: '2026-03-01T09:00:00.000Z', amount: 5, channel: 'atm' }))
    expect(r.impossibleDay).toBe('AccountOpened/openedOn: expected DateFromISOString')
    expect(r.decided).toEqual({ type: 'Deposited', timestamp: new Date('2026-03-01T09:00:00.000Z'), amount: 10 })
  })

  it('is shown whole in docs/events.md, so the page cannot drift from the code that runs', () => {
    expect(docsPage('events.md')).toContain(exampleCode('events.ts'))
  })
})
