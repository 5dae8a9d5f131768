import * as E from 'fp-ts/lib/Either.js'
import mysql from 'mysql2/promise'
import { toArray } from 'aett/eventstore'
import { mysqlStore } from 'aett/mysql'
import { attemptAfter, deposit } from './support.js'

export interface MysqlExampleOptions {
  /** A MySQL 8+ or MariaDB 10.11+ database, e.g. `mysql://root@127.0.0.1:3306/test`. */
  readonly uri: string
  /** Every table and the append routine are named `<tablePrefix>_...`. */
  readonly tablePrefix: string
}

export const main = async ({ uri, tablePrefix }: MysqlExampleOptions) => {
  // A store that creates (and on close ends) its own mysql2 pool; initialize() creates or migrates the schema.
  const store = mysqlStore({ uri, tablePrefix })
  const ready = await store.initialize()
  if (E.isLeft(ready)) return ready

  // Two writers start from the same empty stream; the second is told what it missed, as a value.
  const first = await store.commit(attemptAfter(undefined, 'account-42', [deposit('account-42', 1, 100), deposit('account-42', 2, 20)]))
  const stale = await store.commit(attemptAfter(undefined, 'account-42', [deposit('account-42', 1, 5)]))
  const missed = E.isLeft(stale) && stale.left._tag === 'ConcurrencyConflict' ? stale.left.missed.length : 0

  // Resending a stored commit id is a DuplicateCommit, never a second commit.
  const resent = E.isRight(first) ? await store.commit({ ...first.right, commitSequence: 2, streamRevision: 3 }) : first
  const duplicate = E.isLeft(resent) ? resent.left._tag : 'stored twice?!'

  // A store over a pool the application already has: close() leaves that pool open.
  const pool = mysql.createPool({ uri, connectionLimit: 4 })
  const shared = mysqlStore({ pool, tablePrefix, pageSize: 100 })
  const head = E.isRight(first) ? first.right : undefined
  const second = await shared.commit(attemptAfter(head, 'account-42', [deposit('account-42', 3, 5)]))

  // The global log, in checkpoint order (gap-free: a reader never passes a commit still in flight).
  const log = await toArray(shared.getFrom(0))
  await shared.close()
  await pool.end()

  await store.drop()
  await store.close()
  return E.right({
    tokens: E.isRight(log) ? log.right.map((c) => c.checkpointToken) : [],
    missed,
    duplicate,
    secondStored: E.isRight(second),
  })
}
