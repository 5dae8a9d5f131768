import { readFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/stores.js'

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
    const page = readFileSync(new URL('../../docs/stores.md', import.meta.url), 'utf8')
    const code = readFileSync(new URL('../../docs/examples/stores.ts', import.meta.url), 'utf8').trimEnd()
    expect(page).toContain(code)
  })
})
