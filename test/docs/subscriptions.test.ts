import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/subscriptions.js'
import { docsPage, exampleCode } from './pages.js'

describe('docs/subscriptions.md example', () => {
  it('projects live, hands over to the standby, parks and replays, and rebuilds after a reset', async () => {
    const r = await main()
    if (!('live' in r)) return expect.fail(`the example failed: ${JSON.stringify(r)}`)
    expect(r.live).toEqual({ 'acc-1': 70, 'acc-2': 20 })
    expect(r.afterTakeover).toEqual(E.right({ state: 'live', position: 4, lag: 0 }))
    expect(r.audit).toEqual(['acc-1#1', 'acc-1#2', 'acc-2#1 (replayed)', 'acc-2#2 (replayed)'])
    expect(r.parked).toEqual(E.right(['acc-2@2', 'acc-2@4']))
    expect(r.replayed).toEqual(E.right([2, 4]))
    expect(r.reset).toBe(true)
    expect(r.rebuilt).toEqual({ 'acc-1': 70, 'acc-2': 25 })
  })

  it('is shown whole in docs/subscriptions.md, so the page cannot drift from the code that runs', () => {
    expect(docsPage('subscriptions.md')).toContain(exampleCode('subscriptions.ts'))
  })
})
