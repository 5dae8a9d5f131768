import * as E from 'fp-ts/lib/Either.js'
import { storageError, type StorageError } from '../eventstore/errors.js'

// -------------------------------------------------------------------------------------
// driver (the few mysql2 methods the store calls)
// -------------------------------------------------------------------------------------

/**
 * Anything that runs one statement: a mysql2 promise pool or connection. Declared structurally so that
 * `aett/mysql` never imports mysql2 itself and a user can pass their own pool.
 */
export interface MysqlQueryable {
  query(sql: string, values?: unknown): Promise<readonly [unknown, unknown]>
}

/** A connection borrowed from a pool; `release` gives it back, `destroy` throws it away. */
export interface MysqlPoolConnection extends MysqlQueryable {
  release(): void
  destroy(): void
}

/**
 * The part of a mysql2 promise pool (`mysql2/promise` `createPool(...)`) the store uses. The pool must talk
 * utf8mb4 (mysql2's default charset) so that every Unicode id and body round-trips.
 */
export interface MysqlPool extends MysqlQueryable {
  getConnection(): Promise<MysqlPoolConnection>
  end(): Promise<void>
}

// -------------------------------------------------------------------------------------
// options
// -------------------------------------------------------------------------------------

interface CommonOptions {
  /**
   * Prefix of every table and routine the store creates, e.g. `aett` gives `aett_commits`. Letters, digits and
   * underscores, starting with a letter or underscore, at most 40 characters (MySQL names stop at 64).
   */
  readonly tablePrefix?: string
  /** Rows per read page; 500 by default. */
  readonly pageSize?: number
  /**
   * How many times an append that lost a race is run again before it fails: a deadlock victim (errno 1213), or a
   * row a unique key refused (1062) because another writer got in first. 5 by default.
   */
  readonly appendRetries?: number
  /** Told about every retried append, for metrics and logs. */
  readonly onRetry?: (cause: unknown, attempt: number) => void
}

/** Use a pool the caller owns; `close()` leaves it open. */
export interface MysqlPoolOptions extends CommonOptions {
  readonly pool: MysqlPool
}

/** Let the store create (and own) a mysql2 pool for a connection URI such as `mysql://user@host:3306/db`. */
export interface MysqlUriOptions extends CommonOptions {
  readonly uri: string
  /** Size of the pool the store creates; 10 by default. */
  readonly connectionLimit?: number
}

export type MysqlStoreOptions = MysqlPoolOptions | MysqlUriOptions

/** Options after validation. */
export interface MysqlConfig {
  readonly tablePrefix: string
  readonly pageSize: number
  readonly appendRetries: number
  readonly onRetry: (cause: unknown, attempt: number) => void
}

export const defaultTablePrefix = 'aett'
export const defaultPageSize = 500
export const defaultAppendRetries = 5

const prefixPattern = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/

const isPositiveInt = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 1

/** Checks the options once, at construction; a bad option is a StorageError of operation `configure`. */
export const validateConfig = (options: MysqlStoreOptions): E.Either<StorageError, MysqlConfig> => {
  const fail = (message: string) => E.left(storageError('configure', new Error(message)))
  const tablePrefix = options.tablePrefix ?? defaultTablePrefix
  if (!prefixPattern.test(tablePrefix)) {
    return fail(`tablePrefix must match ${String(prefixPattern)}, got ${JSON.stringify(tablePrefix)}`)
  }
  const pageSize = options.pageSize ?? defaultPageSize
  if (!isPositiveInt(pageSize)) return fail(`pageSize must be a positive integer, got ${String(pageSize)}`)
  const appendRetries = options.appendRetries ?? defaultAppendRetries
  if (!Number.isSafeInteger(appendRetries) || appendRetries < 0) {
    return fail(`appendRetries must be a non-negative integer, got ${String(appendRetries)}`)
  }
  return E.right({ tablePrefix, pageSize, appendRetries, onRetry: options.onRetry ?? (() => undefined) })
}

/** Loads mysql2 only when the store has to create its own pool, so `aett/mysql` never requires it otherwise. */
export const createOwnedPool = async (uri: string, connectionLimit: number): Promise<MysqlPool> => {
  const mysql = await import('mysql2/promise')
  const pool = mysql.createPool({ uri, connectionLimit, charset: 'utf8mb4_bin', supportBigNumbers: true })
  return pool
}
