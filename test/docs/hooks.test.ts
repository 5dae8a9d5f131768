import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/hooks.js'
import { docsPage, exampleCode } from './pages.js'

describe('docs/hooks.md example', () => {
  it('refuses, notifies, hides and redacts through the hooks', async () => {
    const r = await main()
    expect(r.refused).toMatchObject({
      _tag: 'HookRejected',
      streamId: 'acc-1',
      hook: 'require-user',
      reason: 'every commit names its user',
      details: { header: 'user' },
    })
    expect(r.balance).toEqual(E.right(50))
    expect(r.archivedIsOpen).toEqual(E.right(false))
    expect(r.outbox).toEqual(['acc-1#1 by ann', 'acc-1#2 by ann', 'acc-2#1 by ann', 'acc-3#1 by ann'])
    expect(r.seen).toEqual(E.right(['Ada', '(forgotten)']))
    expect(r.stored).toEqual(E.right(['Ada', 'Grace', 'Linus']))
    expect(r.cached).toEqual([])
  })

  it('is shown whole in docs/hooks.md, so the page cannot drift from the code that runs', () => {
    expect(docsPage('hooks.md')).toContain(exampleCode('hooks.ts'))
  })
})
