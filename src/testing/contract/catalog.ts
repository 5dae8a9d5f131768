import { describe, expect, it } from 'vitest'
import type { StoreHarness } from './harness.js'
import { collect, freshIds, right, uid, withFreshStore, writeStream } from './fixtures.js'

/**
 * The stream catalog (`listStreams`, `listTenants`): what an operator's tools list. Not a SEMANTICS rule of its
 * own; it must agree with the commits a store holds (SEMANTICS 12, 13), page like every other read (SEMANTICS 5),
 * and never show another tenant's streams.
 */
export const catalogContract = (harness: StoreHarness): void => {
  describe(`${harness.name}: stream catalog`, () => {
    it('SEMANTICS 13: listStreams shows every stream of a tenant with its head, across pages, and no other tenant\'s', async () => {
      await withFreshStore(harness, async (store) => {
        // given 12 streams in one tenant (more than two pages of 5) and one in another tenant with a shared id
        const tenantId = uid('tenant')
        const expected = []
        for (let i = 0; i < 12; i++) {
          const ids = { tenantId, streamId: `s-${i}-${uid('x')}` }
          const commits = await writeStream(store, ids, 1 + (i % 3), 2)
          const head = commits[commits.length - 1]!
          expected.push({ tenantId, streamId: ids.streamId, headRevision: head.streamRevision, headSequence: head.commitSequence, lastCommitStamp: head.commitStamp })
        }
        const other = { tenantId: uid('tenant'), streamId: expected[0]!.streamId }
        await writeStream(store, other, 1)
        // then the tenant lists exactly its 12 streams, each with its head
        const listed = await collect(store.listStreams(tenantId))
        const byId = (a: { streamId: string }, b: { streamId: string }) => (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0)
        expect([...listed].sort(byId)).toEqual([...expected].sort(byId))
        // and the order is stable between calls
        expect((await collect(store.listStreams(tenantId))).map((s) => s.streamId)).toEqual(listed.map((s) => s.streamId))
        // and the other tenant sees only its own stream
        expect((await collect(store.listStreams(other.tenantId))).map((s) => s.streamId)).toEqual([other.streamId])
      })
    })

    it('SEMANTICS 12: listStreams and listTenants follow deletes and purges', async () => {
      await withFreshStore(harness, async (store) => {
        const a = freshIds()
        const b = { tenantId: a.tenantId, streamId: uid('stream') }
        const c = freshIds()
        await writeStream(store, a, 2)
        await writeStream(store, b, 1)
        await writeStream(store, c, 1)
        const tenants = await collect(store.listTenants())
        expect(tenants).toEqual(expect.arrayContaining([a.tenantId, c.tenantId]))
        expect(new Set(tenants).size).toBe(tenants.length)
        right(await store.deleteStream(a.tenantId, a.streamId))
        expect((await collect(store.listStreams(a.tenantId))).map((s) => s.streamId)).toEqual([b.streamId])
        right(await store.purge(c.tenantId))
        expect(await collect(store.listStreams(c.tenantId))).toEqual([])
        const after = await collect(store.listTenants())
        expect(after).toContain(a.tenantId)
        expect(after).not.toContain(c.tenantId)
      })
    })

    it('SEMANTICS 13: a tenant id that cannot be stored lists nothing, not even the tenant it would become', async () => {
      await withFreshStore(harness, async (store) => {
        const ids = { tenantId: 'ten\uFFFD', streamId: uid('stream') }
        await writeStream(store, ids, 1)
        expect(await collect(store.listStreams('ten\uDBFF'))).toEqual([])
        expect(await collect(store.listStreams(''))).toEqual([])
        expect((await collect(store.listStreams('ten\uFFFD'))).map((s) => s.streamId)).toEqual([ids.streamId])
      })
    })
  })
}
