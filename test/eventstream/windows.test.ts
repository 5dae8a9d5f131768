import * as E from 'fp-ts/lib/Either.js'
import * as fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { EventStream } from '../../src/eventstore/index.js'
import { MemoryStore } from '../../src/memory/index.js'

describe('EventStream windows (property)', () => {
  it('holds exactly the events inside [min, max], and is partial exactly when max cuts a commit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 30 }),
        async (sizes, min, max) => {
          // given a stream of commits of the given sizes, events numbered by revision
          const store = new MemoryStore()
          const writer = EventStream.create(store, 'default', 's')
          let n = 0
          const ends: number[] = []
          for (const size of sizes) {
            for (let i = 0; i < size; i++) writer.add({ type: 'E', n: ++n })
            expect(E.isRight(await writer.commitChanges())).toBe(true)
            ends.push(n)
          }
          // when it is opened between min and max
          const opened = await EventStream.open(store, 'default', 's', { minRevision: min, maxRevision: max })
          // then it holds the expected events, or is not found when none fall inside a window starting above 0
          const lo = min > 0 ? min : 1
          const hi = max > 0 ? Math.min(max, n) : n
          const expected = Array.from({ length: Math.max(0, hi - lo + 1) }, (_, i) => lo + i)
          if (min > 0 && expected.length === 0) {
            expect(E.isLeft(opened) && opened.left._tag).toBe('StreamNotFound')
            return
          }
          if (E.isLeft(opened)) throw new Error(opened.left._tag)
          const stream = opened.right
          expect(stream.committedEvents.map((m) => m.body['n'])).toEqual(expected)
          const cuts = max > 0 && max < n && !ends.includes(max)
          expect(stream.isPartial).toBe(cuts)
          if (expected.length > 0) expect(stream.streamRevision).toBe(hi)
        },
      ),
      { numRuns: 150 },
    )
  })
})
