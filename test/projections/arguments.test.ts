import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { documentProjection, documentsOf, inlineProjection, rebuildDocuments, startProjection } from '../../src/projections/index.js'
import { sqliteProjection, sqliteStore } from '../../src/sqlite/index.js'
import { orThrow } from '../sqlite/support.js'
import { testTopics } from './fixtures.js'

// The entry points answer values for anything a plain JavaScript caller passes: no escaped throw.

const store = sqliteStore({ filename: ':memory:' })
afterAll(async () => {
  await store.close()
})

const docs = documentProjection({ name: 'docs', topics: testTopics, id: (e) => e.id, evolve: () => ({}) })
const counting = sqliteProjection({ name: 'p', topics: testTopics, handlers: { Bumped: () => undefined, Noted: () => undefined } })

describe('projection entry points with arbitrary arguments', () => {
  it('startProjection answers InvalidArgument (or a handle) and never throws', async () => {
    orThrow(await store.initialize())
    await fc.assert(
      fc.asyncProperty(fc.anything(), fc.anything(), async (options, name) => {
        const r = (() => {
          try {
            return startProjection(store, { ...counting, name: name as string }, options as never)
          } catch (thrown) {
            return expect.fail(`threw ${String(thrown)}`)
          }
        })()
        if (E.isRight(r)) await r.right.stop()
        else expect(r.left._tag).toBe('InvalidArgument')
      }),
      { numRuns: 200 },
    )
    expect(E.isLeft(startProjection(store, null as never))).toBe(true)
    expect(E.isLeft(startProjection(null as never, counting))).toBe(true)
  })

  it('the document reader, inline registration and rebuild answer values for bad arguments', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything(), fc.anything(), fc.anything(), async (a, b, c) => {
        const reader = documentsOf(store, docs)
        for (const p of [reader.get(a as string, b as string), reader.all(a as never), reader.where(a as string, b as never, c as never)]) {
          const r = await p
          expect(r._tag === 'Left' || r._tag === 'Right').toBe(true)
        }
        const bad = documentsOf(a as never, docs)
        expect((await bad.all())._tag).toBe('Left')
        expect((await inlineProjection(a as never, docs))._tag).toBe('Left')
        expect((await rebuildDocuments(store, a as never))._tag).toBe('Left')
      }),
      { numRuns: 100 },
    )
  })

  it('rebuildDocuments answers InvalidArgument or a report for any `from` (and any options), and never throws', async () => {
    orThrow(await store.initialize())
    const from = fc.oneof(
      fc.anything(),
      fc.constantFrom('beginning', 'end', null, undefined),
      fc.record({ token: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.double(), fc.bigInt(), fc.string()) }),
      fc.record({ time: fc.oneof(fc.date({ noInvalidDate: false }), fc.string(), fc.integer()) }),
    )
    await fc.assert(
      fc.asyncProperty(from, fc.anything(), async (f, options) => {
        for (const o of [{ from: f }, options]) {
          let r: Awaited<ReturnType<typeof rebuildDocuments>>
          try {
            r = await rebuildDocuments(store, docs, o as never)
          } catch (thrown) {
            return expect.fail(`threw ${String(thrown)}`)
          }
          if (E.isLeft(r)) expect(r.left._tag).toBe('InvalidArgument')
          // The log is empty: a rebuild that runs reaches position 0, from any start it accepts.
          else expect(r.right.position).toBe(0)
        }
      }),
      { numRuns: 60 },
    )
  }, 60_000)
})
