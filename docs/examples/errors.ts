import { randomUUID } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import {
  isEventStoreError,
  matchError,
  type CommitAttempt,
  type CommitError,
  type EventStoreError,
} from 'aett/eventstore'
import { deciderRepository, type HandleError } from 'aett/domain'
import { memoryStore } from 'aett/memory'
import { account, type AccountRefusal } from './deciders.js'
import { accountTopics } from './events.js'

/** One answer for every error of the event store layer; leaving a case out does not compile. */
export const toHttp = matchError<EventStoreError, { readonly status: number; readonly message: string }>({
  DuplicateCommit: (e) => ({ status: 200, message: `commit ${e.commitId} was already stored` }),
  ConcurrencyConflict: (e) => ({ status: 409, message: `${e.missed.length} newer commit(s) in ${e.streamId}: reload and retry` }),
  InvalidAttempt: (e) => ({ status: 400, message: e.reason }),
  StorageError: (e) => ({ status: 503, message: `storage unavailable during ${e.operation}` }),
  HookRejected: (e) => ({ status: 422, message: `refused by ${e.hook}: ${e.reason}` }),
  DecodeError: (e) => ({ status: 500, message: `stored ${e.topic} does not decode: ${e.message}` }),
  UnknownTopic: (e) => ({ status: 500, message: `no codec for topic ${e.topic}` }),
  StreamNotFound: (e) => ({ status: 404, message: `no stream ${e.streamId}` }),
  PartialStream: (e) => ({ status: 409, message: `stream opened up to revision ${e.maxRevision} cannot commit` }),
  InvalidArgument: (e) => ({ status: 400, message: e.message }),
})

/** A narrower match: a commit can only fail in five ways, so only five cases are asked for. */
export const shouldRetry = matchError<CommitError, boolean>({
  DuplicateCommit: () => false, // it is stored already: done
  ConcurrencyConflict: () => true, // catch up with `missed`, decide again
  InvalidAttempt: () => false, // a bug in the caller: retrying cannot help
  StorageError: () => true, // perhaps transient; `cause` holds the driver's error
  HookRejected: () => false, // a pre-commit hook (`withHooks`) refused it: retrying as it is cannot help
})

/** The domain layer adds its own tags on top of the event store's; those are answered by `toHttp` above. */
const domainToHttp = matchError<Exclude<HandleError<AccountRefusal>, EventStoreError>, { readonly status: number; readonly message: string }>({
  Rejected: (e) => ({ status: 422, message: `refused: ${e.error._tag}` }),
  WrongExpectedVersion: (e) => ({ status: 412, message: `${e.streamId} is at revision ${e.actual}, not ${e.expected}` }),
  ConflictDetected: (e) => ({ status: 409, message: `a concurrent change to ${e.streamId} conflicts: reload and decide again` }),
  RetriesExhausted: (e) => ({ status: 409, message: `${e.attempts} attempts on ${e.streamId} met concurrent writers` }),
})
export const commandToHttp = (e: HandleError<AccountRefusal>) => (isEventStoreError(e) ? toHttp(e) : domainToHttp(e))

const commitTags: ReadonlySet<string> = new Set<CommitError['_tag']>(['DuplicateCommit', 'ConcurrencyConflict', 'InvalidAttempt', 'StorageError', 'HookRejected'])
const isCommitError = (e: EventStoreError): e is CommitError => commitTags.has(e._tag)

const attempt = (commitSequence: number, streamRevision: number, commitId = randomUUID()): CommitAttempt => ({
  tenantId: 'bank-eu',
  streamId: 'acc-1',
  commitId,
  commitSequence,
  streamRevision,
  commitStamp: new Date('2026-03-01T09:00:00.000Z'),
  headers: {},
  events: [{ body: { type: 'Deposited', id: 'acc-1', version: streamRevision, timestamp: '2026-03-01T09:00:00.000Z', amount: 10 }, headers: {} }],
})

export async function main() {
  const store = memoryStore()
  const first = attempt(1, 1)
  await store.commit(first)

  // Every failure comes back as a Left with a `_tag`; nothing here throws.
  const failures: EventStoreError[] = []
  for (const a of [first, attempt(1, 1), attempt(5, 5)]) {
    const r = await store.commit(a)
    if (E.isLeft(r)) failures.push(r.left)
  }
  const decoded = accountTopics.decode({ type: 'Deposited', id: 'acc-1', version: 1, timestamp: 'soon', amount: 10 })
  if (E.isLeft(decoded)) failures.push(decoded.left)

  // Code that receives `unknown` (a rejected promise, a message from a queue) can still recognise them.
  const caught: unknown = failures[0]
  const recognised = isEventStoreError(caught) ? caught._tag : 'not ours'

  // A command handler's failures: its own tags, and the event store's.
  const accounts = deciderRepository({ decider: account, topics: accountTopics, store })
  const at = new Date('2026-03-01T09:00:00.000Z')
  const handled = [
    await accounts.handle('acc-2', { kind: 'withdraw', amount: 5, at })(), // the account is not open: Rejected
    await accounts.handle('acc-2', { kind: 'open', accountId: 'acc-2', owner: 'Ada', at }, { expectedVersion: 3 })(), // it is at 0
  ]

  return {
    tags: failures.map((f) => f._tag),
    commands: handled.flatMap((h) => (E.isLeft(h) ? [commandToHttp(h.left)] : [])),
    http: failures.map(toHttp),
    retry: failures.filter(isCommitError).map(shouldRetry),
    recognised,
    plainError: isEventStoreError(new Error('boom')),
  }
}
