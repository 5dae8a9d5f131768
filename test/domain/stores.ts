import * as E from 'fp-ts/lib/Either.js'
import type { CommitAttempt, Latest, Persistence, Reads, RevisionRange, Commit } from '../../src/eventstore/index.js'
import { memoryStore } from '../../src/memory/index.js'

/**
 * A memory store that counts the events its stream reads (`get`, and the one-statement load `readLatest`) hand
 * out (a decorator: the store is not a class).
 */
export class CountingStore {
  eventsRead = 0

  constructor() {
    const store: Persistence = memoryStore()
    const get = store.get
    const readLatest = store.readLatest
    if (readLatest === undefined) throw new Error('the memory store offers readLatest')
    const self: Persistence & { eventsRead: number } = Object.assign(store, {
      eventsRead: 0,
      get: (tenantId: string, streamId: string, range?: RevisionRange): Reads<Commit> => {
        const inner = get(tenantId, streamId, range)
        return (async function* () {
          for await (const r of inner) {
            if (E.isRight(r)) self.eventsRead += r.right.events.length
            yield r
          }
        })()
      },
      readLatest: (tenantId: string, streamId: string, maxRevision?: number): Reads<Latest> => {
        const inner = readLatest(tenantId, streamId, maxRevision)
        return (async function* () {
          for await (const r of inner) {
            if (E.isRight(r) && r.right._tag === 'Commit') self.eventsRead += r.right.commit.events.length
            yield r
          }
        })()
      },
    })
    return self
  }
}
export interface CountingStore extends Persistence {}

/**
 * A memory store where, before each of the first `times` commits of `streamId`, another writer slips in a
 * commit of its own (built by `intruder` from the head it sees).
 */
export const racingStore = (
  streamId: string,
  times: number,
  intruder: (head: { revision: number; sequence: number }) => CommitAttempt,
): Persistence & { intrusions: number } => {
  const store: Persistence = memoryStore()
  let intrusions = 0
  const commit = store.commit.bind(store)
  Object.defineProperty(store, 'intrusions', { get: () => intrusions })
  return Object.assign(store as Persistence & { readonly intrusions: number }, {
    commit: async (attempt: CommitAttempt) => {
      if (attempt.streamId === streamId && intrusions < times) {
        intrusions += 1
        const head = { revision: attempt.streamRevision - attempt.events.length, sequence: attempt.commitSequence - 1 }
        const r = await commit(intruder(head))
        if (E.isLeft(r)) throw new Error(`intruder failed: ${r.left._tag}`)
      }
      return commit(attempt)
    },
  })
}
