import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import type { Commit } from '../../eventstore/index.js'
import type { StoreHarness } from './harness.js'
import { collect, expectCommits, expectLog, freshIds, next, right, snapshot, writeStream, withFreshStore } from './fixtures.js'

/** SEMANTICS 12: initialise, drop, purge, delete. Each test has a store of its own. */
export const managementContract = (harness: StoreHarness): void => {
  describe(`${harness.name}: management (SEMANTICS 12)`, () => {
    it('SEMANTICS 12: initialize() is idempotent and keeps what is stored', async () => {
      await withFreshStore(harness, async (store) => {
        const ids = freshIds()
        const written = await writeStream(store, ids, 2)
        right(await store.initialize())
        right(await store.initialize())
        expectCommits(await collect(store.get(ids.tenantId, ids.streamId)), written)
        right(await store.commit(next(written[1], ids)))
      })
    })

    it('SEMANTICS 12: drop() then initialize() gives an empty, working store', async () => {
      await withFreshStore(harness, async (store) => {
        // given commits and a snapshot
        const ids = freshIds()
        await writeStream(store, ids, 3)
        right(await store.addSnapshot(snapshot(ids, 3)))
        // when the store is dropped and initialised again
        right(await store.drop())
        right(await store.initialize())
        // then nothing is left
        await expectLog(harness, store, (r) => r.getFrom(0), [])
        expect(await collect(store.get(ids.tenantId, ids.streamId))).toEqual([])
        expect(right(await store.getSnapshot(ids.tenantId, ids.streamId))).toEqual(O.none)
        expect(await collect(store.streamsToSnapshot(ids.tenantId, 0))).toEqual([])
        // and the same stream starts again at sequence 1
        const [c1] = await writeStream(store, ids, 1)
        await expectLog(harness, store, (r) => r.getFrom(0), [c1!])
      })
    })

    it('SEMANTICS 12: purge(tenant) deletes that tenant\'s commits and snapshots and leaves other tenants intact', async () => {
      await withFreshStore(harness, async (store) => {
        // given two tenants with the same stream id, each with commits and a snapshot
        const a = freshIds()
        const b = { tenantId: `${a.tenantId}-b`, streamId: a.streamId }
        const ofA = await writeStream(store, a, 3)
        const ofB = await writeStream(store, b, 2)
        right(await store.addSnapshot(snapshot(a, 2)))
        right(await store.addSnapshot(snapshot(b, 2)))
        // when purging tenant a
        right(await store.purge(a.tenantId))
        // then a is gone everywhere
        expect(await collect(store.get(a.tenantId, a.streamId))).toEqual([])
        await expectLog(harness, store, (r) => r.getFrom(0, a.tenantId), [])
        expect(right(await store.getSnapshot(a.tenantId, a.streamId))).toEqual(O.none)
        expect(await collect(store.streamsToSnapshot(a.tenantId, 0))).toEqual([])
        // and b is whole, in the global log too
        expectCommits(await collect(store.get(b.tenantId, b.streamId)), ofB)
        await expectLog(harness, store, (r) => r.getFrom(0), ofB)
        expect(O.isSome(right(await store.getSnapshot(b.tenantId, b.streamId)))).toBe(true)
        // and a's stream can start again, with a token above every earlier one (of its feed shard, when it has shards)
        const [again] = await writeStream(store, a, 1)
        const sameLog = (c: Commit) => harness.feeds === undefined || harness.feeds.shardOf(c) === harness.feeds.shardOf(a)
        expect(again!.checkpointToken).toBeGreaterThan(Math.max(0, ...[...ofA, ...ofB].filter(sameLog).map((c) => c.checkpointToken)))
      })
    })

    it('SEMANTICS 12: purge() without a tenant deletes every tenant\'s commits and snapshots', async () => {
      await withFreshStore(harness, async (store) => {
        const a = freshIds()
        const b = freshIds()
        await writeStream(store, a, 2)
        await writeStream(store, b, 2)
        right(await store.addSnapshot(snapshot(b, 1)))
        right(await store.purge())
        await expectLog(harness, store, (r) => r.getFrom(0), [])
        expect(right(await store.getSnapshot(b.tenantId, b.streamId))).toEqual(O.none)
        // and the store keeps working
        const after = await writeStream(store, b, 1)
        await expectLog(harness, store, (r) => r.getFrom(0), after)
      })
    })

    it('SEMANTICS 12: deleteStream removes one stream\'s commits and snapshots only', async () => {
      await withFreshStore(harness, async (store) => {
        // given a stream, a sibling in the same tenant, and the same stream id in another tenant
        const doomed = freshIds()
        const sibling = { tenantId: doomed.tenantId, streamId: `${doomed.streamId}-sibling` }
        const twin = { tenantId: `${doomed.tenantId}-twin`, streamId: doomed.streamId }
        await writeStream(store, doomed, 3)
        const ofSibling = await writeStream(store, sibling, 2)
        const ofTwin = await writeStream(store, twin, 2)
        for (const ids of [doomed, sibling, twin]) right(await store.addSnapshot(snapshot(ids, 2)))
        // when deleting the stream
        right(await store.deleteStream(doomed.tenantId, doomed.streamId))
        // then its commits and snapshots are gone
        expect(await collect(store.get(doomed.tenantId, doomed.streamId))).toEqual([])
        expect(right(await store.getSnapshot(doomed.tenantId, doomed.streamId))).toEqual(O.none)
        // and the others are intact, in the global log too, with their tokens
        expectCommits(await collect(store.get(sibling.tenantId, sibling.streamId)), ofSibling)
        expectCommits(await collect(store.get(twin.tenantId, twin.streamId)), ofTwin)
        await expectLog(harness, store, (r) => r.getFrom(0), [...ofSibling, ...ofTwin])
        await expectLog(harness, store, (r) => r.getFrom(0, doomed.tenantId), ofSibling)
        expect(O.isSome(right(await store.getSnapshot(sibling.tenantId, sibling.streamId)))).toBe(true)
        expect(O.isSome(right(await store.getSnapshot(twin.tenantId, twin.streamId)))).toBe(true)
        expect((await collect(store.streamsToSnapshot(doomed.tenantId, 0))).map((h) => h.streamId)).toEqual([sibling.streamId])
        // and the deleted stream can start again at sequence 1
        await writeStream(store, doomed, 1)
      })
    })

    it('SEMANTICS 12: purging or deleting what does not exist is not an error', async () => {
      await withFreshStore(harness, async (store) => {
        const ids = freshIds()
        right(await store.deleteStream(ids.tenantId, ids.streamId))
        right(await store.purge(ids.tenantId))
        right(await store.purge())
      })
    })
  })
}
