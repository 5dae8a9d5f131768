import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { toArray, type Commit, type Persistence } from 'aett/eventstore'
import { memoryStore } from 'aett/memory'
import { accountTopics, Withdrawn } from './events.js'
import { attemptAfter, deposit, tenantId, timestamp } from './support.js'

/** A projection: every account's balance, built from the global log after a checkpoint. */
const balances = async (store: Persistence, checkpoint: number) => {
  const totals = new Map<string, number>()
  let last = checkpoint
  for await (const read of store.getFrom(checkpoint, tenantId)) {
    if (E.isLeft(read)) return read // a failed read is a value too
    for (const message of read.right.events) {
      const event = accountTopics.decode(message.body)
      if (E.isLeft(event)) return event
      const delta = event.right.type === 'Deposited' ? event.right.amount : event.right.type === 'Withdrawn' ? -event.right.amount : 0
      totals.set(read.right.streamId, (totals.get(read.right.streamId) ?? 0) + delta)
    }
    last = read.right.checkpointToken // remember where to resume
  }
  return E.right({ totals: Object.fromEntries(totals), checkpoint: last })
}

export async function main() {
  const store: Persistence = memoryStore()
  await store.initialize()

  // Two writers both see account 1 after its first commit.
  const first = await store.commit(attemptAfter(undefined, 'acc-1', [deposit('acc-1', 1, 100), deposit('acc-1', 2, 50)]))
  if (E.isLeft(first)) return first
  const mine = attemptAfter(first.right, 'acc-1', [Withdrawn.create({ id: 'acc-1', version: 3, timestamp, amount: 30 })])
  const theirs = attemptAfter(first.right, 'acc-1', [deposit('acc-1', 3, 5)])
  await store.commit(theirs)

  // The slower writer gets a conflict carrying what it missed, catches up, and tries again.
  const conflict = await store.commit(mine)
  const missed = E.isLeft(conflict) && conflict.left._tag === 'ConcurrencyConflict' ? conflict.left.missed : []
  const retried = await store.commit(attemptAfter(missed[missed.length - 1], 'acc-1', [Withdrawn.create({ id: 'acc-1', version: 4, timestamp, amount: 30 })]))
  // Sending the same commit again is recognised as a duplicate: nothing is written twice.
  const resent = E.isRight(retried) ? await store.commit(retried.right) : retried

  await store.commit(attemptAfter(undefined, 'acc-2', [deposit('acc-2', 1, 20)]))

  // Reads are async iterables of Either; toArray collects one, stopping at the first failure.
  const stream = await toArray(store.get(tenantId, 'acc-1'))
  const revisions = E.map((commits: Commit[]) => commits.map((c) => [c.commitSequence, c.streamRevision]))(stream)
  const fromRevision4 = E.map((commits: Commit[]) => commits.length)(await toArray(store.get(tenantId, 'acc-1', { minRevision: 4 })))

  // A projection reads the global log from a checkpoint (0: from the start).
  const projection = await balances(store, 0)

  // Snapshots: keep the state at a revision; list streams that have grown since.
  await store.addSnapshot({ tenantId, streamId: 'acc-1', streamRevision: 4, commitSequence: 3, payload: { balance: 125 }, headers: {} })
  const snapshot = await store.getSnapshot(tenantId, 'acc-1')
  const due = await toArray(store.streamsToSnapshot(tenantId, 1))

  await store.close()
  return {
    conflict: E.isLeft(conflict) ? conflict.left._tag : 'committed',
    missed: missed.map((c) => c.commitSequence),
    resent: E.isLeft(resent) ? resent.left._tag : 'committed',
    revisions,
    fromRevision4,
    projection,
    snapshotAt: E.map(O.map((s: { readonly streamRevision: number }) => s.streamRevision))(snapshot),
    due: E.map((heads: { readonly streamId: string }[]) => heads.map((h) => h.streamId))(due),
  }
}
