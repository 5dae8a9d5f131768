import type { MysqlConfig, MysqlPool } from './config.js'
import { mysqlNames, type MysqlNames } from './schema.js'
import { mysqlStatements, mysqlSubscriptionStatements, type MysqlStatements, type MysqlSubscriptionStatements } from './statements.js'

/** What the store's operations share: the pool, validated options, names and statements (built once). */
export interface MysqlContext {
  readonly pool: MysqlPool
  readonly config: MysqlConfig
  readonly names: MysqlNames
  readonly statements: MysqlStatements
  readonly subscriptionStatements: MysqlSubscriptionStatements
  readonly pageSize: number
}

export const createContext = (config: MysqlConfig, pool: MysqlPool): MysqlContext => {
  const names = mysqlNames(config.tablePrefix)
  return {
    pool,
    config,
    names,
    statements: mysqlStatements(names),
    subscriptionStatements: mysqlSubscriptionStatements(names),
    pageSize: config.pageSize,
  }
}
