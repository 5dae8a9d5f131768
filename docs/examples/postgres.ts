import * as E from 'fp-ts/lib/Either.js'
import pg from 'pg'
import { toArray } from 'aett/eventstore'
import { postgresStore } from 'aett/postgres'
import { attemptAfter, deposit } from './support.js'

export interface PostgresExampleOptions {
  /** A PostgreSQL 13+ database, e.g. `postgres://postgres@127.0.0.1:5432/test`. */
  readonly connectionString: string
  /** The schema the store creates its tables in (`aett` by default). */
  readonly schema: string
}

export const main = async ({ connectionString, schema }: PostgresExampleOptions) => {
  // A store that creates (lazily, on first use) and on close ends its own pg pool.
  const store = postgresStore({ connectionString, schema })
  const ready = await store.initialize() // creates or migrates the schema; safe to run from many processes at once
  if (E.isLeft(ready)) return ready

  // Two writers start from the same empty stream; the second is told what it missed, as a value.
  const first = await store.commit(attemptAfter(undefined, 'account-42', [deposit('account-42', 1, 100), deposit('account-42', 2, 20)]))
  const stale = await store.commit(attemptAfter(undefined, 'account-42', [deposit('account-42', 1, 5)]))
  const missed = E.isLeft(stale) && stale.left._tag === 'ConcurrencyConflict' ? stale.left.missed.length : 0

  // Resending a stored commit id is a DuplicateCommit, never a second commit.
  const resent = E.isRight(first) ? await store.commit({ ...first.right, commitSequence: 2, streamRevision: 3 }) : first
  const duplicate = E.isLeft(resent) ? resent.left._tag : 'stored twice?!'

  // A store over a pool the application already has: close() leaves that pool open.
  const pool = new pg.Pool({ connectionString, max: 4 })
  const shared = postgresStore({ pool, schema, pageSize: 100 })
  const head = E.isRight(first) ? first.right : undefined
  const second = await shared.commit(attemptAfter(head, 'account-42', [deposit('account-42', 3, 5)]))

  // The global log in checkpoint order. It is gap-free: a reader never hands out a token and later a lower one,
  // so a projection can store the last token it saw and resume after it.
  const log = await toArray(shared.getFrom(0))
  const tokens = E.isRight(log) ? log.right.map((c) => c.checkpointToken) : []
  const resumed = await toArray(shared.getFrom(tokens[0] ?? 0))

  await shared.close()
  await pool.end()
  await store.drop()
  await store.close()
  return E.right({
    commits: tokens.length,
    ascending: tokens.every((t, i) => i === 0 || t > (tokens[i - 1] ?? 0)),
    resumedAfterFirst: E.isRight(resumed) ? resumed.right.length : -1,
    missed,
    duplicate,
    secondStored: E.isRight(second),
  })
}
