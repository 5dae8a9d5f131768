import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import type { StreamHead } from '../../eventstore/index.js'
import type { StoreHarness } from './harness.js'
import { collect, freshIds, left, right, settles, sharedStore, snapshot, some, writeStream } from './fixtures.js'

const byStream = (a: StreamHead, b: StreamHead): number => (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0)

/** SEMANTICS 9-11: snapshots. */
export const snapshotsContract = (harness: StoreHarness): void => {
  describe(`${harness.name}: snapshots (SEMANTICS 9-11)`, () => {
    const store = sharedStore(harness)

    it('SEMANTICS 9: getSnapshot returns the newest snapshot at or below maxRevision', async () => {
      // given snapshots at revisions 3, 6 and 9 (added out of order)
      const ids = freshIds()
      await writeStream(store(), ids, 9)
      for (const r of [6, 3, 9]) right(await store().addSnapshot(snapshot(ids, r)))
      const at = async (max?: number) => {
        const found = right(await store().getSnapshot(ids.tenantId, ids.streamId, max))
        return O.isSome(found) ? found.value.streamRevision : undefined
      }
      expect(await at(9)).toBe(9) // exactly at a snapshot's revision
      expect(await at(8)).toBe(6) // between two snapshots
      expect(await at(6)).toBe(6)
      expect(await at(5)).toBe(3)
      expect(await at(3)).toBe(3)
      expect(await at(100)).toBe(9)
      expect(await at()).toBe(9) // no bound: the newest
      expect(await at(0)).toBe(9) // a non-positive bound means no bound
      expect(await at(-3)).toBe(9)
      expect(await at(2)).toBeUndefined() // none below the first
      expect(await at(1)).toBeUndefined()
    })

    it('SEMANTICS 9: a stream without snapshots, or an unknown stream, has none', async () => {
      const ids = freshIds()
      await writeStream(store(), ids, 2)
      expect(right(await store().getSnapshot(ids.tenantId, ids.streamId))).toEqual(O.none)
      const unknown = freshIds()
      expect(right(await store().getSnapshot(unknown.tenantId, unknown.streamId, 5))).toEqual(O.none)
    })

    it('SEMANTICS 9: a snapshot round-trips its numbers, payload and headers exactly', async () => {
      const ids = freshIds()
      await writeStream(store(), ids, 4)
      const payload = {
        balance: 1234.5,
        owner: { name: 'Zoë Ångström 🏦', tags: ['a', 'b'], closed: false, note: null },
        history: [1, -2, 3e-7, 'x', [true, null]],
        big: 'x'.repeat(100_000),
      }
      const headers = { 'snapshot.schema': 2, 'aett.codec': { name: 'Account', at: '2026-01-01T00:00:00.000Z' } }
      const s = { ...snapshot(ids, 4, payload, headers), commitSequence: 3 }
      right(await store().addSnapshot(s))
      expect(some(right(await store().getSnapshot(ids.tenantId, ids.streamId, 4)))).toEqual(s)
    })

    it('SEMANTICS 9: a snapshot whose revision or sequence is NaN, negative, zero, fractional, infinite or unsafe, or whose sequence exceeds its revision, is an InvalidAttempt and nothing is stored', async () => {
      // given a stream of three commits with a snapshot at revision 1
      const ids = freshIds()
      await writeStream(store(), ids, 3)
      const kept = snapshot(ids, 1, { balance: 'kept' })
      right(await store().addSnapshot(kept))
      const bad: ReadonlyArray<readonly [string, number, number]> = [
        ['revision NaN', Number.NaN, 1],
        ['revision -1', -1, 1],
        ['revision 0', 0, 1],
        ['revision 2.5', 2.5, 1],
        ['revision 2.0001', 2.0001, 1],
        ['revision Infinity', Number.POSITIVE_INFINITY, 1],
        ['revision 2^53', 2 ** 53, 1],
        ['revision "3"', '3' as unknown as number, 1],
        ['revision missing', undefined as unknown as number, 1],
        ['sequence NaN', 3, Number.NaN],
        ['sequence -1', 3, -1],
        ['sequence 0', 3, 0],
        ['sequence 1.5', 3, 1.5],
        ['sequence -Infinity', 3, Number.NEGATIVE_INFINITY],
        ['sequence "1"', 3, '1' as unknown as number],
        ['sequence above the revision', 2, 3],
      ]
      for (const [what, streamRevision, commitSequence] of bad) {
        const s = { ...snapshot(ids, 2, { balance: what }), streamRevision, commitSequence }
        const e = left(await settles(`addSnapshot (${what})`, () => store().addSnapshot(s)), 'InvalidAttempt')
        expect(e.reason.length, what).toBeGreaterThan(0)
      }
      // then the snapshot at revision 1 is still the newest, at every bound (a revision 2.5 was not kept as 2 or 3)
      for (const max of [undefined, 1, 2, 3, 100]) {
        expect(some(right(await store().getSnapshot(ids.tenantId, ids.streamId, max))), String(max)).toEqual(kept)
      }
      expect(await collect(store().streamsToSnapshot(ids.tenantId, 0))).toEqual([{ ...ids, headRevision: 3, snapshotRevision: 1 }])
    })

    it('SEMANTICS 10: adding a snapshot at a revision that already has one replaces it', async () => {
      const ids = freshIds()
      await writeStream(store(), ids, 5)
      right(await store().addSnapshot(snapshot(ids, 5, { balance: 'first' })))
      // when another snapshot is added at the same revision, it is not an error
      right(await store().addSnapshot(snapshot(ids, 5, { balance: 'second' }, { 'replaced.by': 'second' })))
      // then the second one is the one kept
      const found = some(right(await store().getSnapshot(ids.tenantId, ids.streamId, 5)))
      expect(found.payload).toEqual({ balance: 'second' })
      expect(found.headers).toEqual({ 'replaced.by': 'second' })
      // and it still counts once for streams to snapshot
      const heads = await collect(store().streamsToSnapshot(ids.tenantId, 0))
      expect(heads).toEqual([{ ...ids, headRevision: 5, snapshotRevision: 5 }])
    })

    it('SEMANTICS 11: streamsToSnapshot lists heads whose distance from the newest snapshot is at least the threshold', async () => {
      // given four streams of one tenant
      const { tenantId } = freshIds()
      const s = (name: string) => ({ tenantId, streamId: `stream-${name}` })
      await writeStream(store(), s('a'), 5, 2) // head 10, no snapshot: distance 10
      await writeStream(store(), s('b'), 10) // head 10, snapshot 5: distance 5, exactly the threshold
      right(await store().addSnapshot(snapshot(s('b'), 5)))
      await writeStream(store(), s('c'), 10) // head 10, snapshots 2 and 7: distance 3 from the newest
      right(await store().addSnapshot(snapshot(s('c'), 2)))
      right(await store().addSnapshot(snapshot(s('c'), 7)))
      await writeStream(store(), s('d'), 4) // head 4, no snapshot: distance 4
      // and a stream of another tenant far behind
      await writeStream(store(), freshIds(), 12)
      // when asking with threshold 5
      const heads = (await collect(store().streamsToSnapshot(tenantId, 5))).sort(byStream)
      // then a (10) and b (exactly 5) are listed, with their numbers
      expect(heads).toEqual([
        { tenantId, streamId: 'stream-a', headRevision: 10, snapshotRevision: 0 },
        { tenantId, streamId: 'stream-b', headRevision: 10, snapshotRevision: 5 },
      ])
      // and the boundaries move with the threshold
      const names = async (threshold: number) =>
        (await collect(store().streamsToSnapshot(tenantId, threshold))).map((h) => h.streamId).sort()
      expect(await names(3)).toEqual(['stream-a', 'stream-b', 'stream-c', 'stream-d'])
      expect(await names(4)).toEqual(['stream-a', 'stream-b', 'stream-d'])
      expect(await names(6)).toEqual(['stream-a'])
      expect(await names(10)).toEqual(['stream-a'])
      expect(await names(11)).toEqual([])
    })

    it('SEMANTICS 11: streamsToSnapshot lists more streams than a page, of its tenant only', async () => {
      const { tenantId } = freshIds()
      const expected: StreamHead[] = []
      for (let i = 0; i < 12; i++) {
        const ids = { tenantId, streamId: `s-${String(i).padStart(2, '0')}` }
        await writeStream(store(), ids, 1, 2)
        expected.push({ ...ids, headRevision: 2, snapshotRevision: 0 })
      }
      expect((await collect(store().streamsToSnapshot(tenantId, 1))).sort(byStream)).toEqual(expected)
      // a snapshot at the head takes a stream off the list
      right(await store().addSnapshot(snapshot({ tenantId, streamId: 's-03' }, 2)))
      const after = await collect(store().streamsToSnapshot(tenantId, 1))
      expect(after.map((h) => h.streamId).sort()).toEqual(expected.map((h) => h.streamId).filter((id) => id !== 's-03'))
      expect(await collect(store().streamsToSnapshot(freshIds().tenantId, 1))).toEqual([])
    })
  })
}
