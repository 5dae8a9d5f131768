import * as E from 'fp-ts/lib/Either.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import type { OwnedPgPool, PgListenClient, PgPool, PgPoolClient, PgQueryable, PostgresConfig } from './config.js'
import type { Statement } from './statements.js'

export type Row = Record<string, unknown>

/**
 * The store's only door to the driver: every call returns its failure as a value and no client stays checked
 * out on any path. Single statements go through `pool.query` (which returns the client itself); only
 * `transaction` checks a client out, and always gives it back, discarding it when its state is unknown.
 */
export interface Connection {
  query(operation: string, statement: Statement, values: unknown[]): Promise<E.Either<StorageError, readonly Row[]>>
  transaction<A>(
    operation: string,
    body: (client: PgQueryable) => Promise<E.Either<StorageError, A>>,
  ): Promise<E.Either<StorageError, A>>
  /**
   * A connection of its own for `LISTEN`, outside the pool's normal use: with `connectionString` a new client;
   * with a caller's pool a client checked out of it and kept until `close`. See `notifications.ts`.
   */
  listenClient(): Promise<E.Either<StorageError, ListenClient>>
  /** Ends the pool if the store created it; a caller's pool is left alone. */
  close(): Promise<void>
}

/** A dedicated connection that listens: its notifications, and one call when it is lost (error or end). */
export interface ListenClient {
  run(operation: string, statement: Statement): Promise<E.Either<StorageError, readonly Row[]>>
  onNotification(listener: (channel: string) => void): void
  onLost(listener: (cause: unknown) => void): void
  /** Ends the connection (a pool's client is discarded, never handed back with its LISTEN). Idempotent. */
  close(): void
}

const canListen = (client: PgQueryable): client is PgListenClient => typeof (client as { on?: unknown }).on === 'function'

/** Wraps a connected client; `end` closes it for good. Lost is reported once, whichever event comes first. */
const listening = (client: PgListenClient, end: (cause?: Error) => void): ListenClient => {
  let lost: ((cause: unknown) => void) | undefined
  let notified: ((channel: string) => void) | undefined
  let done = false
  const gone = (cause: unknown) => {
    if (done) return
    done = true
    end(cause instanceof Error ? cause : new Error('the LISTEN connection ended'))
    lost?.(cause)
  }
  client.on('error', gone)
  client.on('end', () => gone(new Error('the LISTEN connection ended')))
  client.on('notification', (m) => notified?.(m.channel))
  return {
    run: (operation, statement) => run(client, operation, statement),
    onNotification: (f) => void (notified = f),
    onLost: (f) => void (lost = f),
    close: () => {
      if (done) return
      done = true
      end()
    },
  }
}

/** Runs one statement on a client (or pool), its failure as a value. */
export const run = async (
  client: PgQueryable,
  operation: string,
  statement: Statement,
  values: unknown[] = [],
): Promise<E.Either<StorageError, readonly Row[]>> => {
  try {
    const result = await client.query(typeof statement === 'string' ? { text: statement, values } : { ...statement, values })
    return E.right(result.rows)
  } catch (cause) {
    return E.left(storageError(operation, cause))
  }
}

/**
 * The pool of a store made from a connection string. `pg` is imported here, lazily, so that `aett/postgres`
 * loads without it when the caller brings a pool.
 */
const ownPool = async (connectionString: string, poolSize: number | undefined): Promise<OwnedPgPool> => {
  const pg = await import('pg')
  const pool = new pg.default.Pool({ connectionString, ...(poolSize === undefined ? {} : { max: poolSize }) })
  // An idle client whose server went away emits 'error' on the pool; unhandled it would end the process. The
  // pool drops that client by itself, and the next query reports the outage as a StorageError.
  pool.on('error', () => undefined)
  return pool as unknown as OwnedPgPool
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

/** Opens the connection the options name: the caller's pool, or a pool of the store's own. */
export const connect = async (connection: PostgresConfig['connection']): Promise<E.Either<StorageError, Connection>> => {
  let pool: PgPool
  let owned: OwnedPgPool | undefined
  if (connection._tag === 'pool') pool = connection.pool
  else {
    try {
      owned = await ownPool(connection.connectionString, connection.poolSize)
    } catch (cause) {
      return E.left(storageError('connect', cause))
    }
    pool = owned
  }

  const abortedMessage =
    'the transaction was rolled back: a statement inside it failed and the error was caught without failing the body ' +
    '(PostgreSQL answered COMMIT with ROLLBACK); nothing of it was stored'
  const transaction = async <A>(
    operation: string,
    body: (client: PgQueryable) => Promise<E.Either<StorageError, A>>,
  ): Promise<E.Either<StorageError, A>> => {
    let client
    try {
      client = await pool.connect()
    } catch (cause) {
      return E.left(storageError(operation, cause))
    }
    let discard: Error | boolean | undefined
    try {
      await client.query({ text: 'BEGIN' })
      const result = await body(client)
      if (E.isRight(result)) {
        const committed = await client.query({ text: 'COMMIT' })
        // A statement that failed inside the body (one a projection's handler caught and ignored, say) aborted the
        // transaction; PostgreSQL then answers COMMIT with ROLLBACK and no error. Nothing was stored: never success.
        if (committed.command === 'ROLLBACK') return E.left(storageError(operation, new Error(abortedMessage)))
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

  const listenClient = async (): Promise<E.Either<StorageError, ListenClient>> => {
    const operation = 'watch (LISTEN connection)'
    if (connection._tag === 'connectionString') {
      try {
        const pg = await import('pg')
        const client = new pg.default.Client({ connectionString: connection.connectionString, keepAlive: true, connectionTimeoutMillis: 10_000 })
        // Until `listening` takes over, an error must not go unhandled (it would end the process).
        client.on('error', () => undefined)
        await client.connect()
        return E.right(listening(client as unknown as PgListenClient, () => void client.end().catch(() => undefined)))
      } catch (cause) {
        return E.left(storageError(operation, cause))
      }
    }
    let client: PgPoolClient
    try {
      client = await pool.connect()
    } catch (cause) {
      return E.left(storageError(operation, cause))
    }
    if (!canListen(client)) {
      client.release()
      return E.left(storageError(operation, new Error("the pool's clients have no on(): they cannot LISTEN")))
    }
    return E.right(listening(client, (cause) => client.release(cause ?? true)))
  }

  return E.right({
    query: (operation, statement, values) => run(pool, operation, statement, values),
    transaction,
    listenClient,
    close: async () => {
      await owned?.end().catch(() => undefined)
    },
  })
}
