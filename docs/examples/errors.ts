import { randomUUID } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import {
  isEventStoreError,
  matchError,
  type CommitAttempt,
  type CommitError,
  type EventStoreError,
} from '../../src/eventstore/index.js'
import { MemoryStore } from '../../src/memory/index.js'
import { accountTopics } from './events.js'

/** One answer for every error of the event store layer; leaving a case out does not compile. */
export const toHttp = matchError<EventStoreError, { readonly status: number; readonly message: string }>({
  DuplicateCommit: (e) => ({ status: 200, message: `commit ${e.commitId} was already stored` }),
  ConcurrencyConflict: (e) => ({ status: 409, message: `${e.missed.length} newer commit(s) in ${e.streamId}: reload and retry` }),
  InvalidAttempt: (e) => ({ status: 400, message: e.reason }),
  StorageError: (e) => ({ status: 503, message: `storage unavailable during ${e.operation}` }),
  DecodeError: (e) => ({ status: 500, message: `stored ${e.topic} does not decode: ${e.message}` }),
  UnknownTopic: (e) => ({ status: 500, message: `no codec for topic ${e.topic}` }),
  StreamNotFound: (e) => ({ status: 404, message: `no stream ${e.streamId}` }),
  PartialStream: (e) => ({ status: 409, message: `stream opened up to revision ${e.maxRevision} cannot commit` }),
})

/** A narrower match: a commit can only fail in four ways, so only four cases are asked for. */
export const shouldRetry = matchError<CommitError, boolean>({
  DuplicateCommit: () => false, // it is stored already: done
  ConcurrencyConflict: () => true, // catch up with `missed`, decide again
  InvalidAttempt: () => false, // a bug in the caller: retrying cannot help
  StorageError: () => true, // perhaps transient; `cause` holds the driver's error
})

const commitTags: ReadonlySet<string> = new Set<CommitError['_tag']>(['DuplicateCommit', 'ConcurrencyConflict', 'InvalidAttempt', 'StorageError'])
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
  const store = new MemoryStore()
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

  return {
    tags: failures.map((f) => f._tag),
    http: failures.map(toHttp),
    retry: failures.filter(isCommitError).map(shouldRetry),
    recognised,
    plainError: isEventStoreError(new Error('boom')),
  }
}
