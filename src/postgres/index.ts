export { postgresStore, PostgresStore } from './store.js'
export type { HorizonHolder } from './rows.js'
export type {
  PgPool,
  PgListenClient,
  PgNotification,
  PgPoolClient,
  PgQueryable,
  PgQueryConfig,
  PgQueryResult,
  PostgresConnectionOptions,
  PostgresPoolOptions,
  PostgresStoreOptions,
  PostgresTables,
} from './config.js'
export { postgresProjection, type PostgresProjectionTx } from './projections.js'
