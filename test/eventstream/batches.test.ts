import * as E from 'fp-ts/lib/Either.js'
import * as fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { openStream, type EventMessage } from '../../src/eventstore/index.js'
import { memoryStore } from '../../src/memory/index.js'

// A load takes commits in batches of at most 256 commits or about 1,000 events, adding to one set of commit ids
// and (without a consumer) one array of events for the whole load: these streams cross both limits.
describe('loading a long stream in batches (property)', () => {
  it('holds every event and commit id once, in order, with and without a consumer that keeps its batches', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 200, max: 700 })), { minLength: 1, maxLength: 300 }), async (sizes) => {
        // given a stream of commits of these sizes, events numbered by revision
        const store = memoryStore()
        let revision = 0
        for (const [i, size] of sizes.entries()) {
          const r = await store.commit({
            tenantId: 't',
            streamId: 's',
            commitSequence: i + 1,
            streamRevision: revision + size,
            commitId: `c${i}`,
            commitStamp: new Date(0),
            headers: { [`h${i % 3}`]: i },
            events: Array.from({ length: size }, (_, j) => ({ headers: {}, body: { type: 'Happened', n: revision + j + 1 } })),
          })
          if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
          revision += size
        }
        const all = Array.from({ length: revision }, (_, i) => i + 1)
        // when it is loaded whole
        const whole = await openStream(store, 't', 's')
        if (E.isLeft(whole)) throw new Error(whole.left._tag)
        // then it holds every event once, in order, every commit id, and the last commit's head
        expect(whole.right.committedEvents.map((m) => m.body['n'])).toEqual(all)
        expect([...whole.right.commitIds]).toEqual(sizes.map((_, i) => `c${i}`))
        expect(whole.right.streamRevision).toBe(revision)
        expect(whole.right.commitSequence).toBe(sizes.length)
        // and a consumer that keeps the arrays it was handed sees the same events, none of them changed later
        const kept: (readonly EventMessage[])[] = []
        const consumed = await openStream(store, 't', 's', {}, (events) => (kept.push(events), E.right(undefined)))
        if (E.isLeft(consumed)) throw new Error(consumed.left._tag)
        expect(kept.flat().map((m) => m.body['n'])).toEqual(all)
        expect(consumed.right.committedEvents).toEqual([])
        expect(consumed.right.commitIds.size).toBe(sizes.length)
      }),
      { numRuns: 25 },
    )
  })
})
