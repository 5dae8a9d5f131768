import * as E from 'fp-ts/lib/Either.js'
import { existsSync, statSync } from 'node:fs'
import type { StorageError } from '../eventstore/errors.js'
import type { Persistence } from '../eventstore/ports.js'
import type { Subscribable } from '../eventstore/subscriptionStore.js'
import type { MigrationReport } from '../sql/migrations.js'
import type { SqliteDatabase } from '../sqlite/config.js'
import { failure, storeFailure } from './errors.js'
import type { StoreKind, StoreSpec } from './url.js'

/** A store the command line opened. */
export interface OpenedStore {
  readonly kind: StoreKind
  /** What messages call the store: kind and place, never a password. */
  readonly label: string
  readonly store: Persistence & Subscribable
  /** SQLite's `migrate()` (which reports the versions it applied); other stores migrate in `initialize()`. */
  readonly migrate: (() => Promise<E.Either<StorageError, MigrationReport>>) | undefined
  readonly close: () => Promise<void>
}

/**
 * `read`: the verb only reads, and the store is opened so that it cannot write where the database allows it to be
 * said: a SQLite file is opened read-only (and must exist), a PostgreSQL session runs with
 * `default_transaction_read_only`. MySQL and DynamoDB have no such switch: there, read verbs simply call no
 * method that writes. `write`: an ordinary store (`create` lets `init`/`migrate` create a missing SQLite file).
 */
export type OpenMode = 'read' | 'write' | 'create'

const readOnlyPg = (connectionString: string): string => {
  const url = new URL(connectionString)
  const given = url.searchParams.get('options')
  url.searchParams.set('options', `${given === null ? '' : `${given} `}-c default_transaction_read_only=on`)
  return url.toString()
}

const sqliteFile = (filename: string, mode: OpenMode): void => {
  if (mode === 'create' || filename === ':memory:') return
  if (!existsSync(filename)) throw failure(`sqlite ${filename}: no such file${mode === 'write' ? '; create the store with `aett init`' : ''}`)
  if (!statSync(filename).isFile()) throw failure(`sqlite ${filename}: not a file`)
}

/** Opens (lazily: nothing connects before the first call) the store a URL names; only its own module is loaded. */
export const openStore = async (spec: StoreSpec, mode: OpenMode): Promise<OpenedStore> => {
  switch (spec.kind) {
    case 'memory': {
      const { memoryStore } = await import('../memory/index.js')
      const store = memoryStore()
      const opened: OpenedStore = { kind: 'memory', label: spec.label, store, migrate: undefined, close: () => store.close() }
      if (spec.seed !== undefined) {
        const { importFile } = await import('./ndjson.js')
        await importFile(opened, spec.seed, { progress: false })
      }
      return opened
    }
    case 'sqlite': {
      sqliteFile(spec.filename, mode)
      const { sqliteStore } = await import('../sqlite/index.js')
      const common = spec.tablePrefix === undefined ? {} : { tablePrefix: spec.tablePrefix }
      if (mode === 'read' && spec.filename !== ':memory:') {
        // Read-only at the driver: SQLite itself refuses every write, and nothing (not even WAL mode) is set on the file.
        let database: SqliteDatabase
        try {
          const { default: Database } = await import('better-sqlite3')
          database = new Database(spec.filename, { readonly: true, fileMustExist: true, timeout: 5000 }) as unknown as SqliteDatabase
        } catch (cause) {
          throw failure(`sqlite ${spec.filename}: cannot open: ${cause instanceof Error ? cause.message : String(cause)}`)
        }
        const store = sqliteStore({ ...common, database })
        return {
          kind: 'sqlite',
          label: spec.label,
          store,
          migrate: undefined,
          close: async () => {
            await store.close()
            database.close()
          },
        }
      }
      const store = sqliteStore({ ...common, filename: spec.filename })
      return { kind: 'sqlite', label: spec.label, store, migrate: () => store.migrate(), close: () => store.close() }
    }
    case 'postgres': {
      const { postgresStore } = await import('../postgres/index.js')
      const store = postgresStore({
        connectionString: mode === 'read' ? readOnlyPg(spec.connectionString) : spec.connectionString,
        poolSize: 2,
        notify: false,
        ...(spec.schema === undefined ? {} : { schema: spec.schema }),
      })
      return { kind: 'postgres', label: spec.label, store, migrate: undefined, close: () => store.close() }
    }
    case 'mysql': {
      const { mysqlStore } = await import('../mysql/index.js')
      const store = mysqlStore({ uri: spec.uri, connectionLimit: 2, ...(spec.tablePrefix === undefined ? {} : { tablePrefix: spec.tablePrefix }) })
      return { kind: 'mysql', label: spec.label, store, migrate: undefined, close: () => store.close() }
    }
    case 'dynamodb': {
      // The SDK warns on every start under Node 20 that its releases from 2027 on need Node 22: true, but not about
      // this run, and it would bury the one line a command prints. A user who wants it sets the variable to false.
      process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true'
      const { dynamoDbStore } = await import('../dynamodb/index.js')
      const store = dynamoDbStore({
        clientConfig: {
          ...(spec.region === undefined ? {} : { region: spec.region }),
          ...(spec.endpoint === undefined ? {} : { endpoint: spec.endpoint }),
          maxAttempts: 2,
        },
        ...(spec.tablePrefix === undefined ? {} : { tables: { prefix: spec.tablePrefix } }),
      })
      if (E.isLeft(store.config)) throw storeFailure('dynamodb', spec.label, store.config.left)
      return { kind: 'dynamodb', label: spec.label, store, migrate: undefined, close: () => store.close() }
    }
  }
}
