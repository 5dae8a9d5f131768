import * as E from 'fp-ts/lib/Either.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import type { OwnedPgPool, PgPool, PgQueryable, PostgresConfig } from './config.js'
import type { Statement } from './statements.js'

type Row = Record<string, unknown>

/**
 * The store's only door to the driver: every call returns its failure as a value and no client stays checked
 * out on any path. Single statements go through `pool.query` (which returns the client itself); only
 * `transaction` checks a client out, and always gives it back, discarding it when its state is unknown.
 */
export interface Database {
  query(operation: string, statement: Statement, values: unknown[]): Promise<E.Either<StorageError, readonly Row[]>>
  transaction<A>(
    operation: string,
    body: (client: PgQueryable) => Promise<E.Either<StorageError, A>>,
  ): Promise<E.Either<StorageError, A>>
  /** Ends the pool if the store created it; a caller's pool is left alone. Idempotent. */
  close(): Promise<void>
}

const ownPool = async (
  connectionString: string,
  poolSize: number | undefined,
): Promise<E.Either<StorageError, OwnedPgPool>> => {
  try {
    // Imported lazily so that `aett/postgres` loads without `pg` when the caller brings a pool.
    const pg = await import('pg')
    const Pool = pg.default.Pool
    const pool = new Pool({ connectionString, ...(poolSize === undefined ? {} : { max: poolSize }) })
    // An idle client whose server went away emits 'error' on the pool; unhandled it would end the process. The
    // pool drops that client by itself, and the next query reports the outage as a StorageError.
    pool.on('error', () => undefined)
    return E.right(pool as unknown as OwnedPgPool)
  } catch (cause) {
    return E.left(storageError('connect', cause))
  }
}

/**
 * Ends a failed transaction. A client whose transaction could not be closed must not go back to the pool (it may
 * still be inside it), so the failure is returned for `release(error)`, which discards the client.
 */
const rollback = async (client: PgQueryable): Promise<Error | boolean | undefined> => {
  try {
    await client.query({ text: 'ROLLBACK' })
    return undefined
  } catch (cause) {
    return cause instanceof Error ? cause : true
  }
}

export const database = (connection: PostgresConfig['connection']): Database => {
  let pool: Promise<E.Either<StorageError, PgPool>> | undefined
  let owned: Promise<E.Either<StorageError, OwnedPgPool>> | undefined
  let closed = false

  const getPool = (): Promise<E.Either<StorageError, PgPool>> => {
    if (closed) return Promise.resolve(E.left(storageError('connect', new Error('the store is closed'))))
    if (pool === undefined) {
      if (connection._tag === 'pool') pool = Promise.resolve(E.right(connection.pool))
      else {
        owned = ownPool(connection.connectionString, connection.poolSize)
        pool = owned
      }
    }
    return pool
  }

  const query = async (operation: string, statement: Statement, values: unknown[]): Promise<E.Either<StorageError, readonly Row[]>> => {
    const p = await getPool()
    if (E.isLeft(p)) return p
    try {
      const result = await p.right.query(typeof statement === 'string' ? { text: statement, values } : { ...statement, values })
      return E.right(result.rows)
    } catch (cause) {
      return E.left(storageError(operation, cause))
    }
  }

  const transaction = async <A>(
    operation: string,
    body: (client: PgQueryable) => Promise<E.Either<StorageError, A>>,
  ): Promise<E.Either<StorageError, A>> => {
    const p = await getPool()
    if (E.isLeft(p)) return p
    let client
    try {
      client = await p.right.connect()
    } catch (cause) {
      return E.left(storageError(operation, cause))
    }
    let discard: Error | boolean | undefined
    try {
      await client.query({ text: 'BEGIN' })
      const result = await body(client)
      if (E.isRight(result)) {
        await client.query({ text: 'COMMIT' })
        return result
      }
      discard = await rollback(client)
      return result
    } catch (cause) {
      discard = await rollback(client)
      return E.left(storageError(operation, cause))
    } finally {
      client.release(discard)
    }
  }

  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    const o = await owned
    if (o !== undefined && E.isRight(o)) await o.right.end().catch(() => undefined)
  }

  return { query, transaction, close }
}
