import type { SqliteConfig, SqliteDatabase } from './config.js'
import type { GroupCommitConfig } from './groupCommit.js'
import { retryPolicy, type Connection, type RetryPolicy } from './connection.js'
import { names, type Names } from './schema.js'
import { prepareStatements, prepareSubscriptionStatements, type Statements, type SubscriptionStatements } from './statements.js'

/** What the store's operations share: one connection, its table names, its prepared statements. */
export interface SqliteContext {
  readonly name: string
  readonly connection: Connection
  readonly db: SqliteDatabase
  readonly names: Names
  readonly pageSize: number
  readonly retry: RetryPolicy
  /** Appends of one turn share one transaction (see groupCommit.ts); undefined: one transaction per append. */
  readonly groupCommit: GroupCommitConfig | undefined
  /** Prepared on first use (the schema must exist by then); forgotten by `drop()` and `close()`. */
  prepared: Statements | undefined
  /** The subscription store's statements, prepared apart on first use (schema version 2); forgotten likewise. */
  preparedSubscriptions: SubscriptionStatements | undefined
  /** Set by `close()`: a read still paging, or a connection passed in, must stop working too. */
  closed: boolean
}

export const createContext = (config: SqliteConfig, connection: Connection): SqliteContext => ({
  name: config.name,
  connection,
  db: connection.db,
  names: names(config.tablePrefix),
  pageSize: config.pageSize,
  retry: retryPolicy(config),
  groupCommit: config.groupCommit,
  prepared: undefined,
  preparedSubscriptions: undefined,
  closed: false,
})

/** The store's prepared statements; throws the driver's error when they cannot be prepared (no schema yet). */
export const statements = (ctx: SqliteContext): Statements => {
  if (ctx.closed) throw new Error(`the ${ctx.name} store is closed`)
  return (ctx.prepared ??= prepareStatements(ctx.db, ctx.names))
}

/** The subscription store's prepared statements; throws the driver's error when the file predates them. */
export const subscriptionStatements = (ctx: SqliteContext): SubscriptionStatements => {
  if (ctx.closed) throw new Error(`the ${ctx.name} store is closed`)
  return (ctx.preparedSubscriptions ??= prepareSubscriptionStatements(ctx.db, ctx.names))
}

/** Forgets every prepared statement (after `drop()`, and at `close()`). */
export const forgetStatements = (ctx: SqliteContext): void => {
  ctx.prepared = undefined
  ctx.preparedSubscriptions = undefined
}
