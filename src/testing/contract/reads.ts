import { describe, expect, it } from 'vitest'
import type { RevisionRange } from '../../eventstore/index.js'
import type { StoreHarness } from './harness.js'
import { at, collect, expectAcrossShards, logFor, expectCommits, freshIds, next, right, sharedStore, writeStream } from './fixtures.js'

/** SEMANTICS 5-6: stream reads by revision and by time. */
export const readsContract = (harness: StoreHarness): void => {
  describe(`${harness.name}: reads (SEMANTICS 5-6)`, () => {
    const store = sharedStore(harness)

    it('SEMANTICS 5: get without bounds returns every commit of the stream, oldest first', async () => {
      const ids = freshIds()
      const written = await writeStream(store(), ids, 4, (i) => i + 1)
      expectCommits(await collect(store().get(ids.tenantId, ids.streamId)), written)
      expectCommits(await collect(store().get(ids.tenantId, ids.streamId, {})), written)
    })

    it('SEMANTICS 5: get returns the whole commits that overlap [min, max], at and inside commit boundaries', async () => {
      // given commits holding revisions 1-3, 4-6 and 7-9
      const ids = freshIds()
      const [c1, c2, c3] = await writeStream(store(), ids, 3, 3)
      const cases: ReadonlyArray<readonly [RevisionRange, readonly string[]]> = [
        [{ minRevision: 1, maxRevision: 3 }, ['c1']], // exactly one commit's first and last revision
        [{ minRevision: 4, maxRevision: 6 }, ['c2']],
        [{ minRevision: 3, maxRevision: 4 }, ['c1', 'c2']], // last of one, first of the next
        [{ minRevision: 5, maxRevision: 5 }, ['c2']], // inside a commit
        [{ minRevision: 2, maxRevision: 2 }, ['c1']],
        [{ minRevision: 6, maxRevision: 7 }, ['c2', 'c3']],
        [{ minRevision: 2, maxRevision: 8 }, ['c1', 'c2', 'c3']], // inside the first and the last
        [{ minRevision: 9, maxRevision: 9 }, ['c3']],
        [{ minRevision: 7 }, ['c3']],
        [{ minRevision: 6 }, ['c2', 'c3']],
        [{ maxRevision: 3 }, ['c1']],
        [{ maxRevision: 4 }, ['c1', 'c2']],
        [{ minRevision: 0, maxRevision: 0 }, ['c1', 'c2', 'c3']], // non-positive bounds mean "no bound"
        [{ minRevision: -5, maxRevision: 4 }, ['c1', 'c2']],
        [{ minRevision: 4, maxRevision: -1 }, ['c2', 'c3']],
        [{ minRevision: 10 }, []], // beyond the head
        [{ minRevision: 10, maxRevision: 20 }, []],
      ]
      const names = new Map([
        [c1!.commitId, 'c1'],
        [c2!.commitId, 'c2'],
        [c3!.commitId, 'c3'],
      ])
      for (const [range, expected] of cases) {
        const read = await collect(store().get(ids.tenantId, ids.streamId, range))
        expect(read.map((c) => names.get(c.commitId)), JSON.stringify(range)).toEqual(expected)
      }
      // and the commits read are whole
      const [inside] = await collect(store().get(ids.tenantId, ids.streamId, { minRevision: 5, maxRevision: 5 }))
      expectCommits([inside!], [c2!])
    })

    it('SEMANTICS 5: a stream of more commits than a page reads back complete, in order', async () => {
      // given 23 commits (the harness pages by 5), with event counts that vary
      const ids = freshIds()
      const written = await writeStream(store(), ids, 23, (i) => (i % 3) + 1)
      // then every read sees them whole and in order
      expectCommits(await collect(store().get(ids.tenantId, ids.streamId)), written)
      const middle = written.filter((c) => c.commitSequence >= 7 && c.commitSequence <= 19)
      const min = middle[0]!.streamRevision // the last revision of commit 7
      const max = middle[middle.length - 1]!.streamRevision - middle[middle.length - 1]!.events.length + 1 // first of 19
      expectCommits(await collect(store().get(ids.tenantId, ids.streamId, { minRevision: min, maxRevision: max })), middle)
      // and so does a global read from before the first of them
      const globally = await collect(logFor(harness, store(), ids).getFrom(written[0]!.checkpointToken - 1, ids.tenantId))
      expectCommits(globally, written)
    })

    it('SEMANTICS 5: a stream that was never written reads as empty, not as an error', async () => {
      const ids = freshIds()
      expect(await collect(store().get(ids.tenantId, ids.streamId))).toEqual([])
      expect(await collect(store().get(ids.tenantId, ids.streamId, { minRevision: 3, maxRevision: 9 }))).toEqual([])
      expect(await collect(store().getTo(ids.tenantId, ids.streamId, at(1_000_000)))).toEqual([])
      expect(await collect(store().getAllTo(ids.tenantId, at(1_000_000)))).toEqual([])
    })

    it('SEMANTICS 5: a read can be iterated lazily and abandoned early', async () => {
      const ids = freshIds()
      const written = await writeStream(store(), ids, 12)
      const seen: number[] = []
      for await (const r of store().get(ids.tenantId, ids.streamId)) {
        seen.push(right(r).commitSequence)
        if (seen.length === 7) break
      }
      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7])
      // and the store still works afterwards
      right(await store().commit(next(written[written.length - 1], ids)))
    })

    it('SEMANTICS 6: getTo returns the commits of a stream stamped at or before maxTime', async () => {
      // given commits stamped at +1s, +2s, +3s
      const ids = freshIds()
      const written = await writeStream(store(), ids, 3, 1, (i) => at((i + 1) * 1000))
      const upTo = async (t: Date) => (await collect(store().getTo(ids.tenantId, ids.streamId, t))).map((c) => c.commitSequence)
      expect(await upTo(at(2000))).toEqual([1, 2]) // a stamp equal to maxTime is included
      expect(await upTo(at(1999))).toEqual([1])
      expect(await upTo(at(999))).toEqual([])
      expect(await upTo(at(3000))).toEqual([1, 2, 3])
      expect(await upTo(at(86_400_000))).toEqual([1, 2, 3])
      expectCommits(await collect(store().getTo(ids.tenantId, ids.streamId, at(3000))), written)
    })

    it('SEMANTICS 6: getTo pages through a stream longer than a page', async () => {
      // given 13 commits a second apart (the harness pages by 5)
      const ids = freshIds()
      const written = await writeStream(store(), ids, 13, 2, (i) => at(i * 1000))
      // when reading up to the stamp of the ninth, then it gets the first nine, whole
      expectCommits(await collect(store().getTo(ids.tenantId, ids.streamId, at(8000))), written.slice(0, 9))
      expectCommits(await collect(store().getAllTo(ids.tenantId, at(8000))), written.slice(0, 9))
    })

    it('SEMANTICS 6: getAllTo returns a tenant\'s commits at or before maxTime in checkpoint order', async () => {
      // given two streams of one tenant, written interleaved with stamps out of checkpoint order,
      // and a stream of another tenant in the same period
      const a = freshIds()
      const b = { tenantId: a.tenantId, streamId: `${a.streamId}-b` }
      const other = freshIds()
      const plan: ReadonlyArray<readonly [typeof a, number]> = [
        [a, 3000],
        [b, 1000],
        [other, 1000],
        [a, 2000],
        [b, 5000],
        [a, 4000],
        [b, 2000],
        [b, 3000],
      ]
      const heads = new Map<string, Awaited<ReturnType<typeof writeStream>>[number]>()
      const written = []
      for (const [ids, offset] of plan) {
        const key = `${ids.tenantId}/${ids.streamId}`
        const c = right(await store().commit(next(heads.get(key), ids, { commitStamp: at(offset) })))
        heads.set(key, c)
        written.push(c)
      }
      const mine = written.filter((c) => c.tenantId === a.tenantId)
      // when reading the tenant up to +3s (inclusive)
      const read = await collect(store().getAllTo(a.tenantId, at(3000)))
      // then it gets every commit of the tenant stamped up to then, in the order they were written (in each feed
      // shard's order, on a store of shards)
      expectAcrossShards(harness, read, mine.filter((c) => c.commitStamp.getTime() <= at(3000).getTime()))
      if (harness.feeds === undefined) expect(read.map((c) => c.commitStamp.getTime() - at(0).getTime())).toEqual([3000, 1000, 2000, 2000, 3000])
      // and everything when maxTime is after the last stamp
      expectAcrossShards(harness, await collect(store().getAllTo(a.tenantId, at(10_000))), mine)
    })
  })
}
