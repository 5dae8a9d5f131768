import type { PostgresConfig } from './config.js'
import type { Connection } from './connection.js'
import { names, type Names } from './schema.js'
import { statements, type Statements } from './statements.js'

/** What the store's operations share: the connection, the names and statements, the read page size. */
export interface Context {
  readonly db: Connection
  readonly names: Names
  readonly sql: Statements
  readonly pageSize: number
  readonly readWaitMs: number
}

export const createContext = (config: PostgresConfig, db: Connection): Context => {
  const n = names(config)
  return { db, names: n, sql: statements(n), pageSize: config.pageSize, readWaitMs: config.readWaitMs }
}
