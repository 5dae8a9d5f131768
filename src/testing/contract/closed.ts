import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import type { Commit, Persistence, Reads, Snapshot } from '../../eventstore/index.js'
import type { StoreHarness } from './harness.js'
import {
  at,
  attempt,
  collect,
  expectCommits,
  failsWith,
  freshIds,
  left,
  expectLog,
  next,
  right,
  settles,
  snapshot,
  some,
  writeStream,
} from './fixtures.js'

interface Written {
  readonly ids: { readonly tenantId: string; readonly streamId: string }
  readonly commits: readonly Commit[]
  readonly snapshot: Snapshot
}

/**
 * Runs `body` on a store of the harness that holds a stream and a snapshot, and was then closed. With the
 * harness's `reopen`, `after` checks the data through a second store on the same database, which is then
 * disposed of; without it, the closed store is handed to `dispose` (a failure to drop it is ignored).
 */
const withClosedStore = async (
  harness: StoreHarness,
  body: (closed: Persistence, written: Written) => Promise<void>,
  after?: (reopened: Persistence, written: Written) => Promise<void>,
): Promise<void> => {
  const store = await harness.create()
  let written: Written | undefined
  let failure: { readonly cause: unknown } | undefined
  try {
    const ids = freshIds()
    const commits = await writeStream(store, ids, 2)
    const snap = snapshot(ids, 2)
    right(await store.addSnapshot(snap))
    written = { ids, commits, snapshot: snap }
    await store.close()
    await body(store, written)
  } catch (cause) {
    failure = { cause }
  }
  await cleanUp(harness, store, failure === undefined && written !== undefined && after !== undefined ? (r) => after(r, written as Written) : undefined)
  if (failure !== undefined) throw failure.cause
}

/**
 * Disposes of a store that was closed (or failed before it was): through a second store on the same database
 * when the harness can open one (checked by `after` first), else by handing the closed store to `dispose`.
 */
const cleanUp = async (harness: StoreHarness, store: Persistence, after?: (reopened: Persistence) => Promise<void>): Promise<void> => {
  await store.close()
  if (harness.reopen === undefined) {
    await harness.dispose(store).catch(() => undefined)
    return
  }
  const reopened = await harness.reopen(store)
  try {
    await after?.(reopened)
  } finally {
    await harness.dispose(reopened)
  }
}

/** Every call of the port after `close()`: writes and management calls answer, reads yield. */
const callsAfterClose = (store: Persistence, { ids, commits }: Written) => {
  const head = commits[commits.length - 1]
  const other = freshIds()
  return {
    answers: [
      ['commit (next on the stream)', () => store.commit(next(head, ids))],
      ['commit (a new stream)', () => store.commit(attempt({ ...other, commitSequence: 1 }))],
      ['addSnapshot', () => store.addSnapshot(snapshot(ids, 1, { balance: 'after close' }))],
      ['addSnapshot (a new stream)', () => store.addSnapshot(snapshot(other, 1))],
      ['getSnapshot', () => store.getSnapshot(ids.tenantId, ids.streamId)],
      ['getSnapshot (with a bound)', () => store.getSnapshot(ids.tenantId, ids.streamId, 2)],
      ['initialize', () => store.initialize()],
      ['deleteStream', () => store.deleteStream(ids.tenantId, ids.streamId)],
      ['purge (a tenant)', () => store.purge(ids.tenantId)],
      ['purge (every tenant)', () => store.purge()],
      ['drop', () => store.drop()],
    ] as ReadonlyArray<readonly [string, () => Promise<E.Either<{ readonly _tag: string }, unknown>>]>,
    reads: [
      ['get', () => store.get(ids.tenantId, ids.streamId)],
      ['get (with bounds)', () => store.get(ids.tenantId, ids.streamId, { minRevision: 1, maxRevision: 2 })],
      ['getTo', () => store.getTo(ids.tenantId, ids.streamId, at(1_000_000))],
      ['getAllTo', () => store.getAllTo(ids.tenantId, at(1_000_000))],
      ['getFrom', () => store.getFrom(0)],
      ['getFrom (a tenant)', () => store.getFrom(0, ids.tenantId)],
      ['getFromTo', () => store.getFromTo(0, Number.MAX_SAFE_INTEGER)],
      ['getFromTo (a tenant)', () => store.getFromTo(0, Number.MAX_SAFE_INTEGER, ids.tenantId)],
      ['streamsToSnapshot', () => store.streamsToSnapshot(ids.tenantId, 0)],
    ] as ReadonlyArray<readonly [string, () => Reads<unknown>]>,
  }
}

/** SEMANTICS 15 after `close()`: every call answers a StorageError, and nothing is stored or deleted. */
export const closedContract = (harness: StoreHarness): void => {
  describe(`${harness.name}: a closed store (SEMANTICS 15)`, () => {
    it('SEMANTICS 15: after close(), commit, addSnapshot, getSnapshot, initialize, deleteStream, purge and drop answer a StorageError', async () => {
      await withClosedStore(
        harness,
        async (store, written) => {
          for (const [what, call] of callsAfterClose(store, written).answers) {
            const e = left(await settles(what, call), 'StorageError')
            expect(e.operation.length, what).toBeGreaterThan(0)
          }
        },
        // and a second store on the same database finds everything as it was before close(), and nothing more
        async (reopened, { ids, commits, snapshot: snap }) => {
          expectCommits(await collect(reopened.get(ids.tenantId, ids.streamId)), commits)
          await expectLog(harness, reopened, (r) => r.getFrom(0), commits)
          expect(some(right(await reopened.getSnapshot(ids.tenantId, ids.streamId)))).toEqual(snap)
          expect(await collect(reopened.streamsToSnapshot(ids.tenantId, 0))).toEqual([{ ...ids, headRevision: 2, snapshotRevision: 2 }])
          // and it works: the stream continues where it was
          right(await reopened.commit(next(commits[commits.length - 1], ids)))
        },
      )
    })

    it('SEMANTICS 15: after close(), every read (get, getTo, getAllTo, getFrom, getFromTo, streamsToSnapshot) yields one StorageError and nothing else', async () => {
      await withClosedStore(harness, async (store, written) => {
        for (const [what, read] of callsAfterClose(store, written).reads) {
          const e = await failsWith(what, read, 'StorageError')
          expect(e.operation.length, what).toBeGreaterThan(0)
        }
      })
    })

    it('SEMANTICS 15: close() again is fine, and the store still answers every call with a StorageError', async () => {
      await withClosedStore(harness, async (store, written) => {
        await settles('close() again', () => store.close())
        await settles('close() a third time', () => store.close())
        const { answers, reads } = callsAfterClose(store, written)
        for (const [what, call] of answers) left(await settles(what, call), 'StorageError')
        for (const [what, read] of reads) await failsWith(what, read, 'StorageError')
      })
    })

    it('SEMANTICS 15: a store closed before anything was written answers with a StorageError and stores nothing', async () => {
      // given a store that is closed as soon as it was created
      const store = await harness.create()
      const ids = freshIds()
      let failure: { readonly cause: unknown } | undefined
      try {
        await store.close()
        left(await settles('commit', () => store.commit(attempt({ ...ids, commitSequence: 1 }))), 'StorageError')
        left(await settles('addSnapshot', () => store.addSnapshot(snapshot(ids, 1))), 'StorageError')
        left(await settles('getSnapshot', () => store.getSnapshot(ids.tenantId, ids.streamId)), 'StorageError')
        left(await settles('initialize', () => store.initialize()), 'StorageError')
        await failsWith('getFrom', () => store.getFrom(0), 'StorageError')
        await failsWith('get', () => store.get(ids.tenantId, ids.streamId), 'StorageError')
      } catch (cause) {
        failure = { cause }
      }
      // and a second store on the same database finds nothing of it
      await cleanUp(harness, store, failure === undefined ? async (reopened) => {
        await expectLog(harness, reopened, (r) => r.getFrom(0), [])
        expect(right(await reopened.getSnapshot(ids.tenantId, ids.streamId))).toEqual(O.none)
      } : undefined)
      if (failure !== undefined) throw failure.cause
    })
  })
}
