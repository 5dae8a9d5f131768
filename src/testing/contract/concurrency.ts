import { randomUUID } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Commit } from '../../eventstore/index.js'
import type { LogReader, StoreHarness } from './harness.js'
import {
  attempt,
  collect,
  expectCommits,
  expectStrictlyAscending,
  freshIds,
  left,
  next,
  right,
  sharedStore,
  tokens,
  withFreshStore,
} from './fixtures.js'

const parallelWriters = 8

/** SEMANTICS 3, 4, 7 and 8 under parallel writers. */
export const concurrencyContract = (harness: StoreHarness): void => {
  describe(`${harness.name}: concurrency (SEMANTICS 3, 4, 7, 8)`, () => {
    const store = sharedStore(harness)

    it(`SEMANTICS 3: ${parallelWriters} parallel commits for the same next sequence: exactly one succeeds, the others conflict`, async () => {
      // given a stream at sequence 1
      const ids = freshIds()
      const c1 = right(await store().commit(attempt({ ...ids, commitSequence: 1 })))
      // when several writers append sequence 2 at once
      const results = await Promise.all(
        Array.from({ length: parallelWriters }, () => store().commit(next(c1, ids, { events: 2 }))),
      )
      // then exactly one wins, and every other writer is told about the winner
      const winners = results.filter(E.isRight).map((r) => r.right)
      expect(winners).toHaveLength(1)
      for (const r of results.filter(E.isLeft)) {
        const conflict = left(r, 'ConcurrencyConflict')
        expectCommits(conflict.missed, winners)
      }
      expectCommits(await collect(store().get(ids.tenantId, ids.streamId)), [c1, ...winners])
    })

    it('SEMANTICS 4: parallel sends of the same commit: one succeeds, the others are duplicates', async () => {
      const ids = freshIds()
      const a = attempt({ ...ids, commitSequence: 1, commitId: randomUUID() })
      const results = await Promise.all(Array.from({ length: parallelWriters }, () => store().commit(a)))
      expect(results.filter(E.isRight)).toHaveLength(1)
      for (const r of results.filter(E.isLeft)) left(r, 'DuplicateCommit')
      expect(await collect(store().get(ids.tenantId, ids.streamId))).toHaveLength(1)
    })

    it('SEMANTICS 7: parallel appends to different streams all succeed with distinct, increasing tokens', async () => {
      await withFreshStore(harness, async (fresh) => {
        const { tenantId } = freshIds()
        const streams = Array.from({ length: 12 }, (_, i) => ({ tenantId, streamId: `parallel-${i}` }))
        const results = await Promise.all(streams.map((ids) => fresh.commit(attempt({ ...ids, commitSequence: 1, events: 2 }))))
        const commits = results.map(right)
        expect(new Set(tokens(commits)).size).toBe(commits.length)
        // and a global read lists them all once, ascending (each feed shard's, when the store has shards)
        const read: Commit[] = []
        for (const log of harness.feeds?.readers(fresh) ?? [fresh]) {
          const ofLog = await collect(log.getFrom(0))
          expectStrictlyAscending(tokens(ofLog))
          read.push(...ofLog)
        }
        expect(read.map((c) => c.streamId).sort()).toEqual(streams.map((s) => s.streamId).sort())
        for (const c of read) expect(c.checkpointToken).toBe(commits.find((w) => w.streamId === c.streamId)?.checkpointToken)
      })
    })

    for (const scope of ['global', 'tenant-scoped'] as const) {
      it(`SEMANTICS 8: a ${scope} reader polling during parallel writes sees every commit once, with strictly ascending tokens`, async () => {
        await withFreshStore(harness, async (fresh) => {
          // given writers appending to their own streams in parallel, half of them in another tenant
          const writers = 6
          const perWriter = 8
          const tenantOf = (w: number) => (scope === 'global' || w % 2 === 0 ? 'polling' : 'elsewhere')
          let done = false
          const write = async (w: number): Promise<Commit[]> => {
            const ids = { tenantId: tenantOf(w), streamId: `writer-${w}` }
            const out: Commit[] = []
            for (let i = 0; i < perWriter; i++) out.push(right(await fresh.commit(next(out[out.length - 1], ids))))
            return out
          }
          // and a reader that keeps reading from the last token it saw (one a feed shard, when the store has shards)
          const poll = async (log: LogReader): Promise<Commit[]> => {
            const seen: Commit[] = []
            for (;;) {
              const finished = done // read the flag before the page, so the last poll starts after every write
              const from = seen[seen.length - 1]?.checkpointToken ?? 0
              seen.push(...(await collect(scope === 'global' ? log.getFrom(from) : log.getFrom(from, 'polling'))))
              if (finished) return seen
              await new Promise((resolve) => setImmediate(resolve))
            }
          }
          const readers = Promise.all((harness.feeds?.readers(fresh) ?? [fresh]).map(poll))
          const written = (await Promise.all(Array.from({ length: writers }, (_, w) => write(w)))).flat()
          done = true
          const seenByLog = await readers
          // then each reader's tokens only ever went up, and together they missed nothing of their scope
          for (const seen of seenByLog) expectStrictlyAscending(tokens(seen))
          const seen = seenByLog.flat()
          const expected = written.filter((c) => c.tenantId === 'polling')
          expect(seen.map((c) => c.commitId).sort()).toEqual(expected.map((c) => c.commitId).sort())
        })
      })
    }
  })
}
