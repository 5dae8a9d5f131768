import * as E from 'fp-ts/lib/Either.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import type { SqliteConfig, SqliteDatabase } from './config.js'
import { isBusy } from './errors.js'

/**
 * The only door to better-sqlite3: opening and closing the connection, running synchronous driver work with
 * retries while the database is busy, and transactions under the write lock.
 */

/** A connection as the store holds it: whether the store opened it (and so closes it). */
export interface Connection {
  readonly db: SqliteDatabase
  readonly owned: boolean
}

/** How busy databases are retried. */
export interface RetryPolicy {
  readonly retries: number
  readonly delayMs: number
}

export const retryPolicy = (config: SqliteConfig): RetryPolicy => ({ retries: config.busyRetries, delayMs: config.retryDelayMs })

/**
 * Opens the connection: loads better-sqlite3 (only when the store opens a file itself, so that importing
 * `aett/sqlite` never loads it) and applies the configured pragmas, once. A connection the store opened and
 * could not configure is closed again.
 */
export const openConnection = async (config: SqliteConfig): Promise<E.Either<StorageError, Connection>> => {
  let connection: Connection
  if ('database' in config.source) connection = { db: config.source.database, owned: false }
  else {
    const { filename } = config.source
    try {
      const { default: Database } = await import('better-sqlite3')
      connection = { db: new Database(filename, { timeout: config.busyTimeoutMs }), owned: true }
    } catch (cause) {
      return E.left(storageError(`open sqlite database ${JSON.stringify(filename)}`, cause))
    }
  }
  const configured = await retrying('configure sqlite connection', retryPolicy(config), () => {
    for (const pragma of config.pragmas) connection.db.pragma(pragma)
  })
  if (E.isLeft(configured)) {
    closeConnection(connection)
    return configured
  }
  return E.right(connection)
}

/** Closes the connection if the store opened it; a connection passed in stays open. */
export const closeConnection = ({ db, owned }: Connection): void => {
  if (owned && db.open) db.close()
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Runs a synchronous driver operation, trying again (after an asynchronous pause, so the event loop and other
 * connections can move on) while the database is busy or locked, at most `retries` more times. Every error
 * that is left, and a busy database once the retries are spent, becomes a `StorageError` keeping the cause.
 * `op` may itself return a Left for outcomes that are not driver failures.
 */
export const withRetry = <L, A>(
  operation: string,
  policy: RetryPolicy,
  op: () => E.Either<L, A>,
): Promise<E.Either<L | StorageError, A>> => Promise.resolve(retryIfBusy(operation, policy, op))

/** `withRetry`, answering without a promise when the first try, which runs synchronously, was not busy. */
export const retryIfBusy = <L, A>(
  operation: string,
  policy: RetryPolicy,
  op: () => E.Either<L, A>,
): E.Either<L | StorageError, A> | Promise<E.Either<L | StorageError, A>> => {
  try {
    return op()
  } catch (cause) {
    if (!isBusy(cause) || policy.retries === 0) return E.left(storageError(operation, cause))
    return retryLater(operation, policy, op)
  }
}

const retryLater = async <L, A>(
  operation: string,
  policy: RetryPolicy,
  op: () => E.Either<L, A>,
): Promise<E.Either<L | StorageError, A>> => {
  for (let attempt = 1; ; attempt++) {
    // Exponential back-off with jitter, so that colliding processes do not retry in lockstep.
    await sleep(policy.delayMs * 2 ** (attempt - 1) * (0.5 + Math.random()))
    try {
      return op()
    } catch (cause) {
      if (!isBusy(cause) || attempt >= policy.retries) return E.left(storageError(operation, cause))
    }
  }
}

/** Runs a synchronous driver operation once per retry as above, for operations that cannot fail otherwise. */
export const retrying = <A>(operation: string, policy: RetryPolicy, op: () => A): Promise<E.Either<StorageError, A>> =>
  withRetry<StorageError, A>(operation, policy, () => E.right(op()))

/**
 * Runs `f` in a `BEGIN IMMEDIATE` transaction (the write lock, so that what `f` reads cannot change before it
 * writes), committing a Right and rolling back a Left or a throw. Throws the driver's error.
 */
export const underLock = <L, A>(db: SqliteDatabase, f: () => E.Either<L, A>): E.Either<L, A> => {
  db.exec('BEGIN IMMEDIATE')
  try {
    const result = f()
    db.exec(E.isRight(result) ? 'COMMIT' : 'ROLLBACK')
    return result
  } catch (cause) {
    try {
      if (db.inTransaction) db.exec('ROLLBACK')
    } catch {
      // SQLite may already have rolled back on its own (e.g. after SQLITE_FULL); the original error matters.
    }
    throw cause
  }
}
