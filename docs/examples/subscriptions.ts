import * as E from 'fp-ts/lib/Either.js'
import type { Commit } from 'aett/eventstore'
import { memoryStore } from 'aett/memory'
import { listParked, replayParked, resetSubscription, subscribe, type DecodedCommit } from 'aett/subscriptions'
import { accountTopics, Withdrawn, type AccountEvent } from './events.js'
import { attemptAfter, deposit, tenantId, timestamp } from './support.js'

// ----- a projection: every account's balance, kept by a subscription -----

const balances = new Map<string, number>()

const project = async (batch: readonly DecodedCommit<AccountEvent>[]) => {
  for (const commit of batch) {
    for (const { event } of commit.events) {
      const delta = event.type === 'Deposited' ? event.amount : event.type === 'Withdrawn' ? -event.amount : 0
      balances.set(commit.streamId, (balances.get(commit.streamId) ?? 0) + delta)
    }
  }
  return E.right(undefined) // a Left (or a throw) is retried, then stops the subscription or parks the commit
}

export async function main() {
  const store = memoryStore()
  await store.initialize()
  const heads = new Map<string, Commit>()
  const write = async (account: string, events: readonly AccountEvent[]) => {
    const written = await store.commit(attemptAfter(heads.get(account), account, events))
    if (E.isRight(written)) heads.set(account, written.right)
  }
  await write('acc-1', [deposit('acc-1', 1, 100)])
  await write('acc-2', [deposit('acc-2', 1, 20)])

  // Two instances of one subscription: one holds the lease and runs, the other waits as a standby.
  const options = {
    name: 'balances',
    store,
    source: { tenantId },
    decode: { topics: accountTopics, onError: 'stop' as const },
    handler: project,
    batchSize: 100,
    pollMs: 50, // commits made in this process wake it at once; others are found by polling
    leaseTtlMs: 2_000,
  }
  const first = subscribe({ ...options, holder: 'worker-1' })
  const second = subscribe({ ...options, holder: 'worker-2' })
  if (E.isLeft(first) || E.isLeft(second)) return { error: 'bad options' }
  await first.right.caughtUp() // every commit made before the call is handled

  // Live: a new commit reaches the handler without waiting for a poll.
  await write('acc-1', [Withdrawn.create({ id: 'acc-1', version: 2, timestamp, amount: 30 })])
  await first.right.caughtUp()
  const live = Object.fromEntries(balances)

  // The holder stops: the standby takes over from the stored checkpoint, nothing is handled twice.
  await first.right.stop()
  await write('acc-2', [deposit('acc-2', 2, 5)])
  await second.right.caughtUp()
  const status = await second.right.status()
  await second.right.stop()

  // A subscription whose handler fails on one account parks that account's commits and goes on with the others.
  const audit: string[] = []
  const auditing = subscribe({
    name: 'audit',
    store,
    onFailure: 'park',
    retry: { attempts: 2, initialDelayMs: 10 },
    handler: async (batch) => {
      if (batch.some((c) => c.streamId === 'acc-2')) return E.left('the audit service refused acc-2')
      audit.push(...batch.map((c) => `${c.streamId}#${c.commitSequence}`))
      return E.right(undefined)
    },
  })
  if (E.isLeft(auditing)) return { error: 'bad options' }
  await auditing.right.caughtUp()
  await auditing.right.stop()
  const parked = await listParked(store, 'audit')

  // Once the cause is fixed, the parked commits are replayed in their stream's order.
  const replayed = await replayParked({
    store,
    name: 'audit',
    handler: async (batch) => {
      audit.push(...batch.map((c) => `${c.streamId}#${c.commitSequence} (replayed)`))
      return E.right(undefined)
    },
  })

  // Rebuild the projection: move its checkpoint back to the beginning (through the lease's fence) and run it again.
  balances.clear()
  const reset = await resetSubscription({ store, name: 'balances', to: 'beginning' })
  const rebuild = subscribe({ ...options, holder: 'worker-3' })
  if (E.isLeft(rebuild)) return { error: 'bad options' }
  await rebuild.right.caughtUp()
  await rebuild.right.stop()

  await store.close()
  return {
    live,
    afterTakeover: E.map((s: { state: string; position: number; lag: { commits: number } }) => ({ state: s.state, position: s.position, lag: s.lag.commits }))(status),
    audit,
    parked: E.map((ps: readonly { checkpointToken: number; streamId: string }[]) => ps.map((p) => `${p.streamId}@${p.checkpointToken}`))(parked),
    replayed: E.map((r: { replayed: readonly number[] }) => r.replayed)(replayed),
    reset: E.isRight(reset),
    rebuilt: Object.fromEntries(balances),
  }
}
