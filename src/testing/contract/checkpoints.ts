import { describe, it } from 'vitest'
import type { Commit, Persistence } from '../../eventstore/index.js'
import type { Reads } from '../../eventstore/reads.js'
import type { LogReader, StoreHarness } from './harness.js'
import { collect, expectLog, expectStrictlyAscending, expectTokensAscending, freshIds, next, right, tokens, withFreshStore } from './fixtures.js'

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

/** The commits of `written` with a token in `(from, to]`: what a read of that window holds, in commit order. */
const within = (written: readonly Commit[], from: number, to = Number.MAX_SAFE_INTEGER): Commit[] =>
  written.filter((c) => c.checkpointToken > from && c.checkpointToken <= to)

/**
 * SEMANTICS 7: checkpoint tokens and global reads. Each test has a store of its own, so "global" means its own. On a
 * store of feed shards (`harness.feeds`) every read is made of each shard, and expected to hold that shard's part.
 */
export const checkpointsContract = (harness: StoreHarness): void => {
  const log = (store: Persistence, read: (r: LogReader) => Reads<Commit>, expected: readonly Commit[]) => expectLog(harness, store, read, expected)
  describe(`${harness.name}: checkpoints (SEMANTICS 7)`, () => {
    it('SEMANTICS 7: reading from 0 on an empty store is an empty success', async () => {
      await withFreshStore(harness, async (store) => {
        const { tenantId } = freshIds()
        await log(store, (r) => r.getFrom(0), [])
        await log(store, (r) => r.getFrom(0, tenantId), [])
        await log(store, (r) => r.getFromTo(0, 1000), [])
        await log(store, (r) => r.getFromTo(0, 1000, tenantId), [])
      })
    })

    it('SEMANTICS 7: checkpoint tokens grow strictly in commit order across streams and tenants', async () => {
      await withFreshStore(harness, async (store) => {
        // given commits written round-robin to three streams of two tenants
        const a = freshIds()
        const b = { tenantId: a.tenantId, streamId: `${a.streamId}-b` }
        const c = freshIds()
        const written = await interleave(store, [a, b, c], 4)
        // then the tokens the store answered with grow strictly in that order (in each shard, when it has shards)
        expectTokensAscending(harness, written)
        // and a global read from 0 hands out the same commits with the same tokens, in the same order
        await log(store, (r) => r.getFrom(0), written)
      })
    })

    it('SEMANTICS 7: getFrom returns the commits with a token greater than the checkpoint, ascending', async () => {
      await withFreshStore(harness, async (store) => {
        const written = await interleave(store, [freshIds(), freshIds()], 3)
        for (let i = 0; i < written.length; i++) {
          const from = written[i]!.checkpointToken
          // exactly at a token: that commit is excluded, the rest follows
          await log(store, (r) => r.getFrom(from), within(written, from))
        }
        const last = Math.max(...tokens(written))
        await log(store, (r) => r.getFrom(last), [])
        await log(store, (r) => r.getFrom(last + 1000), [])
        // a negative checkpoint reads from the start
        await log(store, (r) => r.getFrom(-1), written)
      })
    })

    it('SEMANTICS 7: getFromTo is the window (from, to] with exact boundaries', async () => {
      await withFreshStore(harness, async (store) => {
        const written = await interleave(store, [freshIds(), freshIds()], 4)
        // in token order (the commit order, with one feed)
        const t = tokens(written).sort((a, b) => a - b)
        for (const [i, j] of [
          [0, 3],
          [2, 5],
          [1, 2],
          [0, 7],
          [6, 7],
        ] as const) {
          // from the i-th token (excluded) to the j-th (included)
          await log(store, (r) => r.getFromTo(t[i]!, t[j]!), within(written, t[i]!, t[j]!))
        }
        await log(store, (r) => r.getFromTo(0, t[2]!), within(written, 0, t[2]!))
        // an empty or reversed window is empty
        await log(store, (r) => r.getFromTo(t[3]!, t[3]!), [])
        await log(store, (r) => r.getFromTo(t[5]!, t[2]!), [])
        // a window past the end stops at the last commit
        await log(store, (r) => r.getFromTo(t[5]!, t[7]! + 1000), within(written, t[5]!))
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
        const t = tokens(written).sort((x, y) => x - y)
        // then global reads see both tenants, scoped reads one each
        await log(store, (r) => r.getFrom(0), written)
        await log(store, (r) => r.getFrom(0, a1.tenantId), ofA)
        await log(store, (r) => r.getFrom(0, b1.tenantId), ofB)
        const window = (c: Commit) => c.checkpointToken > t[2]! && c.checkpointToken <= t[9]!
        await log(store, (r) => r.getFromTo(t[2]!, t[9]!), written.filter(window))
        await log(store, (r) => r.getFromTo(t[2]!, t[9]!, a1.tenantId), ofA.filter(window))
        await log(store, (r) => r.getFromTo(t[2]!, t[9]!, b1.tenantId), ofB.filter(window))
        // and a tenant that has nothing reads as empty
        await log(store, (r) => r.getFrom(0, freshIds().tenantId), [])
      })
    })

    it('SEMANTICS 7: a global read longer than a page is complete and ascending', async () => {
      await withFreshStore(harness, async (store) => {
        // given 24 commits over three streams (the harness pages by 5)
        const written = await interleave(store, [freshIds(), freshIds(), freshIds()], 8)
        // (strictly ascending, each read: checked by expectLog on a store of shards)
        await log(store, (r) => r.getFrom(0), written)
        if (harness.feeds === undefined) expectStrictlyAscending(tokens(await collect(store.getFrom(0))))
        const t = tokens(written).sort((x, y) => x - y)
        await log(store, (r) => r.getFromTo(t[1]!, t[22]!), within(written, t[1]!, t[22]!))
        // and a tenant-scoped read pages through other tenants' commits without losing its own
        const ofFirst = written.filter((c) => c.tenantId === written[0]!.tenantId)
        await log(store, (r) => r.getFrom(0, written[0]!.tenantId), ofFirst)
      })
    })
  })
}
