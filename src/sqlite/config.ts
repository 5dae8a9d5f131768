import * as E from 'fp-ts/lib/Either.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import { groupCommitConfig, type GroupCommitConfig } from '../sql/groupCommit.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What a run of a statement reports; better-sqlite3's `RunResult`. */
export interface SqliteRunResult {
  readonly changes: number
  readonly lastInsertRowid: number | bigint
}

/** The few methods of a better-sqlite3 statement the store calls. */
export interface SqliteStatement {
  run(...params: unknown[]): SqliteRunResult
  get(...params: unknown[]): unknown
  all(...params: unknown[]): unknown[]
  raw(toggle?: boolean): SqliteStatement
  safeIntegers(toggle?: boolean): SqliteStatement
}

/**
 * The few methods of a better-sqlite3 `Database` the store calls, so that a caller can hand in their own
 * connection (and so that importing `aett/sqlite` never loads the driver by itself).
 */
export interface SqliteDatabase {
  readonly open: boolean
  readonly inTransaction: boolean
  prepare(source: string): SqliteStatement
  exec(source: string): unknown
  pragma(source: string, options?: { readonly simple?: boolean }): unknown
  close(): unknown
}

/**
 * `FULL` syncs the write-ahead log on every commit: a commit that was acknowledged survives a power cut.
 * `NORMAL` syncs only at checkpoints: still safe against a crash of the process, but the last commits may be
 * lost when the machine itself goes down. SQLite's `OFF` is deliberately not offered.
 */
export type Synchronous = 'FULL' | 'NORMAL'

export interface SqliteCommonOptions {
  /** Prefix of every table and index the store creates; letters, digits and `_`. Default `aett_`. */
  readonly tablePrefix?: string
  /** Rows per page of a read. Default 500. */
  readonly pageSize?: number
  /** Durability of a commit. Default `FULL` (for a connection passed in: left alone unless given). */
  readonly synchronous?: Synchronous
  /** How long SQLite itself waits for another connection's lock before reporting busy. Default 5000 ms. */
  readonly busyTimeoutMs?: number
  /** How many more times an operation that met a busy or locked database is tried again. Default 3. */
  readonly busyRetries?: number
  /** Pause before the first retry, doubled for each further one. Default 10 ms. */
  readonly retryDelayMs?: number
  /** The store's name in messages and benchmarks. Default `sqlite`. */
  readonly name?: string
  /**
   * Group commit: appends made within one turn of the event loop share one transaction and one sync, each
   * checked on its own (in a savepoint of its own when inline projections run with it) and acknowledged only
   * after that transaction committed (as durable as
   * `synchronous` makes any commit). `true` uses the defaults (`maxBatch` 256, `maxWaitMs` 0); `false` writes
   * one transaction per append. Default `true` (measured: 8 writers about 3x the commits/s, a lone writer
   * the same within the spread; `bench/src/extras/writers.ts`).
   */
  readonly groupCommit?: boolean | { readonly maxBatch?: number; readonly maxWaitMs?: number }
  /**
   * The page size, in bytes, of a file the store creates (a power of two from 512 to 65536; SQLite's default,
   * 4096, when absent). It takes effect only before the file's first table exists, and is ignored for a file
   * that has tables already. An append dirties a leaf page of the commit table and of each of its three indexes,
   * and the write-ahead log writes every dirty page whole, so smaller pages write fewer bytes per append: 1024
   * suits many concurrent writers of small commits (group commit), while large commits spill over more pages
   * and get slower (`bench/src/extras/writers.ts` and `npm run bench` show both).
   */
  readonly filePageBytes?: number
}

/** Open a file (or `:memory:`) with better-sqlite3; the store closes it on `close()`. */
export interface SqliteFileOptions extends SqliteCommonOptions {
  readonly filename: string
}

/** Use a connection the caller opened; the store never closes it. */
export interface SqliteDatabaseOptions extends SqliteCommonOptions {
  readonly database: SqliteDatabase
}

export type SqliteStoreOptions = SqliteFileOptions | SqliteDatabaseOptions

/** Options after validation, with every default filled in. */
export interface SqliteConfig {
  readonly name: string
  /** Where the connection comes from: a file the store opens (and closes), or the caller's connection. */
  readonly source: { readonly filename: string } | { readonly database: SqliteDatabase }
  readonly tablePrefix: string
  readonly pageSize: number
  readonly busyRetries: number
  readonly retryDelayMs: number
  /** Pragmas to apply to the connection, in order; only the ones that apply to this connection. */
  readonly pragmas: readonly string[]
  readonly busyTimeoutMs: number
  /** Undefined: group commit is off. */
  readonly groupCommit: GroupCommitConfig | undefined
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

export const defaults = {
  name: 'sqlite',
  tablePrefix: 'aett_',
  pageSize: 500,
  synchronous: 'FULL',
  busyTimeoutMs: 5000,
  busyRetries: 3,
  retryDelayMs: 10,
  groupCommit: true,
  maxBatch: 256,
  maxWaitMs: 0,
} as const

const identifier = /^[A-Za-z_][A-Za-z0-9_]{0,40}$/

const isCount = (n: unknown, min: number): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= min

/**
 * Checks the options and fills in defaults. A connection the store opens itself gets WAL and the chosen
 * durability; a connection passed in keeps its own settings except for what the caller states explicitly.
 */
export const resolveConfig = (options: SqliteStoreOptions | undefined): E.Either<StorageError, SqliteConfig> => {
  const fail = (reason: string) => E.left(storageError('configure sqlite store', new TypeError(reason)))
  if (typeof options !== 'object' || options === null) return fail('options must be an object with a filename or a database')
  const own = !('database' in options)
  const tablePrefix = options.tablePrefix ?? defaults.tablePrefix
  if (typeof tablePrefix !== 'string' || !identifier.test(tablePrefix))
    return fail(`tablePrefix must match ${String(identifier)}, got ${JSON.stringify(tablePrefix)}`)
  const pageSize = options.pageSize ?? defaults.pageSize
  if (!isCount(pageSize, 1)) return fail(`pageSize must be a positive integer, got ${String(pageSize)}`)
  const busyTimeoutMs = options.busyTimeoutMs ?? defaults.busyTimeoutMs
  if (!isCount(busyTimeoutMs, 0)) return fail(`busyTimeoutMs must be a non-negative integer, got ${String(busyTimeoutMs)}`)
  const busyRetries = options.busyRetries ?? defaults.busyRetries
  if (!isCount(busyRetries, 0)) return fail(`busyRetries must be a non-negative integer, got ${String(busyRetries)}`)
  const retryDelayMs = options.retryDelayMs ?? defaults.retryDelayMs
  if (!isCount(retryDelayMs, 0)) return fail(`retryDelayMs must be a non-negative integer, got ${String(retryDelayMs)}`)
  const synchronous = options.synchronous ?? (own ? defaults.synchronous : undefined)
  if (synchronous !== undefined && synchronous !== 'FULL' && synchronous !== 'NORMAL')
    return fail(`synchronous must be 'FULL' or 'NORMAL', got ${JSON.stringify(synchronous)}`)
  if (!own && typeof (options as SqliteDatabaseOptions).database?.prepare !== 'function')
    return fail('database must be a better-sqlite3 Database')
  if (own && typeof (options as SqliteFileOptions).filename !== 'string')
    return fail('filename must be a string (a path or ":memory:")')
  const filePageBytes = options.filePageBytes
  if (filePageBytes !== undefined && !(isCount(filePageBytes, 512) && filePageBytes <= 65536 && (filePageBytes & (filePageBytes - 1)) === 0))
    return fail(`filePageBytes must be a power of two from 512 to 65536, got ${String(filePageBytes)}`)
  const pragmas = [
    // The page size must come before the journal mode: a file in WAL mode keeps the page size it has.
    ...(filePageBytes === undefined ? [] : [`page_size = ${filePageBytes}`]),
    // WAL lets readers run beside the one writer; it is a property of the file, and `:memory:` keeps its own
    // in-memory journal whatever is asked.
    ...(own ? ['journal_mode = WAL'] : []),
    ...(synchronous === undefined ? [] : [`synchronous = ${synchronous}`]),
    ...(own || options.busyTimeoutMs !== undefined ? [`busy_timeout = ${busyTimeoutMs}`] : []),
  ]
  const name = options.name ?? defaults.name
  if (typeof name !== 'string' || name.length === 0) return fail('name must be a non-empty string')
  const group = groupCommitConfig(options.groupCommit, { enabled: defaults.groupCommit, maxBatch: defaults.maxBatch, maxWaitMs: defaults.maxWaitMs })
  if ('error' in group) return fail(group.error)
  const groupCommit = group.config
  return E.right({
    name,
    source: own ? { filename: (options as SqliteFileOptions).filename } : { database: (options as SqliteDatabaseOptions).database },
    tablePrefix,
    pageSize,
    busyRetries,
    retryDelayMs,
    pragmas,
    busyTimeoutMs,
    groupCommit,
  })
}
