import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  isEventStoreError,
  matchError,
  type CommitAttempt,
  type CommitError,
  type Persistence,
  type Reads,
} from '../../src/eventstore/index.js'
import type { StoreHarness } from './harness.js'
import { attempt, freshIds, left, next, right, sharedStore, snapshot, writeStream } from './fixtures.js'

/** Runs a read to its end and says how it ended; a throw or a rejection fails the test. */
const drain = async <A>(reads: () => Reads<A>): Promise<'values' | 'failure'> => {
  for await (const r of reads()) {
    if (E.isLeft(r)) {
      expect(r.left._tag).toBe('StorageError')
      return 'failure'
    }
  }
  return 'values'
}

const describeError = matchError<CommitError, string>({
  DuplicateCommit: (e) => `duplicate ${e.commitId}`,
  ConcurrencyConflict: (e) => `conflict, missed ${e.missed.length}`,
  InvalidAttempt: (e) => `invalid: ${e.reason}`,
  StorageError: (e) => `storage: ${e.message}`,
})

/** Attempts that are wrong in shape rather than in number: the store must answer, not throw. */
const malformed = (ids: { readonly tenantId: string; readonly streamId: string }): ReadonlyArray<readonly [string, CommitAttempt]> => {
  const good = attempt({ ...ids, commitSequence: 1 })
  const cast = (a: unknown) => a as CommitAttempt
  return [
    ['an empty tenant id', { ...good, tenantId: '' }],
    ['an empty stream id', { ...good, streamId: '' }],
    ['an empty commit id', { ...good, commitId: '' }],
    ['a fractional sequence', { ...good, commitSequence: 1.5 }],
    ['a zero sequence', { ...good, commitSequence: 0 }],
    ['a negative revision', { ...good, streamRevision: -1 }],
    ['a NaN revision', { ...good, streamRevision: Number.NaN }],
    ['an invalid stamp', { ...good, commitStamp: new Date(Number.NaN) }],
    ['events that are not an array', cast({ ...good, events: null })],
    ['a body without a type', cast({ ...good, events: [{ body: { amount: 1 }, headers: {} }] })],
    ['a missing stamp', cast({ ...good, commitStamp: undefined })],
  ]
}

/** SEMANTICS 15: failures are typed values. */
export const errorsContract = (harness: StoreHarness): void => {
  describe(`${harness.name}: errors (SEMANTICS 15)`, () => {
    const store = sharedStore(harness)

    it('SEMANTICS 15: every commit failure is a value with its tag, recognised by isEventStoreError and matchError', async () => {
      const ids = freshIds()
      const [c1] = await writeStream(store(), ids, 1)
      const failures = [
        left(await store().commit(attempt({ ...ids, commitSequence: 1, commitId: c1!.commitId })), 'DuplicateCommit'),
        left(await store().commit(attempt({ ...ids, commitSequence: 1 })), 'ConcurrencyConflict'),
        left(await store().commit(attempt({ ...ids, commitSequence: 3, firstRevision: 3 })), 'InvalidAttempt'),
      ]
      for (const f of failures) expect(isEventStoreError(f)).toBe(true)
      expect(failures.map(describeError)).toEqual([
        `duplicate ${c1!.commitId}`,
        'conflict, missed 1',
        expect.stringMatching(/^invalid: .+/),
      ])
    })

    it('SEMANTICS 15: malformed attempts are invalid attempts, never exceptions, and store nothing', async () => {
      const ids = freshIds()
      for (const [what, a] of malformed(ids)) {
        const result = await store().commit(a).catch((cause: unknown) => expect.fail(`${what}: commit threw ${String(cause)}`))
        left(result, 'InvalidAttempt')
      }
      const [only] = await writeStream(store(), ids, 1)
      expect(only?.commitSequence).toBe(1)
    })

    it('SEMANTICS 15: reads never throw, whatever their arguments', async () => {
      const ids = freshIds()
      await writeStream(store(), ids, 2)
      const s: Persistence = store()
      const reads: ReadonlyArray<() => Reads<unknown>> = [
        () => s.get('', ''),
        () => s.get(ids.tenantId, ids.streamId, { minRevision: Number.NaN, maxRevision: Number.POSITIVE_INFINITY }),
        () => s.get(ids.tenantId, ids.streamId, { minRevision: Number.MAX_SAFE_INTEGER }),
        () => s.getTo(ids.tenantId, ids.streamId, new Date(Number.NaN)),
        () => s.getAllTo(ids.tenantId, new Date(8.64e15)),
        () => s.getFrom(Number.NaN),
        () => s.getFrom(Number.MAX_SAFE_INTEGER, ids.tenantId),
        () => s.getFromTo(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, ids.tenantId),
        () => s.streamsToSnapshot(ids.tenantId, Number.NaN),
      ]
      for (const [i, read] of reads.entries()) {
        const ended = await drain(read).catch((cause: unknown) => expect.fail(`read ${i} threw ${String(cause)}`))
        expect(['values', 'failure']).toContain(ended)
      }
      const snap = await s.getSnapshot(ids.tenantId, ids.streamId, Number.NaN).catch((cause: unknown) =>
        expect.fail(`getSnapshot threw ${String(cause)}`),
      )
      expect(E.isRight(snap) || snap.left._tag === 'StorageError').toBe(true)
    })

    it('SEMANTICS 15: a conflict carries what the writer needs to catch up, and the store then accepts the retry', async () => {
      const ids = freshIds()
      const [c1] = await writeStream(store(), ids, 1)
      const conflict = left(await store().commit(attempt({ ...ids, commitSequence: 1 })), 'ConcurrencyConflict')
      const head = conflict.missed[conflict.missed.length - 1]
      expect(head?.commitId).toBe(c1?.commitId)
      right(await store().commit(next(head, ids)))
      right(await store().addSnapshot(snapshot(ids, 2)))
    })
  })

  const failing = harness.failing
  if (failing !== undefined) {
    describe(`${harness.name}: storage failures (SEMANTICS 15)`, () => {
      it('SEMANTICS 15: a store whose database fails answers every call with a StorageError carrying the cause', async () => {
        const store = await failing()
        try {
          const ids = freshIds()
          const answers: ReadonlyArray<E.Either<{ readonly _tag: string }, unknown>> = [
            await store.commit(attempt({ ...ids, commitSequence: 1 })),
            await store.getSnapshot(ids.tenantId, ids.streamId),
            await store.addSnapshot(snapshot(ids, 1)),
            await store.purge(ids.tenantId),
            await store.deleteStream(ids.tenantId, ids.streamId),
          ]
          for (const a of answers) {
            const e = left(a, 'StorageError')
            expect(e.cause).toBeDefined()
            expect(e.operation.length).toBeGreaterThan(0)
          }
          const reads: ReadonlyArray<Reads<unknown>> = [
            store.get(ids.tenantId, ids.streamId),
            store.getFrom(0),
            store.streamsToSnapshot(ids.tenantId, 1),
          ]
          for (const read of reads) {
            expect(await drain(() => read)).toBe('failure')
          }
        } finally {
          await store.close()
        }
      })
    })
  }
}
