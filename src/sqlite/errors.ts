import * as E from 'fp-ts/lib/Either.js'
import { storageError, type StorageError } from '../eventstore/errors.js'

/** better-sqlite3 reports SQLite's extended result codes as `code`, e.g. `SQLITE_CONSTRAINT_UNIQUE`. */
const codeOf = (cause: unknown): string | undefined => {
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined
  return typeof code === 'string' ? code : undefined
}

const hasCode = (cause: unknown, base: string): boolean => {
  const code = codeOf(cause)
  return code !== undefined && (code === base || code.startsWith(`${base}_`))
}

/** Another connection holds a lock this one needs: worth trying again a little later. */
export const isBusy = (cause: unknown): boolean => hasCode(cause, 'SQLITE_BUSY') || hasCode(cause, 'SQLITE_LOCKED')

/** A UNIQUE or PRIMARY KEY constraint refused a row: another writer got there first, or a duplicate. */
export const isUniqueViolation = (cause: unknown): boolean => {
  const code = codeOf(cause)
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}

/** How busy databases are retried. */
export interface RetryPolicy {
  readonly retries: number
  readonly delayMs: number
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
): Promise<E.Either<L | StorageError, A>> => {
  // The first try runs synchronously: the common case pays for one resolved promise and nothing else.
  try {
    return Promise.resolve(op())
  } catch (cause) {
    if (!isBusy(cause) || policy.retries === 0) return Promise.resolve(E.left(storageError(operation, cause)))
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
