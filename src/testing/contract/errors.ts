import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import {
  isEventStoreError,
  matchError,
  type CommitAttempt,
  type CommitError,
  type Persistence,
  type Reads,
  type Snapshot,
} from '../../eventstore/index.js'
import type { StoreHarness } from './harness.js'
import { attempt, expectLog, freshIds, left, logFor, next, right, sharedStore, snapshot, withFreshStore, writeStream } from './fixtures.js'

/** Runs a read to its end and says how it ended: `values`, or the tag of its Left; a throw or a rejection fails the test. */
const drain = async <A>(reads: () => Reads<A>): Promise<string> => {
  for await (const r of reads()) {
    if (E.isLeft(r)) return r.left._tag
  }
  return 'values'
}

const describeError = matchError<CommitError, string>({
  DuplicateCommit: (e) => `duplicate ${e.commitId}`,
  ConcurrencyConflict: (e) => `conflict, missed ${e.missed.length}`,
  InvalidAttempt: (e) => `invalid: ${e.reason}`,
  StorageError: (e) => `storage: ${e.message}`,
  HookRejected: (e) => `refused by ${e.hook}: ${e.reason}`,
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
      // the log of the stream's commits: the store's own, or its feed shard's
      const l = logFor(harness, s, ids)
      // a bound that means nothing (NaN, an Invalid Date) is an InvalidArgument; every other read succeeds
      const reads: ReadonlyArray<readonly [() => Reads<unknown>, string]> = [
        [() => s.get('', ''), 'values'],
        [() => s.get(ids.tenantId, ids.streamId, { minRevision: Number.NaN, maxRevision: Number.POSITIVE_INFINITY }), 'InvalidArgument'],
        [() => s.get(ids.tenantId, ids.streamId, { minRevision: Number.MAX_SAFE_INTEGER }), 'values'],
        [() => s.getTo(ids.tenantId, ids.streamId, new Date(Number.NaN)), 'InvalidArgument'],
        [() => s.getAllTo(ids.tenantId, new Date(8.64e15)), 'values'],
        [() => l.getFrom(Number.NaN), 'InvalidArgument'],
        [() => l.getFrom(Number.MAX_SAFE_INTEGER, ids.tenantId), 'values'],
        [() => l.getFromTo(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, ids.tenantId), 'values'],
        [() => s.streamsToSnapshot(ids.tenantId, Number.NaN), 'InvalidArgument'],
      ]
      for (const [i, [read, expected]] of reads.entries()) {
        const ended = await drain(read).catch((cause: unknown) => expect.fail(`read ${i} threw ${String(cause)}`))
        expect(ended, `read ${i}`).toBe(expected)
      }
      const snap = await s.getSnapshot(ids.tenantId, ids.streamId, Number.NaN).catch((cause: unknown) =>
        expect.fail(`getSnapshot threw ${String(cause)}`),
      )
      left(snap, 'InvalidArgument')
    })

    it('SEMANTICS 15: commit(null), commit(undefined) and other non-attempts from untyped callers are InvalidAttempts, never exceptions, and store nothing', async () => {
      await withFreshStore(harness, async (fresh) => {
        const values: ReadonlyArray<readonly [string, unknown]> = [
          ['null', null],
          ['undefined', undefined],
          ['a number', 42],
          ['a string', 'commit'],
          ['a boolean', true],
          ['a function', () => attempt({ ...freshIds(), commitSequence: 1 })],
          ['an array', [attempt({ ...freshIds(), commitSequence: 1 })]],
          ['an empty object', {}],
          ['a Map', new Map([['tenantId', 't']])],
        ]
        for (const [what, value] of values) {
          const result = await fresh.commit(value as CommitAttempt).catch((cause: unknown) => expect.fail(`commit(${what}) threw ${String(cause)}`))
          left(result, 'InvalidAttempt')
        }
        await expectLog(harness, fresh, (r) => r.getFrom(0), [])
      })
    })

    it('SEMANTICS 15: half-built attempts from untyped callers are InvalidAttempts, never exceptions, and store nothing', async () => {
      const ids = freshIds()
      const good = attempt({ ...ids, commitSequence: 1 })
      const body = good.events[0]?.body
      const halfBuilt: ReadonlyArray<readonly [string, unknown]> = [
        ['ids only', { ...ids }],
        ['no commit id', { ...good, commitId: undefined }],
        ['no events', { ...good, events: undefined }],
        ['events as an object', { ...good, events: { 0: good.events[0] } }],
        ['a null event', { ...good, events: [null] }],
        ['an event that is a string', { ...good, events: ['Deposited'] }],
        ['an event without a body', { ...good, events: [{ headers: {} }] }],
        ['an event with a null body', { ...good, events: [{ body: null, headers: {} }] }],
        ['an event with a string body', { ...good, events: [{ body: 'Deposited', headers: {} }] }],
        ['an event with an array body', { ...good, events: [{ body: [body], headers: {} }] }],
        ['a body whose type is a number', { ...good, events: [{ body: { ...body, type: 7 }, headers: {} }] }],
        ['event headers that are a number', { ...good, events: [{ body, headers: 42 }] }],
        ['event headers that are an array', { ...good, events: [{ body, headers: [1] }] }],
        ['headers that are a string', { ...good, headers: 'h' }],
        ['headers that are an array', { ...good, headers: [] }],
        ['a sequence that is a string', { ...good, commitSequence: '1' }],
        ['a revision that is a string', { ...good, streamRevision: '1' }],
        ['a sequence that is Infinity', { ...good, commitSequence: Number.POSITIVE_INFINITY }],
        ['a stamp that is a string', { ...good, commitStamp: '2026-01-15T10:30:00.000Z' }],
        ['a stamp that is a number', { ...good, commitStamp: 0 }],
      ]
      for (const [what, value] of halfBuilt) {
        const result = await store().commit(value as CommitAttempt).catch((cause: unknown) => expect.fail(`${what}: commit threw ${String(cause)}`))
        left(result, 'InvalidAttempt')
      }
      await expectLog(harness, store(), (r) => r.getFrom(0, ids.tenantId), [])
      // and the stream still starts with the attempt that was whole
      right(await store().commit(good))
    })

    it('SEMANTICS 15: addSnapshot(null), addSnapshot(undefined), non-snapshots and half-built snapshots are InvalidAttempts, never exceptions, and store nothing', async () => {
      const ids = freshIds()
      await writeStream(store(), ids, 2)
      const good = snapshot(ids, 2)
      const values: ReadonlyArray<readonly [string, unknown]> = [
        ['null', null],
        ['undefined', undefined],
        ['a number', 42],
        ['a string', 'snapshot'],
        ['an array', [good]],
        ['an empty object', {}],
        ['ids only', { ...ids }],
        ['no payload', { ...good, payload: undefined }],
        ['no revision', { ...good, streamRevision: undefined }],
        ['no sequence', { ...good, commitSequence: undefined }],
        ['headers that are a string', { ...good, headers: 'h' }],
      ]
      for (const [what, value] of values) {
        const result = await store().addSnapshot(value as Snapshot).catch((cause: unknown) => expect.fail(`addSnapshot(${what}) threw ${String(cause)}`))
        left(result, 'InvalidAttempt')
      }
      expect(right(await store().getSnapshot(ids.tenantId, ids.streamId))).toEqual(O.none)
      right(await store().addSnapshot(good))
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
            expect(await drain(() => read)).toBe('StorageError')
          }
        } finally {
          await store.close()
        }
      })
    })
  }
}
