import { randomUUID } from 'node:crypto'
import type { Commit, CommitAttempt } from 'aett/eventstore'
import { accountTopics, Deposited, type AccountEvent } from './events.js'

/** The bank's tenant: every example stream lives in it. */
export const tenantId = 'bank-eu'

/** When the example events happened (fixed, so results do not depend on the clock). */
export const timestamp = new Date('2026-03-01T09:00:00.000Z')

/** A deposit into account `id`, the account's `version`-th event. */
export const deposit = (id: string, version: number, amount: number) => Deposited.create({ id, version, timestamp, amount })

/** An attempt that continues `head` (or starts the stream) with `events`, encoded for the store. */
export const attemptAfter = (head: Commit | undefined, streamId: string, events: readonly AccountEvent[]): CommitAttempt => ({
  tenantId,
  streamId,
  commitId: randomUUID(), // keep it when retrying: a resend is then a DuplicateCommit, not a second commit
  commitSequence: (head?.commitSequence ?? 0) + 1,
  streamRevision: (head?.streamRevision ?? 0) + events.length,
  commitStamp: new Date(),
  headers: { 'aett.user': 'teller-12' },
  events: events.map((e) => ({ body: accountTopics.encode(e), headers: {} })),
})
