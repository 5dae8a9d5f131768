import * as E from 'fp-ts/lib/Either.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import type { MysqlPool, MysqlPoolConnection, MysqlQueryable, MysqlSource } from './config.js'
import { connectionSurvives, mayEndTransaction } from './errors.js'

/**
 * The store's only door to mysql2. Two rules hold here for every statement:
 *
 * - **No value is ever spliced into SQL text.** Statements with values run as server-side prepared statements
 *   (`execute`): the values travel in the binary protocol, apart from the text, so the session's `sql_mode`
 *   (`NO_BACKSLASH_ESCAPES`, `ANSI_QUOTES`, ...) cannot change what they mean. Text without values (DDL, which
 *   cannot always be prepared, and transaction control) goes through `query` with no values at all.
 * - **Integers travel as integers.** mysql2 sends a JavaScript number as a DOUBLE, which MySQL 8.0.22+ refuses
 *   for `LIMIT ?`; every number is sent as a BigInt instead, which mysql2 3 sends as a LONGLONG where the server
 *   reports an integer placeholder and as its decimal digits otherwise (both are what the server expects). The
 *   shell hands the operations safe integers only, so the conversion is exact.
 *
 * Every statement text the store runs is built once per store, so mysql2's per-connection cache of prepared
 * statements prepares each one once per connection.
 */

const wireValue = (v: unknown): unknown => (typeof v === 'number' ? BigInt(v) : v)

/** Runs one statement with values as a prepared statement; a driver failure comes back as a StorageError. */
export const execute = async (
  db: MysqlQueryable,
  operation: string,
  sql: string,
  values: readonly unknown[] = [],
): Promise<E.Either<StorageError, unknown>> => {
  try {
    const [result] = await db.execute(sql, values.map(wireValue))
    return E.right(result)
  } catch (cause) {
    return E.left(storageError(operation, cause))
  }
}

/** Runs fixed SQL text that takes no values (DDL, transaction control). */
export const runText = async (db: MysqlQueryable, operation: string, sql: string): Promise<E.Either<StorageError, unknown>> => {
  try {
    const [result] = await db.query(sql)
    return E.right(result)
  } catch (cause) {
    return E.left(storageError(operation, cause))
  }
}

/** Runs a SELECT and returns its rows. */
export const selectRows = async <R>(
  db: MysqlQueryable,
  operation: string,
  sql: string,
  values: readonly unknown[],
): Promise<E.Either<StorageError, readonly R[]>> => {
  const result = await execute(db, operation, sql, values)
  if (E.isLeft(result)) return result
  return Array.isArray(result.right) ? E.right(result.right as R[]) : E.left(storageError(operation, new Error('expected rows')))
}

/**
 * Borrows one connection for `use` and always gives it back: released when it is healthy, destroyed when an
 * error may have left it in an unknown state, so that even a pool of one connection survives every error path.
 */
export const withConnection = async <A>(
  pool: MysqlPool,
  operation: string,
  use: (connection: MysqlPoolConnection) => Promise<E.Either<StorageError, A>>,
): Promise<E.Either<StorageError, A>> => {
  let connection: MysqlPoolConnection
  try {
    connection = await pool.getConnection()
  } catch (cause) {
    return E.left(storageError(operation, cause))
  }
  let healthy = true
  try {
    const result = await use(connection)
    if (E.isLeft(result)) healthy = connectionSurvives(result.left.cause)
    return result
  } catch (cause) {
    healthy = false
    return E.left(storageError(operation, cause))
  } finally {
    if (healthy) connection.release()
    else connection.destroy()
  }
}

/**
 * Runs `body` in one transaction on one connection: committed when it answers a Right, rolled back when it
 * answers a Left (a failed rollback is reported instead, so that the connection is destroyed).
 */
export const withTransaction = <A>(
  pool: MysqlPool,
  operation: string,
  body: (connection: MysqlPoolConnection) => Promise<E.Either<StorageError, A>>,
): Promise<E.Either<StorageError, A>> =>
  withConnection(pool, operation, async (connection) => {
    const begun = await runText(connection, operation, 'START TRANSACTION')
    if (E.isLeft(begun)) return begun
    const result = await body(connection)
    if (E.isLeft(result)) {
      const rolledBack = await runText(connection, operation, 'ROLLBACK')
      return E.isLeft(rolledBack) ? rolledBack : result
    }
    const committed = await runText(connection, operation, 'COMMIT')
    return E.isLeft(committed) ? committed : result
  })

/** Runs `statements` (text and values) in one transaction on one connection; all or nothing. */
export const inTransaction = (
  pool: MysqlPool,
  operation: string,
  statements: readonly (readonly [string, readonly unknown[]])[],
): Promise<E.Either<StorageError, void>> =>
  withTransaction(pool, operation, async (connection) => {
    for (const [sql, values] of statements) {
      const done = await execute(connection, operation, sql, values)
      if (E.isLeft(done)) return done
    }
    return E.right(undefined)
  })

/**
 * `connection` as code of the caller's gets it inside the store's transaction (inline projections' handlers): the
 * same connection, except that a statement that fails in a way that may have ended the transaction (a deadlock) is
 * reported to `onLost` before the error reaches the caller, who may catch it and go on, in autocommit by then.
 */
export const watched = (connection: MysqlPoolConnection, onLost: (cause: unknown) => void): MysqlPoolConnection =>
  new Proxy(connection, {
    get: (target, property) => {
      const value: unknown = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      const method = value as (...args: unknown[]) => unknown
      if (property !== 'execute' && property !== 'query') return method.bind(target)
      return async (...args: unknown[]) => {
        try {
          return await method.apply(target, args)
        } catch (cause) {
          if (mayEndTransaction(cause)) onLost(cause)
          throw cause
        }
      }
    },
  })

/**
 * The pool the options name: the caller's, or one the store creates. mysql2 is imported here, lazily and only
 * for a `uri`, so that `aett/mysql` loads without it when the caller brings a pool.
 */
export const openPool = async (source: MysqlSource): Promise<E.Either<StorageError, MysqlPool>> => {
  if (source._tag === 'pool') return E.right(source.pool)
  try {
    const mysql = await import('mysql2/promise')
    const pool = mysql.createPool({ uri: source.uri, connectionLimit: source.connectionLimit, charset: 'utf8mb4_bin', supportBigNumbers: true })
    return E.right(pool as unknown as MysqlPool)
  } catch (cause) {
    return E.left(storageError('connect', cause))
  }
}

/** Ends the pool only when the store created it; a caller's pool stays open. */
export const closePool = async (source: MysqlSource, pool: MysqlPool): Promise<void> => {
  if (source._tag === 'uri') await pool.end().catch(() => undefined)
}
