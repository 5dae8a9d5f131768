/**
 * `aett/sqlite`: the event store on SQLite through better-sqlite3, on a file or `:memory:`. The driver is a
 * peer dependency, loaded only when the store opens a file itself.
 */
export { openSqliteStore, SqliteStore } from './persistence.js'
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
export { currentSchemaVersion, migrations, type Migration, type MigrationReport, type Names } from './schema.js'
