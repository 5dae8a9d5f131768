import * as E from 'fp-ts/lib/Either.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import type { MysqlConfig, MysqlPool, MysqlPoolConnection, MysqlQueryable } from './config.js'
import type { MysqlNames } from './schema.js'
import type { MysqlStatements } from './statements.js'

/** What the store's operations share: validated options, statements, and the (possibly lazily created) pool. */
export interface MysqlContext {
  readonly config: MysqlConfig
  readonly names: MysqlNames
  readonly statements: MysqlStatements
  readonly pool: () => Promise<E.Either<StorageError, MysqlPool>>
}

/** Runs one statement; a driver failure comes back as a StorageError (the raw cause is kept). */
export const run = async (
  db: MysqlQueryable,
  operation: string,
  sql: string,
  values: readonly unknown[] = [],
): Promise<E.Either<StorageError, unknown>> => {
  try {
    const [result] = await db.query(sql, values)
    return E.right(result)
  } catch (cause) {
    return E.left(storageError(operation, cause))
  }
}

/** Runs a SELECT and returns its rows. */
export const selectRows = async <R>(
  ctx: MysqlContext,
  operation: string,
  sql: string,
  values: readonly unknown[],
): Promise<E.Either<StorageError, readonly R[]>> => {
  const pool = await ctx.pool()
  if (E.isLeft(pool)) return pool
  const result = await run(pool.right, operation, sql, values)
  if (E.isLeft(result)) return result
  return Array.isArray(result.right) ? E.right(result.right as R[]) : E.left(storageError(operation, new Error('expected rows')))
}

/** A server error (errno) leaves the connection usable; anything else (a lost socket, a protocol error) does not. */
const connectionSurvives = (cause: unknown): boolean => {
  const c = cause as { errno?: unknown; fatal?: unknown } | null
  return typeof c?.errno === 'number' && c.fatal !== true
}

/**
 * Borrows one connection for `use` and always gives it back: released when it is healthy, destroyed when an
 * error may have left it in an unknown state, so that even a pool of one connection survives every error path.
 */
export const withConnection = async <A>(
  ctx: MysqlContext,
  operation: string,
  use: (connection: MysqlPoolConnection) => Promise<E.Either<StorageError, A>>,
): Promise<E.Either<StorageError, A>> => {
  const pool = await ctx.pool()
  if (E.isLeft(pool)) return pool
  let connection: MysqlPoolConnection
  try {
    connection = await pool.right.getConnection()
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

/** Runs `statements` in one transaction on one connection; all or nothing. */
export const inTransaction = (
  ctx: MysqlContext,
  operation: string,
  statements: readonly (readonly [string, readonly unknown[]])[],
): Promise<E.Either<StorageError, void>> =>
  withConnection(ctx, operation, async (connection) => {
    const begun = await run(connection, operation, 'START TRANSACTION')
    if (E.isLeft(begun)) return begun
    for (const [sql, values] of statements) {
      const done = await run(connection, operation, sql, values)
      if (E.isLeft(done)) {
        const rolledBack = await run(connection, operation, 'ROLLBACK')
        // A failed rollback leaves the session in doubt: report it so that the connection is destroyed.
        return E.isLeft(rolledBack) ? rolledBack : done
      }
    }
    const committed = await run(connection, operation, 'COMMIT')
    return E.isLeft(committed) ? committed : E.right(undefined)
  })
