import type { Database } from './database.js'
import type { Names } from './schema.js'
import type { Statements } from './statements.js'

/** What the store's operations share: the connection, the names and statements, the read page size. */
export interface Context {
  readonly db: Database
  readonly names: Names
  readonly sql: Statements
  readonly pageSize: number
  readonly readWaitMs: number
}
