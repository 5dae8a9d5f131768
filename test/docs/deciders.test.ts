import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/deciders.js'
import { docsPage, exampleCode } from './pages.js'

describe('docs/deciders.md example', () => {
  it('decides, folds, refuses as a value, combines and adapts', async () => {
    const r = await main()
    expect(r.state).toEqual({ id: 'acc-1', version: 3, open: true, balance: 70 })
    expect(r.refused).toEqual(E.left({ _tag: 'InsufficientFunds', balance: 70, requested: 500 }))
    expect(r.combined).toEqual({ open: true, points: 10 })
    expect(r.fromForm).toEqual(E.right([25.5]))
    expect(r.formRefused).toEqual(E.left('refused: NotOpen'))
  })

  it('is shown whole in docs/deciders.md, so the page cannot drift from the code that runs', () => {
    expect(docsPage('deciders.md')).toContain(exampleCode('deciders.ts'))
  })
})
