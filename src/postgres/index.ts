export { PostgresStore, postgresStore } from './PostgresStore.js'
export {
  validateOptions,
  defaultPageSize,
  defaultReadWaitMs,
  defaultSchema,
  defaultTables,
  type PgPool,
  type PgPoolClient,
  type PgQueryable,
  type PgQueryConfig,
  type PgQueryResult,
  type PostgresConfig,
  type PostgresConnectionOptions,
  type PostgresPoolOptions,
  type PostgresStoreOptions,
  type PostgresTables,
} from './config.js'
export { migrations, latestVersion, names, type Migration, type Names } from './schema.js'
export { statements, type NamedStatement, type Statement, type Statements } from './statements.js'
export { appendParams } from './rows.js'
