import * as E from 'fp-ts/lib/Either.js'
import type { CommitAttempt, EventMessage } from '../../../src/eventstore/Commit.js'
import type { Persistence } from '../../../src/eventstore/ports.js'
import { depositMessage, TENANT } from '../domain.js'
import type { Contender } from '../harness/types.js'

/** Fails the scenario loudly: a benchmark that silently measured failures would be worse than none. */
export const orThrow = <A>(what: string, r: E.Either<unknown, A>): A => {
  if (E.isLeft(r)) throw new Error(`${what}: ${JSON.stringify(r.left, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`)
  return r.right
}

const attempt = (streamId: string, sequence: number, revision: number, events: readonly EventMessage[]): CommitAttempt => ({
  tenantId: TENANT,
  streamId,
  streamRevision: revision,
  commitId: crypto.randomUUID(),
  commitSequence: sequence,
  commitStamp: new Date(),
  headers: {},
  events,
})

/** `n` commits of one event each to a fresh stream, each continuing the last (optimistic concurrency). */
export const appendSingles = (store: Persistence, n: number, prefix: string): Contender => ({
  library: 'aett',
  run: async (round) => {
    const streamId = `${prefix}-${round}`
    for (let i = 1; i <= n; i++) {
      orThrow('commit', await store.commit(attempt(streamId, i, i, [depositMessage(streamId, i)])))
    }
  },
})

/** One commit of `n` events to a fresh stream. */
export const appendBatch = (store: Persistence, n: number, prefix: string): Contender => ({
  library: 'aett',
  run: async (round) => {
    const streamId = `${prefix}-${round}`
    const events = Array.from({ length: n }, (_, i) => depositMessage(streamId, i + 1))
    orThrow('commit', await store.commit(attempt(streamId, 1, n, events)))
  },
})

/** Seeds a stream with `events` events in commits of `perCommit`. */
export const seedStream = async (store: Persistence, streamId: string, events: number, perCommit: number): Promise<void> => {
  let revision = 0
  for (let seq = 1; revision < events; seq++) {
    const size = Math.min(perCommit, events - revision)
    const batch = Array.from({ length: size }, (_, i) => depositMessage(streamId, revision + i + 1))
    revision += size
    orThrow('seed', await store.commit(attempt(streamId, seq, revision, batch)))
  }
}

/** Seeds the global log with `commits` commits of `perCommit` events, over 100 streams. */
export const seedLog = async (store: Persistence, prefix: string, commits: number, perCommit: number): Promise<void> => {
  const streams = 100
  for (let i = 0; i < commits; i++) {
    const streamId = `${prefix}-${i % streams}`
    const seq = Math.floor(i / streams) + 1
    const batch = Array.from({ length: perCommit }, (_, j) => depositMessage(streamId, (seq - 1) * perCommit + j + 1))
    orThrow('seed', await store.commit(attempt(streamId, seq, seq * perCommit, batch)))
  }
}

/** Reads the whole global log from checkpoint 0, counting events, and checks that all were seen. */
export const readLog = (store: Persistence, events: number): Contender => ({
  library: 'aett',
  via: 'getFrom',
  run: async () => {
    let seen = 0
    let after = 0
    // A read stops at the gap-free horizon, which on PostgreSQL any transaction on the server holds back (another
    // test's, say): like any consumer, read on from the last token until the log is complete or 10 s have passed.
    const giveUp = Date.now() + 10_000
    do {
      for await (const r of store.getFrom(after)) {
        const c = orThrow('read', r)
        seen += c.events.length
        after = c.checkpointToken
      }
    } while (seen < events && Date.now() < giveUp)
    if (seen !== events) throw new Error(`global read saw ${seen} events, expected ${events}`)
  },
})
