import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { toArray, type Commit } from 'aett/eventstore'
import { sqliteStore } from 'aett/sqlite'
import { attemptAfter, deposit, tenantId } from './support.js'

export async function main(directory = mkdtempSync(join(tmpdir(), 'aett-example-'))) {
  const filename = join(directory, 'bank.db')

  // A store on a file: nothing is opened until the first call. Bad options are answered by that call.
  const store = sqliteStore({ filename })
  // Open the file (created if missing: WAL journal, synchronous FULL unless you choose 'NORMAL') and create the
  // schema, or bring an older file's schema forward; safe to call on every start.
  const ready = await store.initialize()
  if (E.isLeft(ready)) return ready

  const first = await store.commit(attemptAfter(undefined, 'acc-1', [deposit('acc-1', 1, 100)]))
  if (E.isLeft(first)) return first

  // A second connection to the same file (another process would do the same) writes first...
  const other = sqliteStore({ filename })
  await other.commit(attemptAfter(first.right, 'acc-1', [deposit('acc-1', 2, 5)]))
  await other.close()

  // ...so this writer gets a conflict with what it missed, and retries after it.
  const conflict = await store.commit(attemptAfter(first.right, 'acc-1', [deposit('acc-1', 2, 50)]))
  const missed = E.isLeft(conflict) && conflict.left._tag === 'ConcurrencyConflict' ? conflict.left.missed : []
  const retried = await store.commit(attemptAfter(missed[missed.length - 1], 'acc-1', [deposit('acc-1', 3, 50)]))
  await store.addSnapshot({ tenantId, streamId: 'acc-1', streamRevision: 3, commitSequence: 3, payload: { balance: 155 }, headers: {} })
  await store.close()

  // Reopen the file: everything is still there, and the global log resumes from a checkpoint.
  const again = sqliteStore({ filename })
  await again.initialize() // a no-op: the file is at the current schema version
  const revisions = E.map((cs: Commit[]) => cs.map((c) => c.streamRevision))(await toArray(again.get(tenantId, 'acc-1')))
  const afterFirst = E.map((cs: Commit[]) => cs.map((c) => c.checkpointToken))(await toArray(again.getFrom(first.right.checkpointToken)))
  const snapshot = E.map(O.map((s: { readonly streamRevision: number }) => s.streamRevision))(await again.getSnapshot(tenantId, 'acc-1'))
  await again.close()
  rmSync(directory, { recursive: true, force: true })

  return E.right({
    conflict: E.isLeft(conflict) ? conflict.left._tag : 'none',
    missed: missed.map((c) => c.streamRevision),
    retried: E.isRight(retried) ? retried.right.streamRevision : 'failed',
    revisions,
    afterFirst,
    snapshot,
  })
}
