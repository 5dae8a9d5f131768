import { describe, expect, it } from 'vitest'
import type { Commit, Persistence } from '../../eventstore/index.js'
import type { StoreHarness } from './harness.js'
import { collect, expectCommits, expectStrictlyAscending, freshIds, next, right, tokens, withFreshStore } from './fixtures.js'

/** Writes one commit to each of `streams` in turn, `rounds` times, and returns them in commit order. */
const interleave = async (
  store: Persistence,
  streams: ReadonlyArray<{ readonly tenantId: string; readonly streamId: string }>,
  rounds: number,
): Promise<Commit[]> => {
  const heads = new Map<number, Commit>()
  const out: Commit[] = []
  for (let r = 0; r < rounds; r++) {
    for (const [i, ids] of streams.entries()) {
      const c = right(await store.commit(next(heads.get(i), ids)))
      heads.set(i, c)
      out.push(c)
    }
  }
  return out
}

/** SEMANTICS 7: checkpoint tokens and global reads. Each test has a store of its own, so "global" means its own. */
export const checkpointsContract = (harness: StoreHarness): void => {
  describe(`${harness.name}: checkpoints (SEMANTICS 7)`, () => {
    it('SEMANTICS 7: reading from 0 on an empty store is an empty success', async () => {
      await withFreshStore(harness, async (store) => {
        const { tenantId } = freshIds()
        expect(await collect(store.getFrom(0))).toEqual([])
        expect(await collect(store.getFrom(0, tenantId))).toEqual([])
        expect(await collect(store.getFromTo(0, 1000))).toEqual([])
        expect(await collect(store.getFromTo(0, 1000, tenantId))).toEqual([])
      })
    })

    it('SEMANTICS 7: checkpoint tokens grow strictly in commit order across streams and tenants', async () => {
      await withFreshStore(harness, async (store) => {
        // given commits written round-robin to three streams of two tenants
        const a = freshIds()
        const b = { tenantId: a.tenantId, streamId: `${a.streamId}-b` }
        const c = freshIds()
        const written = await interleave(store, [a, b, c], 4)
        // then the tokens the store answered with grow strictly in that order
        expectStrictlyAscending(tokens(written))
        // and a global read from 0 hands out the same commits with the same tokens, in the same order
        expectCommits(await collect(store.getFrom(0)), written)
      })
    })

    it('SEMANTICS 7: getFrom returns the commits with a token greater than the checkpoint, ascending', async () => {
      await withFreshStore(harness, async (store) => {
        const written = await interleave(store, [freshIds(), freshIds()], 3)
        for (let i = 0; i < written.length; i++) {
          const from = written[i]!.checkpointToken
          // exactly at a token: that commit is excluded, the rest follows
          expectCommits(await collect(store.getFrom(from)), written.slice(i + 1))
        }
        const last = written[written.length - 1]!.checkpointToken
        expect(await collect(store.getFrom(last))).toEqual([])
        expect(await collect(store.getFrom(last + 1000))).toEqual([])
        // a negative checkpoint reads from the start
        expectCommits(await collect(store.getFrom(-1)), written)
      })
    })

    it('SEMANTICS 7: getFromTo is the window (from, to] with exact boundaries', async () => {
      await withFreshStore(harness, async (store) => {
        const written = await interleave(store, [freshIds(), freshIds()], 4)
        const t = tokens(written)
        for (const [i, j] of [
          [0, 3],
          [2, 5],
          [1, 2],
          [0, 7],
          [6, 7],
        ] as const) {
          // from the token of commit i (excluded) to the token of commit j (included)
          expectCommits(await collect(store.getFromTo(t[i]!, t[j]!)), written.slice(i + 1, j + 1))
        }
        expectCommits(await collect(store.getFromTo(0, t[2]!)), written.slice(0, 3))
        // an empty or reversed window is empty
        expect(await collect(store.getFromTo(t[3]!, t[3]!))).toEqual([])
        expect(await collect(store.getFromTo(t[5]!, t[2]!))).toEqual([])
        // a window past the end stops at the last commit
        expectCommits(await collect(store.getFromTo(t[5]!, t[7]! + 1000)), written.slice(6))
      })
    })

    it('SEMANTICS 7: windows read across tenants, and the tenant-scoped forms see one tenant only', async () => {
      await withFreshStore(harness, async (store) => {
        // given two tenants written interleaved, each with two streams
        const a1 = freshIds()
        const a2 = { tenantId: a1.tenantId, streamId: `${a1.streamId}-2` }
        const b1 = freshIds()
        const b2 = { tenantId: b1.tenantId, streamId: `${b1.streamId}-2` }
        const written = await interleave(store, [a1, b1, a2, b2], 3)
        const ofA = written.filter((c) => c.tenantId === a1.tenantId)
        const ofB = written.filter((c) => c.tenantId === b1.tenantId)
        const t = tokens(written)
        // then global reads see both tenants, scoped reads one each
        expectCommits(await collect(store.getFrom(0)), written)
        expectCommits(await collect(store.getFrom(0, a1.tenantId)), ofA)
        expectCommits(await collect(store.getFrom(0, b1.tenantId)), ofB)
        const window = (c: Commit) => c.checkpointToken > t[2]! && c.checkpointToken <= t[9]!
        expectCommits(await collect(store.getFromTo(t[2]!, t[9]!)), written.filter(window))
        expectCommits(await collect(store.getFromTo(t[2]!, t[9]!, a1.tenantId)), ofA.filter(window))
        expectCommits(await collect(store.getFromTo(t[2]!, t[9]!, b1.tenantId)), ofB.filter(window))
        // and a tenant that has nothing reads as empty
        expect(await collect(store.getFrom(0, freshIds().tenantId))).toEqual([])
      })
    })

    it('SEMANTICS 7: a global read longer than a page is complete and ascending', async () => {
      await withFreshStore(harness, async (store) => {
        // given 24 commits over three streams (the harness pages by 5)
        const written = await interleave(store, [freshIds(), freshIds(), freshIds()], 8)
        const read = await collect(store.getFrom(0))
        expectCommits(read, written)
        expectStrictlyAscending(tokens(read))
        const t = tokens(written)
        expectCommits(await collect(store.getFromTo(t[1]!, t[22]!)), written.slice(2, 23))
        // and a tenant-scoped read pages through other tenants' commits without losing its own
        const ofFirst = written.filter((c) => c.tenantId === written[0]!.tenantId)
        expectCommits(await collect(store.getFrom(0, written[0]!.tenantId)), ofFirst)
      })
    })
  })
}
