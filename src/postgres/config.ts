import * as E from 'fp-ts/lib/Either.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import { groupCommitConfig, type GroupCommitConfig, type GroupCommitOption } from '../sql/groupCommit.js'
import { tokenScheme } from './schema.js'

// -------------------------------------------------------------------------------------
// driver
// -------------------------------------------------------------------------------------

/** What the store reads from a query result: only the rows. */
export interface PgQueryResult {
  readonly rows: readonly Record<string, unknown>[]
  /** The command tag; a COMMIT of a transaction a failed statement aborted answers `ROLLBACK`. */
  readonly command?: string
}

/** A parameterised query; with a `name`, pg prepares it once per connection and reuses the plan. */
export interface PgQueryConfig {
  readonly text: string
  readonly values?: unknown[]
  readonly name?: string
}

/** Anything that runs a parameterised query: a pool, a client. */
export interface PgQueryable {
  query(config: PgQueryConfig): Promise<PgQueryResult>
}

/** A client checked out of a pool; `release(error)` tells the pool to discard it. */
export interface PgPoolClient extends PgQueryable {
  release(destroy?: Error | boolean): void
}

/** A notification as pg hands it to a listening client. */
export interface PgNotification {
  readonly channel: string
  readonly payload?: string
}

/**
 * What `watch` needs of a client it keeps for `LISTEN` (pg's `Client` and pool clients have it): its events. A
 * pool whose clients lack `on` still works; its watchers are then woken by this process's commits only.
 */
export interface PgListenClient extends PgQueryable {
  on(event: 'notification', listener: (message: PgNotification) => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
  on(event: 'end', listener: () => void): unknown
}

/**
 * The few methods of a `pg.Pool` the store calls, so that a caller can pass their own pool (or anything shaped
 * like one) and `aett/postgres` never imports `pg` unless it creates the pool itself.
 */
export interface PgPool extends PgQueryable {
  connect(): Promise<PgPoolClient>
}

/** A pool the store created itself and therefore also ends. */
export interface OwnedPgPool extends PgPool {
  end(): Promise<void>
}

// -------------------------------------------------------------------------------------
// options
// -------------------------------------------------------------------------------------

/** The names of the store's tables inside its schema. */
export interface PostgresTables {
  readonly commits: string
  readonly snapshots: string
  /** Applied schema versions (see `schema.ts`). */
  readonly migrations: string
  /** One row per subscription: its lease (holder, epoch, expiry) and its checkpoint (version 2). */
  readonly subscriptions: string
  /** Commits subscriptions set aside (dead letters, version 2). */
  readonly parked: string
  /** Documents of document projections (version 3). */
  readonly documents: string
}

interface CommonOptions {
  /** Schema that holds the store's tables; `aett` by default. Always quoted, so case is kept. */
  readonly schema?: string
  readonly tables?: Partial<PostgresTables>
  /** Rows fetched per round trip by long reads; 500 by default. */
  readonly pageSize?: number
  /** The store's name in messages; `postgres` by default. */
  readonly name?: string
  /**
   * How long a global read (`getFrom`, `getFromTo`, `getAllTo`) that reached its end keeps waiting, in
   * milliseconds, while commits that are already committed are held back by an older transaction still in flight
   * (see docs/stores/postgres.md); 1000 by default, 0 to return at once. When the wait runs out the read ends
   * early, never skipping: a later read from its last token picks up the rest.
   */
  readonly readWaitMs?: number
  /**
   * How appends wake the subscriptions of other processes watching this store (`LISTEN`); see "Subscriptions" in
   * docs/stores/postgres.md. `true` (the default): coalesced, at most one `NOTIFY` in flight per store object, sent
   * right after a commit in a transaction of its own. `'in-transaction'`: every append sends its `NOTIFY` inside its
   * own statement (one round trip, sent exactly when the commit commits), which PostgreSQL serialises on a global
   * lock held through each commit's WAL flush: with 8 concurrent writers it cost about 70% of append throughput
   * (`bench/src/notify.ts`).
   * `false`: none; other processes find new commits by polling.
   */
  readonly notify?: boolean | 'in-transaction'
  /**
   * Group commit (issue 18): appends of this store object made while its previous batches are in flight share one
   * transaction (one WAL flush), each checked and answered on its own; see "Group commit" in docs/stores/postgres.md.
   * `true` (the default): `maxBatch` 256 (the most one transaction's tokens can number), `maxWaitMs` 0; `false`:
   * one transaction per append.
   */
  readonly groupCommit?: GroupCommitOption
}

/** Use a pool the caller owns; `close()` leaves it open. */
export interface PostgresPoolOptions extends CommonOptions {
  readonly pool: PgPool
}

/** Let the store create (lazily, importing `pg` on first use) and own a pool. */
export interface PostgresConnectionOptions extends CommonOptions {
  readonly connectionString: string
  /** Maximum connections of the store's own pool; pg's default (10) when absent. */
  readonly poolSize?: number
}

export type PostgresStoreOptions = PostgresPoolOptions | PostgresConnectionOptions

/** Validated options: every name is a safe identifier, every number in range. */
export interface PostgresConfig {
  readonly name: string
  readonly schema: string
  readonly tables: PostgresTables
  readonly pageSize: number
  readonly readWaitMs: number
  readonly notify: NotifyMode
  /** Undefined: one transaction per append. */
  readonly groupCommit: GroupCommitConfig | undefined
  readonly connection:
    | { readonly _tag: 'pool'; readonly pool: PgPool }
    | { readonly _tag: 'connectionString'; readonly connectionString: string; readonly poolSize: number | undefined }
}

export const defaultTables: PostgresTables = {
  commits: 'commits',
  snapshots: 'snapshots',
  migrations: 'schema_version',
  subscriptions: 'subscriptions',
  parked: 'parked_commits',
  documents: 'projection_documents',
}
export const defaultSchema = 'aett'
export const defaultPageSize = 500
export const defaultReadWaitMs = 1000
export const defaultGroupCommit = { enabled: true, maxBatch: tokenScheme.ordinals, maxWaitMs: 0 } as const
/** `coalesced`: after commits, at most one in flight; `statement`: inside each append; `off`: none. */
export type NotifyMode = 'coalesced' | 'statement' | 'off'

// PostgreSQL truncates identifiers at 63 bytes; tables keep room for the suffixes of their constraint names.
const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/
const maxSchemaLength = 63
const maxTableLength = 48

const checkName = (what: string, value: unknown, maxLength: number): string | undefined =>
  typeof value === 'string' && identifier.test(value) && value.length <= maxLength
    ? undefined
    : `${what} must match ${String(identifier)} and have at most ${maxLength} characters, got ${JSON.stringify(value)}`

const isPositiveInt = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 1

/**
 * Checks options once, so that a bad schema name is reported as a value instead of reaching SQL. Anything a
 * plain JavaScript caller passes (`undefined`, `null`, a string) is an answer too, never a throw.
 */
export const validateOptions = (options: PostgresStoreOptions | null | undefined): E.Either<StorageError, PostgresConfig> => {
  const fail = (reason: string) => E.left(storageError('configure', new Error(reason)))
  if (typeof options !== 'object' || options === null)
    return fail(`options must be an object with a pool or a connectionString, got ${options === null ? 'null' : typeof options}`)
  const o = options as Partial<PostgresPoolOptions & PostgresConnectionOptions>
  const schema = o.schema ?? defaultSchema
  const tables: PostgresTables = { ...defaultTables, ...o.tables }
  const problem =
    checkName('schema', schema, maxSchemaLength) ??
    checkName('tables.commits', tables.commits, maxTableLength) ??
    checkName('tables.snapshots', tables.snapshots, maxTableLength) ??
    checkName('tables.migrations', tables.migrations, maxTableLength) ??
    checkName('tables.subscriptions', tables.subscriptions, maxTableLength) ??
    checkName('tables.parked', tables.parked, maxTableLength) ??
    checkName('tables.documents', tables.documents, maxTableLength)
  if (problem !== undefined) return fail(problem)
  const all = [tables.commits, tables.snapshots, tables.migrations, tables.subscriptions, tables.parked, tables.documents]
  if (new Set(all).size !== all.length) return fail('table names must differ')
  const pageSize = o.pageSize ?? defaultPageSize
  if (!isPositiveInt(pageSize)) return fail(`pageSize must be a positive integer, got ${String(pageSize)}`)
  const readWaitMs = o.readWaitMs ?? defaultReadWaitMs
  if (typeof readWaitMs !== 'number' || !(readWaitMs >= 0) || !Number.isFinite(readWaitMs))
    return fail(`readWaitMs must be a finite number of milliseconds >= 0, got ${String(readWaitMs)}`)
  const notifyOption: unknown = o.notify ?? true
  const notify: NotifyMode | undefined =
    notifyOption === true ? 'coalesced' : notifyOption === false ? 'off' : notifyOption === 'in-transaction' ? 'statement' : undefined
  if (notify === undefined) return fail(`notify must be true, false or 'in-transaction', got ${String(notifyOption)}`)
  const group = groupCommitConfig(o.groupCommit, defaultGroupCommit, tokenScheme.ordinals)
  if ('error' in group) return fail(group.error)
  const groupCommit = group.config
  const name = o.name ?? 'postgres'
  if (o.pool !== undefined && o.connectionString !== undefined) return fail('give either pool or connectionString, not both')
  if (o.pool !== undefined) {
    const pool = o.pool as Partial<PgPool> | null
    if (typeof pool !== 'object' || pool === null || typeof pool.query !== 'function' || typeof pool.connect !== 'function')
      return fail('pool must have query() and connect()')
    return E.right({ name, schema, tables, pageSize, readWaitMs, notify, groupCommit, connection: { _tag: 'pool', pool: o.pool } })
  }
  if (typeof o.connectionString !== 'string' || o.connectionString.length === 0)
    return fail('give a pool or a connectionString')
  if (o.poolSize !== undefined && !isPositiveInt(o.poolSize))
    return fail(`poolSize must be a positive integer, got ${String(o.poolSize)}`)
  return E.right({
    name,
    schema,
    tables,
    pageSize,
    readWaitMs,
    notify,
    groupCommit,
    connection: { _tag: 'connectionString', connectionString: o.connectionString, poolSize: o.poolSize },
  })
}
