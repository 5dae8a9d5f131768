import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it, type TestContext } from 'vitest'
import type { Commit, Latest, Persistence, Reads, Snapshot } from '../../eventstore/index.js'
import type { StoreHarness } from './harness.js'
import { answers, collect, expectCommits, failsWith, freshIds, next, right, settles, sharedStore, snapshot, uid, view, writeStream } from './fixtures.js'
import { hostileString } from './fuzz.js'

type ReadLatest = (tenantId: string, streamId: string, maxRevision?: number) => Reads<Latest>

/** The store's `readLatest`, or the test is reported as skipped: the method is optional (see `LatestReader`). */
const readLatestOf = (store: Persistence, ctx: TestContext): ReadLatest => {
  const read = store.readLatest
  if (read === undefined) {
    ctx.skip('this store has no readLatest: repositories load with getSnapshot, then get')
    throw new Error('unreachable: skip() ends the test')
  }
  return (t, s, max) => read.call(store, t, s, max)
}

/** What `readLatest` must answer: the snapshot `getSnapshot` finds, then what `get` reads after it. */
const expected = async (store: Persistence, ids: { tenantId: string; streamId: string }, max: number | undefined) => {
  const found = right(await store.getSnapshot(ids.tenantId, ids.streamId, max))
  const snap = O.toUndefined(found)
  const range = snap === undefined ? { maxRevision: max } : { minRevision: snap.streamRevision + 1, maxRevision: max }
  const commits = await collect(store.get(ids.tenantId, ids.streamId, range as { minRevision?: number; maxRevision?: number }))
  return { snapshot: snap, commits }
}

/** Splits a `readLatest` read into its snapshot and commits, asserting that a snapshot can only come first. */
const split = (items: readonly Latest[]): { snapshot: Snapshot | undefined; commits: Commit[] } => {
  const later = items.slice(1).filter((i) => i._tag === 'Snapshot')
  expect(later, 'a snapshot after the first item').toEqual([])
  const first = items[0]
  return {
    snapshot: first?._tag === 'Snapshot' ? first.snapshot : undefined,
    commits: items.flatMap((i) => (i._tag === 'Commit' ? [i.commit] : [])),
  }
}

const expectSame = async (store: Persistence, read: ReadLatest, ids: { tenantId: string; streamId: string }, max: number | undefined, what: string) => {
  const want = await expected(store, ids, max)
  const got = split(await collect(read(ids.tenantId, ids.streamId, max)))
  expect(got.snapshot, `${what}: the snapshot`).toEqual(want.snapshot)
  expectCommits(got.commits, want.commits)
  for (const c of got.commits) expect([c.tenantId, c.streamId], `${what}: a commit of another stream`).toEqual([ids.tenantId, ids.streamId])
}

/**
 * The optional one-statement load (`readLatest`, see `LatestReader`): it answers exactly what `getSnapshot` and then
 * `get` answer, for any history, snapshots and bound, and never anything of another tenant or stream.
 */
export const latestContract = (harness: StoreHarness): void => {
  describe(`${harness.name}: one-statement load (readLatest = getSnapshot + get, SEMANTICS 5, 9)`, () => {
    const store = sharedStore(harness)

    it('SEMANTICS 5, 9: for random histories, snapshots at random revisions and random bounds, readLatest answers what getSnapshot and get answer, and nothing of a neighbouring tenant or stream', async (ctx) => {
      const read = readLatestOf(store(), ctx)
      const history = fc.record({
        // events per commit of the stream read, and of its two neighbours (same stream id in another tenant,
        // another stream of the same tenant), which get snapshots of their own too
        commits: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 13 }),
        neighbour: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 }),
        snapshots: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
        neighbourSnapshot: fc.integer({ min: 1, max: 12 }),
        bounds: fc.array(fc.oneof(fc.constant(undefined), fc.integer({ min: -2, max: 45 }), fc.double({ min: 0.1, max: 45, noNaN: true })), {
          minLength: 1,
          maxLength: 4,
        }),
      })
      await fc.assert(
        fc.asyncProperty(history, async (h) => {
          const ids = freshIds()
          const commits = await writeStream(store(), ids, h.commits.length, (i) => h.commits[i] as number)
          const head = commits[commits.length - 1]?.streamRevision ?? 0
          for (const neighbour of [{ tenantId: uid('tenant'), streamId: ids.streamId }, { tenantId: ids.tenantId, streamId: uid('stream') }]) {
            const written = await writeStream(store(), neighbour, h.neighbour.length, (i) => h.neighbour[i] as number)
            const top = written[written.length - 1]?.streamRevision ?? 1
            right(await store().addSnapshot(snapshot(neighbour, Math.min(h.neighbourSnapshot, top), { neighbour: true })))
          }
          // snapshots anywhere in the stream, also inside a commit of several events
          for (const at of h.snapshots) if (head > 0) right(await store().addSnapshot(snapshot(ids, 1 + Math.floor(at * (head - 1)), { at })))
          for (const max of h.bounds) await expectSame(store(), read, ids, max, `maxRevision ${String(max)}`)
        }),
        { numRuns: 12 },
      )
    }, 120_000)

    it('SEMANTICS 5, 9: a stream longer than several pages reads whole, after a snapshot inside a commit and without one, bounded and not', async (ctx) => {
      const read = readLatestOf(store(), ctx)
      // 23 commits of 1-3 events: more than four pages of the harness's page size of 5
      const ids = freshIds()
      const commits = await writeStream(store(), ids, 23, (i) => 1 + (i % 3))
      const head = commits[commits.length - 1]?.streamRevision ?? 0
      for (const max of [undefined, head, head - 2, 17]) await expectSame(store(), read, ids, max, `no snapshot, max ${String(max)}`)
      // a snapshot at revision 5, which lies inside the third commit (revisions 4-6)
      right(await store().addSnapshot(snapshot(ids, 5)))
      for (const max of [undefined, head, head - 2, 17, 5, 4]) await expectSame(store(), read, ids, max, `snapshot at 5, max ${String(max)}`)
      const all = split(await collect(read(ids.tenantId, ids.streamId)))
      expect(all.snapshot?.streamRevision).toBe(5)
      // the commit of revisions 4-6 comes whole, as `get` would return it
      expect(all.commits.map((c) => c.streamRevision)).toEqual(commits.filter((c) => c.streamRevision >= 6).map((c) => c.streamRevision))
      expect(all.commits.map(view)).toEqual(commits.filter((c) => c.streamRevision >= 6).map(view))
    }, 60_000)

    it('SEMANTICS 13-15: hostile ids and any bound never throw, and readLatest answers what getSnapshot and get answer (the same InvalidArgument, or the same data)', async (ctx) => {
      const read = readLatestOf(store(), ctx)
      // one stream with a snapshot, which hostile ids in its tenant or as its stream id must never reach
      const ids = freshIds()
      await writeStream(store(), ids, 4, 2)
      right(await store().addSnapshot(snapshot(ids, 3)))
      const bound = fc.oneof(
        fc.constantFrom(undefined, null, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 2 ** 53, Number.MAX_VALUE, '5', {}, [] as unknown),
        fc.double({ noNaN: false }),
        fc.integer({ min: -3, max: 12 }),
      )
      const id = fc.oneof(fc.constant(ids.tenantId), fc.constant(ids.streamId), hostileString(6), fc.constant(''), fc.constant('x'.repeat(2000)))
      await fc.assert(
        fc.asyncProperty(fc.boolean(), id, bound, async (ownTenant, other, max) => {
          const target = ownTenant ? { tenantId: ids.tenantId, streamId: other } : { tenantId: other, streamId: ids.streamId }
          const m = max as number | undefined
          const got = await answers('readLatest', () => read(target.tenantId, target.streamId, m))
          const snap = await settles('getSnapshot', () => store().getSnapshot(target.tenantId, target.streamId, m))
          if (snap._tag === 'Left') {
            expect(got.length, 'a failed read yields one Left').toBe(1)
            expect(got[0]?._tag === 'Left' && got[0].left._tag).toBe(snap.left._tag)
            return
          }
          const items = got.map((r) => right(r as E.Either<{ readonly _tag: string }, Latest>))
          const found = O.toUndefined(snap.right)
          const range = found === undefined ? { maxRevision: m } : { minRevision: found.streamRevision + 1, maxRevision: m }
          const commits = await collect(store().get(target.tenantId, target.streamId, range as { minRevision?: number; maxRevision?: number }))
          const parts = split(items)
          expect(parts.snapshot).toEqual(found)
          expectCommits(parts.commits, commits)
          const reachesOwn = target.tenantId === ids.tenantId && target.streamId === ids.streamId
          if (!reachesOwn) expect(items, 'another stream answered nothing').toEqual([])
        }),
        { numRuns: 60 },
      )
    }, 120_000)

    it('SEMANTICS 9: a snapshot at the head answers the snapshot alone; a stream without commits or snapshots answers nothing', async (ctx) => {
      const read = readLatestOf(store(), ctx)
      const ids = freshIds()
      const commits = await writeStream(store(), ids, 3)
      const head = commits[2]?.streamRevision ?? 0
      right(await store().addSnapshot(snapshot(ids, head)))
      expect(await collect(read(ids.tenantId, ids.streamId))).toEqual([{ _tag: 'Snapshot', snapshot: snapshot(ids, head) }])
      const unknown = freshIds()
      expect(await collect(read(unknown.tenantId, unknown.streamId))).toEqual([])
      expect(await collect(read(unknown.tenantId, unknown.streamId, 4))).toEqual([])
    })

    it('SEMANTICS 5, 9, 15: a NaN bound is an InvalidArgument; ids that cannot be stored find nothing; a read stopped early ends quietly', async (ctx) => {
      const read = readLatestOf(store(), ctx)
      const ids = freshIds()
      await writeStream(store(), ids, 12)
      await failsWith('readLatest(NaN)', () => read(ids.tenantId, ids.streamId, Number.NaN), 'InvalidArgument')
      await failsWith('readLatest("3")', () => read(ids.tenantId, ids.streamId, '3' as unknown as number), 'InvalidArgument')
      for (const bad of ['', 'a\u0000b', '\uD800']) {
        expect(await answers(`readLatest tenant ${JSON.stringify(bad)}`, () => read(bad, ids.streamId))).toEqual([])
        expect(await answers(`readLatest stream ${JSON.stringify(bad)}`, () => read(ids.tenantId, bad))).toEqual([])
      }
      // a reader that stops after a few commits of a stream longer than a page
      let seen = 0
      for await (const r of read(ids.tenantId, ids.streamId)) {
        right(r)
        if (++seen === 3) break
      }
      expect(seen).toBe(3)
      // and the store answers the next read as before
      await expectSame(store(), read, ids, undefined, 'after a read stopped early')
    })

    it('SEMANTICS 5: readLatest sees a commit appended after an earlier read', async (ctx) => {
      const read = readLatestOf(store(), ctx)
      const ids = freshIds()
      const commits = await writeStream(store(), ids, 2)
      right(await store().addSnapshot(snapshot(ids, 1)))
      expect(split(await collect(read(ids.tenantId, ids.streamId))).commits.length).toBe(1)
      right(await store().commit(next(commits[1], ids)))
      await expectSame(store(), read, ids, undefined, 'after another append')
    })
  })

  describe(`${harness.name}: one-statement load after close()`, () => {
    it('SEMANTICS 15: readLatest on a closed store answers one StorageError', async (ctx) => {
      const store = await harness.create()
      try {
        const read = readLatestOf(store, ctx)
        await writeStream(store, freshIds(), 1)
        await store.close()
        await failsWith('readLatest after close', () => read('t', 's'), 'StorageError')
      } finally {
        if (harness.reopen !== undefined) await harness.dispose(await harness.reopen(store))
        else await harness.dispose(store).catch(() => undefined)
      }
    })
  })
}
