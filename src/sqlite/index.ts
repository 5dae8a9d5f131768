/**
 * `aett/sqlite`: the event store on SQLite through better-sqlite3, on a file or `:memory:`. The driver is a
 * peer dependency, loaded only when the store opens a file itself.
 */
export { sqliteStore, openSqliteStore, type SqliteStore } from './store.js'
export type {
  SqliteCommonOptions,
  SqliteDatabase,
  SqliteDatabaseOptions,
  SqliteFileOptions,
  SqliteRunResult,
  SqliteStatement,
  SqliteStoreOptions,
  Synchronous,
} from './config.js'
export type { MigrationReport } from './schema.js'
export { sqliteProjection } from './projections.js'
