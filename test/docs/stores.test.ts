import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/stores.js'
import { docsPage, exampleCode } from './pages.js'

describe('docs/stores.md example', () => {
  it('commits, conflicts, catches up, projects from a checkpoint and snapshots', async () => {
    const r = await main()
    if (!('conflict' in r)) return expect.fail(`the example failed: ${JSON.stringify(r)}`)
    expect(r.conflict).toBe('ConcurrencyConflict')
    expect(r.missed).toEqual([2])
    expect(r.resent).toBe('DuplicateCommit')
    expect(r.revisions).toEqual(E.right([[1, 2], [2, 3], [3, 4]]))
    expect(r.fromRevision4).toEqual(E.right(1))
    expect(r.projection).toEqual(E.right({ totals: { 'acc-1': 125, 'acc-2': 20 }, checkpoint: 4 }))
    expect(r.snapshotAt).toEqual(E.right(O.some(4)))
    expect(r.due).toEqual(E.right(['acc-2']))
  })

  it('is shown whole in docs/stores.md, so the page cannot drift from the code that runs', () => {
    expect(docsPage('stores.md')).toContain(exampleCode('stores.ts'))
  })

  it('shows the shared attempt builder whole in docs/stores.md, where the store pages point to it', () => {
    expect(docsPage('stores.md')).toContain(exampleCode('support.ts'))
  })
})
