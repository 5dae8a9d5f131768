/**
 * `aett/mysql`: the event store on MySQL 8+ or MariaDB 10.11+, over a mysql2 promise pool.
 *
 * @example
 * const store = mysqlStore({ uri: 'mysql://root@127.0.0.1:3306/test', tablePrefix: 'orders' })
 * await store.initialize()
 */
export { mysqlStore, MysqlStore } from './store.js'
export type {
  MysqlPool,
  MysqlPoolConnection,
  MysqlPoolOptions,
  MysqlQueryable,
  MysqlStoreOptions,
  MysqlUriOptions,
} from './config.js'
export { mysqlErrorKind, type MysqlErrorKind } from './errors.js'
export { mysqlProjection, type MysqlProjectionTx } from './projections.js'
