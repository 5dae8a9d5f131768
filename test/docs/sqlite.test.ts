import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/sqlite.js'
import { docsPage, exampleCode } from './pages.js'

describe('docs/stores/sqlite.md example', () => {
  it('opens a file, meets a second writer, retries, reopens and reads the log from a checkpoint', async () => {
    const r = await main()
    if (E.isLeft(r)) return expect.fail(`the example failed: ${JSON.stringify(r.left)}`)
    expect(r.right).toEqual({
      conflict: 'ConcurrencyConflict',
      missed: [2],
      retried: 3,
      revisions: E.right([1, 2, 3]),
      afterFirst: E.right([2, 3]),
      snapshot: E.right(O.some(3)),
    })
  })

  it('is shown whole in docs/stores/sqlite.md', () => {
    expect(docsPage('stores/sqlite.md')).toContain(exampleCode('sqlite.ts'))
  })
})
