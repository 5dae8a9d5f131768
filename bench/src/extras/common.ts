import { randomUUID } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import type { Commit, CommitAttempt } from '../../../src/eventstore/Commit.js'
import type { Persistence } from '../../../src/eventstore/ports.js'
import { orThrow } from '../aett/contenders.js'
import { depositMessage, TENANT } from '../domain.js'

export const now = (): number => performance.now()

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** The no-op handler every contender hands its batches to. */
export const noop = async (_batch: readonly Commit[]): Promise<E.Either<never, void>> => E.right(undefined)

/** A single-event commit of the bench's deposit event. */
export const singleEvent = (streamId: string, sequence: number, commitId: string = randomUUID()): CommitAttempt => ({
  tenantId: TENANT,
  streamId,
  streamRevision: sequence,
  commitId,
  commitSequence: sequence,
  commitStamp: new Date(),
  headers: {},
  events: [depositMessage(streamId, sequence)],
})

/**
 * Seeds `commits` single-event commits with `writers` concurrent writers, each on streams of its own (100
 * commits per stream), so that the servers' group commit shortens the seeding.
 */
export const seedSingles = async (store: Persistence, commits: number, writers = 8): Promise<void> => {
  const per = Math.ceil(commits / writers)
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const n = Math.max(0, Math.min(per, commits - w * per))
      for (let i = 0; i < n; i++) {
        const streamId = `seed-${w}-${Math.floor(i / 100)}`
        orThrow('seed', await store.commit(singleEvent(streamId, (i % 100) + 1)))
      }
    }),
  )
}

/** Rotates contenders by round (A B C, B C A, C A B ...), as the main bench does. */
export const rotate = <A>(items: readonly A[], round: number): A[] => items.map((_, i) => items[(i + round) % items.length] as A)

/** Type-7 quantile of unsorted values. */
export const quantile = (values: readonly number[], p: number): number => {
  const s = [...values].sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const pos = (s.length - 1) * p
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo)
}

export const median = (values: readonly number[]): number => quantile(values, 0.5)
