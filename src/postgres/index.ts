export { postgresStore, PostgresStore } from './store.js'
export type {
  PgPool,
  PgPoolClient,
  PgQueryable,
  PgQueryConfig,
  PgQueryResult,
  PostgresConnectionOptions,
  PostgresPoolOptions,
  PostgresStoreOptions,
  PostgresTables,
} from './config.js'
