import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { StoreHarness } from './harness.js'
import {
  attempt,
  collect,
  commitAll,
  expectCommits,
  freshIds,
  left,
  next,
  right,
  sharedStore,
  stored,
  writeStream,
} from './fixtures.js'

/** SEMANTICS 1-4: revisions, sequences, how an attempt must continue the head, and precedence. */
export const numbersContract = (harness: StoreHarness): void => {
  describe(`${harness.name}: numbers (SEMANTICS 1-4)`, () => {
    const store = sharedStore(harness)

    it('SEMANTICS 1: a commit\'s streamRevision is the revision of its last event', async () => {
      // given a stream of a three-event commit and a two-event commit
      const ids = freshIds()
      const [c1, c2] = await writeStream(store(), ids, 2, (i) => (i === 0 ? 3 : 2))
      // then the revisions count events, and the second commit starts right after the first
      expect(c1?.streamRevision).toBe(3)
      expect(c2?.streamRevision).toBe(5)
      // when reading from revision 4 (the first event of the second commit)
      const read = await collect(store().get(ids.tenantId, ids.streamId, { minRevision: 4 }))
      expect(read.map((c) => c.commitId)).toEqual([c2?.commitId])
    })

    it('SEMANTICS 1: a revision that does not match the event count is an invalid attempt', async () => {
      const ids = freshIds()
      // when a first commit says revision 1 but carries two events (its first event would be revision 0)
      const tooSmall = { ...attempt({ ...ids, commitSequence: 1, events: 2 }), streamRevision: 1 }
      left(await store().commit(tooSmall), 'InvalidAttempt')
      // and when a first commit says revision 3 for two events (its first event would be revision 2)
      const tooLarge = { ...attempt({ ...ids, commitSequence: 1, events: 2 }), streamRevision: 3 }
      left(await store().commit(tooLarge), 'InvalidAttempt')
      // then nothing was stored
      expect(await collect(store().get(ids.tenantId, ids.streamId))).toEqual([])
    })

    it('SEMANTICS 2: commitSequence is 1 for the first commit and grows by exactly 1', async () => {
      const ids = freshIds()
      const commits = await writeStream(store(), ids, 5, 2)
      expect(commits.map((c) => c.commitSequence)).toEqual([1, 2, 3, 4, 5])
      expect(commits.map((c) => c.streamRevision)).toEqual([2, 4, 6, 8, 10])
      const read = await collect(store().get(ids.tenantId, ids.streamId))
      expect(read.map((c) => c.commitSequence)).toEqual([1, 2, 3, 4, 5])
    })

    it('SEMANTICS 2: a first commit with a sequence other than 1 is an invalid attempt', async () => {
      const ids = freshIds()
      left(await store().commit(attempt({ ...ids, commitSequence: 2, firstRevision: 1 })), 'InvalidAttempt')
      expect(await collect(store().get(ids.tenantId, ids.streamId))).toEqual([])
    })

    it('SEMANTICS 3: an attempt behind the head is a concurrency conflict carrying the missed commits', async () => {
      // given two writers that both saw a stream at its first commit
      const ids = freshIds()
      const [c1] = await writeStream(store(), ids, 1, 2)
      // when the first writer appends two commits
      const [c2] = await commitAll(store(), [next(c1, ids, { events: 2 })])
      const [c3] = await commitAll(store(), [next(c2, ids)])
      // and the second writer appends after what it saw
      const stale = next(c1, ids, { events: 3 })
      const conflict = left(await store().commit(stale), 'ConcurrencyConflict')
      // then it is told about exactly the two commits it missed
      expect(conflict.tenantId).toBe(ids.tenantId)
      expect(conflict.streamId).toBe(ids.streamId)
      expect(conflict.attemptedSequence).toBe(2)
      expect(conflict.attemptedRevision).toBe(stale.streamRevision)
      expectCommits(conflict.missed, [c2!, c3!])
      // and nothing of its attempt was stored
      expectCommits(await collect(store().get(ids.tenantId, ids.streamId)), [c1!, c2!, c3!])
    })

    it('SEMANTICS 3: a writer that saw an empty stream misses every commit', async () => {
      const ids = freshIds()
      const written = await writeStream(store(), ids, 3)
      const conflict = left(await store().commit(next(undefined, ids)), 'ConcurrencyConflict')
      expectCommits(conflict.missed, written)
    })

    it('SEMANTICS 3: a collision on the revision alone is a concurrency conflict', async () => {
      // given a head at sequence 1, revision 3
      const ids = freshIds()
      const [c1] = await writeStream(store(), ids, 1, 3)
      // when an attempt has the right next sequence but starts at revision 3
      const a = attempt({ ...ids, commitSequence: 2, firstRevision: 3 })
      const conflict = left(await store().commit(a), 'ConcurrencyConflict')
      // then the commit holding revision 3 is what it missed
      expectCommits(conflict.missed, [c1!])
      expect(await collect(store().get(ids.tenantId, ids.streamId))).toHaveLength(1)
    })

    it('SEMANTICS 3: a collision on the sequence alone is a concurrency conflict', async () => {
      // given a head at sequence 2, revision 2
      const ids = freshIds()
      await writeStream(store(), ids, 2)
      // when an attempt has the right next revision but sequence 2
      const a = attempt({ ...ids, commitSequence: 2, firstRevision: 3 })
      const conflict = left(await store().commit(a), 'ConcurrencyConflict')
      expect(conflict.attemptedSequence).toBe(2)
      expect(await collect(store().get(ids.tenantId, ids.streamId))).toHaveLength(2)
    })

    it('SEMANTICS 3: a gap in the sequence is an invalid attempt and stores nothing', async () => {
      const ids = freshIds()
      const [c1] = await writeStream(store(), ids, 1)
      left(await store().commit(attempt({ ...ids, commitSequence: 3, firstRevision: 3 })), 'InvalidAttempt')
      expectCommits(await collect(store().get(ids.tenantId, ids.streamId)), [c1!])
    })

    it('SEMANTICS 3: a gap in the revision is an invalid attempt and stores nothing', async () => {
      const ids = freshIds()
      const [c1] = await writeStream(store(), ids, 1)
      left(await store().commit(attempt({ ...ids, commitSequence: 2, firstRevision: 4, events: 2 })), 'InvalidAttempt')
      expectCommits(await collect(store().get(ids.tenantId, ids.streamId)), [c1!])
      // and the stream still accepts the right next commit
      right(await store().commit(next(c1, ids)))
    })

    it('SEMANTICS 3: an attempt with no events is an invalid attempt', async () => {
      const ids = freshIds()
      const empty = { ...attempt({ ...ids, commitSequence: 1 }), events: [], streamRevision: 1 }
      const e = left(await store().commit(empty), 'InvalidAttempt')
      expect(e.reason.length).toBeGreaterThan(0)
      expect(await collect(store().get(ids.tenantId, ids.streamId))).toEqual([])
    })

    it('SEMANTICS 4: the same commit id at a stale sequence is a duplicate commit, not a conflict', async () => {
      // given a stream of three commits
      const ids = freshIds()
      const [c1, c2, c3] = await writeStream(store(), ids, 3)
      // when the second commit is sent again (a retry after a lost answer)
      const again = attempt({ ...ids, commitSequence: 2, commitId: c2!.commitId })
      const e = left(await store().commit(again), 'DuplicateCommit')
      // then the answer names it, and nothing is written twice
      expect(e).toMatchObject({ tenantId: ids.tenantId, streamId: ids.streamId, commitId: c2!.commitId })
      expectCommits(await collect(store().get(ids.tenantId, ids.streamId)), [c1!, c2!, c3!])
    })

    it('SEMANTICS 4: a reused commit id is a duplicate whatever its sequence (next or beyond the head)', async () => {
      const ids = freshIds()
      const [c1] = await writeStream(store(), ids, 1)
      left(await store().commit(attempt({ ...ids, commitSequence: 2, commitId: c1!.commitId })), 'DuplicateCommit')
      left(await store().commit(attempt({ ...ids, commitSequence: 7, commitId: c1!.commitId })), 'DuplicateCommit')
      expectCommits(await collect(store().get(ids.tenantId, ids.streamId)), [c1!])
    })

    it('SEMANTICS 4: a new commit id at a stale sequence is a concurrency conflict with the exact missed commits', async () => {
      const ids = freshIds()
      const [c1, c2] = await writeStream(store(), ids, 2)
      const conflict = left(await store().commit(attempt({ ...ids, commitSequence: 2 })), 'ConcurrencyConflict')
      expectCommits(conflict.missed, [c2!])
      expectCommits(await collect(store().get(ids.tenantId, ids.streamId)), [c1!, c2!])
    })

    it('SEMANTICS 4: commit ids are unique per stream: the same id in another stream is a new commit', async () => {
      const a = freshIds()
      const b = { tenantId: a.tenantId, streamId: `${a.streamId}-other` }
      const commitId = randomUUID()
      const ca = right(await store().commit(attempt({ ...a, commitSequence: 1, commitId })))
      const cb = right(await store().commit(attempt({ ...b, commitSequence: 1, commitId })))
      expectCommits(await collect(store().get(b.tenantId, b.streamId)), [cb])
      expectCommits(await collect(store().get(a.tenantId, a.streamId)), [ca])
    })

    it('SEMANTICS 1: what the store returns from commit is what it stores', async () => {
      const ids = freshIds()
      const a = attempt({ ...ids, commitSequence: 1, events: 3 })
      const c = right(await store().commit(a))
      expectCommits([c], [stored(a, c.checkpointToken)])
      expectCommits(await collect(store().get(ids.tenantId, ids.streamId)), [c])
    })
  })
}
