import * as E from 'fp-ts/lib/Either.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import { groupCommitConfig, type GroupCommitConfig, type GroupCommitOption } from '../sql/groupCommit.js'

// -------------------------------------------------------------------------------------
// driver (the few mysql2 methods the store calls)
// -------------------------------------------------------------------------------------

/**
 * Anything that runs one statement: a mysql2 promise pool or connection. Declared structurally so that
 * `aett/mysql` never imports mysql2 itself and a user can pass their own pool. Every statement that carries a
 * value goes through `execute` (a server-side prepared statement: values travel apart from the SQL text, so no
 * `sql_mode` can change what they mean); `query` only ever runs fixed text without values (DDL, transaction
 * control).
 */
export interface MysqlQueryable {
  execute(sql: string, values?: unknown): Promise<readonly [unknown, unknown]>
  query(sql: string): Promise<readonly [unknown, unknown]>
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
  /**
   * Group commit (on by default): appends made while the store's previous batches are in flight are sent together,
   * in one call of the batch routine: one round trip, one transaction, one sync, each append checked and answered
   * on its own, each acknowledged only after that transaction committed. `maxBatch` (64) caps a batch; `maxWaitMs`
   * (0) makes the first append of a batch wait that long for company (0: only until the current turn's microtasks
   * settle, so a lone writer is not slowed down). `false`: one transaction per append. Appends with inline
   * projections always run alone.
   */
  readonly groupCommit?: GroupCommitOption
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

/** Where the pool comes from: the caller's, or one the store creates (and ends) itself. */
export type MysqlSource =
  | { readonly _tag: 'pool'; readonly pool: MysqlPool }
  | { readonly _tag: 'uri'; readonly uri: string; readonly connectionLimit: number }

/** Options after validation. */
export interface MysqlConfig {
  readonly source: MysqlSource
  readonly tablePrefix: string
  readonly pageSize: number
  readonly appendRetries: number
  readonly onRetry: (cause: unknown, attempt: number) => void
  /** undefined: one transaction per append. */
  readonly groupCommit: GroupCommitConfig | undefined
}

export const defaultGroupCommit = { enabled: true, maxBatch: 64, maxWaitMs: 0 } as const

export const defaultTablePrefix = 'aett'
export const defaultPageSize = 500
export const defaultAppendRetries = 5
export const defaultConnectionLimit = 10

const prefixPattern = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/

const isPositiveInt = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 1

const isPool = (p: unknown): p is MysqlPool =>
  typeof p === 'object' &&
  p !== null &&
  ['execute', 'query', 'getConnection', 'end'].every((m) => typeof (p as Record<string, unknown>)[m] === 'function')

/**
 * Checks the options once, at construction; a bad option (missing options included: `mysqlStore(undefined)`
 * from plain JavaScript) is a StorageError of operation `configure`, answered by every call.
 */
export const validateConfig = (options: MysqlStoreOptions | undefined | null): E.Either<StorageError, MysqlConfig> => {
  const fail = (message: string) => E.left(storageError('configure', new Error(message)))
  if (typeof options !== 'object' || options === null) {
    return fail(`options must be an object with a pool or a uri, got ${options === null ? 'null' : typeof options}`)
  }
  const o = options as Partial<MysqlPoolOptions & MysqlUriOptions>
  let source: MysqlSource
  if (o.pool !== undefined) {
    if (!isPool(o.pool)) return fail('pool must be a mysql2 promise pool (with execute, query, getConnection and end)')
    source = { _tag: 'pool', pool: o.pool }
  } else if (typeof o.uri === 'string') {
    const connectionLimit = o.connectionLimit ?? defaultConnectionLimit
    if (!isPositiveInt(connectionLimit)) return fail(`connectionLimit must be a positive integer, got ${String(connectionLimit)}`)
    source = { _tag: 'uri', uri: o.uri, connectionLimit }
  } else {
    return fail('options need a pool or a uri')
  }
  const tablePrefix = o.tablePrefix ?? defaultTablePrefix
  if (typeof tablePrefix !== 'string' || !prefixPattern.test(tablePrefix)) {
    return fail(`tablePrefix must match ${String(prefixPattern)}, got ${JSON.stringify(tablePrefix)}`)
  }
  const pageSize = o.pageSize ?? defaultPageSize
  if (!isPositiveInt(pageSize)) return fail(`pageSize must be a positive integer, got ${String(pageSize)}`)
  const appendRetries = o.appendRetries ?? defaultAppendRetries
  if (!Number.isSafeInteger(appendRetries) || appendRetries < 0) {
    return fail(`appendRetries must be a non-negative integer, got ${String(appendRetries)}`)
  }
  if (o.onRetry !== undefined && typeof o.onRetry !== 'function') return fail('onRetry must be a function')
  const group = groupCommitConfig(o.groupCommit, defaultGroupCommit)
  if ('error' in group) return fail(group.error)
  return E.right({ source, tablePrefix, pageSize, appendRetries, onRetry: o.onRetry ?? (() => undefined), groupCommit: group.config })
}
