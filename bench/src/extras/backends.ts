import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { mysqlStore } from '../../../src/mysql/index.js'
import { postgresStore, type HorizonHolder } from '../../../src/postgres/index.js'
import { sqliteStore } from '../../../src/sqlite/index.js'
import type { SubscribableStore } from '../../../src/subscriptions/index.js'
import { orThrow } from '../aett/contenders.js'
import { uniqueName } from '../suites/common.js'
import { mysqlUrl } from '../suites/mysql.js'
import { pgUrl } from '../suites/postgres.js'

export type BackendId = 'sqlite' | 'postgres' | 'mysql'

export const backendIds: readonly BackendId[] = ['sqlite', 'postgres', 'mysql']

/** A store on fresh tables, and a second store object on the same tables (a writer that is not the reader). */
export interface FreshStore {
  readonly store: SubscribableStore
  /** Another store object on the same tables, as another process's writer would be (no in-process wake-up). */
  readonly peer: () => Promise<SubscribableStore>
  /** Drops the tables (schema, prefix, file) and closes both store objects. */
  readonly close: () => Promise<void>
  /**
   * Why a global read may be short right now, for a failure message: on PostgreSQL the transaction holding the
   * gap-free horizon back (any session of the cluster), elsewhere nothing.
   */
  readonly stallHint: () => Promise<string>
}

export interface Backend {
  readonly id: BackendId
  readonly title: string
  /** Why the backend cannot run (its server does not answer), or `undefined`. */
  readonly probe: () => Promise<string | undefined>
  /** Server version and settings, once probed. */
  readonly describe: () => string
  readonly fresh: () => Promise<FreshStore>
  /** Removes what `fresh` left (the temporary directory). */
  readonly dispose: () => Promise<void>
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const noHint = async (): Promise<string> => ''

export const describeHolder = (h: HorizonHolder): string =>
  `; the oldest transaction in flight on the cluster, which global reads wait for: ${h.prepared === undefined ? `pid ${h.pid ?? '?'}` : `prepared transaction ${h.prepared}`}` +
  ` in database ${h.database ?? '?'}, application ${JSON.stringify(h.applicationName ?? '')}, ${h.state ?? '?'}` +
  `${h.xactStart === undefined ? '' : `, open for ${((Date.now() - h.xactStart.getTime()) / 1000).toFixed(0)} s`}`

const closeAll = async (stores: readonly SubscribableStore[]): Promise<void> => {
  for (const s of stores) await s.close().catch(() => undefined)
}

/** SQLite on a file of a temporary directory, WAL + synchronous=NORMAL (the main bench's reading mode). */
const sqlite = (): Backend => {
  let dir: string | undefined
  return {
    id: 'sqlite',
    title: 'SQLite (file, WAL, synchronous=NORMAL)',
    probe: async () => undefined,
    describe: () => 'better-sqlite3 on a file in a temporary directory, journal_mode=WAL, synchronous=NORMAL',
    fresh: async () => {
      dir ??= mkdtempSync(join(tmpdir(), 'aett-extras-'))
      const filename = join(dir, `${uniqueName('s')}.db`)
      const store = sqliteStore({ filename, synchronous: 'NORMAL' })
      orThrow('initialize sqlite', await store.initialize())
      const peers: SubscribableStore[] = []
      return {
        store,
        peer: async () => {
          const p = sqliteStore({ filename, synchronous: 'NORMAL' })
          peers.push(p)
          return p
        },
        close: async () => {
          await closeAll([...peers, store])
          for (const suffix of ['', '-wal', '-shm']) rmSync(`${filename}${suffix}`, { force: true })
        },
        stallHint: noHint,
      }
    },
    dispose: async () => {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
      dir = undefined
    },
  }
}

/** PostgreSQL: a schema of its own per fresh store in the `test` database, dropped by the store's `drop()`. */
const postgres = (): Backend => {
  let settings = ''
  return {
    id: 'postgres',
    title: 'PostgreSQL',
    probe: async () => {
      const c = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 })
      c.on('error', () => undefined)
      try {
        await c.connect()
        const r = await c.query<{ v: string; sc: string }>(
          "SELECT current_setting('server_version') AS v, current_setting('synchronous_commit') AS sc",
        )
        settings = `PostgreSQL ${r.rows[0]?.v ?? '?'} (loopback TCP), synchronous_commit=${r.rows[0]?.sc ?? '?'}`
        return undefined
      } catch (e) {
        return `PostgreSQL unreachable at ${pgUrl}: ${message(e)}`
      } finally {
        await c.end().catch(() => undefined)
      }
    },
    describe: () => settings,
    fresh: async () => {
      const schema = uniqueName('aett_extras')
      const store = postgresStore({ connectionString: pgUrl, schema })
      orThrow('initialize postgres', await store.initialize())
      const peers: SubscribableStore[] = []
      return {
        store,
        peer: async () => {
          const p = postgresStore({ connectionString: pgUrl, schema })
          orThrow('initialize postgres peer', await p.initialize())
          peers.push(p)
          return p
        },
        close: async () => {
          await closeAll(peers)
          const dropped = await store.drop()
          await store.close()
          orThrow(`drop schema ${schema}`, dropped)
        },
        stallHint: async () => {
          const held = await store.horizonHolder()
          if (held._tag === 'Left') return `; who holds the horizon is unknown: ${held.left.message}`
          return held.right._tag === 'Some' ? describeHolder(held.right.value) : '; no transaction holds the horizon now'
        },
      }
    },
    dispose: async () => undefined,
  }
}

/** MariaDB/MySQL: a table prefix of its own per fresh store in the `test` database, dropped by the store's `drop()`. */
const mariadb = (): Backend => {
  let settings = ''
  return {
    id: 'mysql',
    title: 'MariaDB',
    probe: async () => {
      let c: mysql.Connection | undefined
      try {
        c = await mysql.createConnection({ uri: mysqlUrl, connectTimeout: 3000 })
        const [rows] = await c.query('SELECT VERSION() AS version, @@innodb_flush_log_at_trx_commit AS flush')
        const s = (rows as { version: string; flush: number }[])[0]
        settings = `${s?.version ?? '?'} (loopback TCP), innodb_flush_log_at_trx_commit=${s?.flush ?? '?'}`
        return undefined
      } catch (e) {
        return `MySQL/MariaDB unreachable at ${mysqlUrl}: ${message(e)}`
      } finally {
        await c?.end().catch(() => undefined)
      }
    },
    describe: () => settings,
    fresh: async () => {
      const tablePrefix = uniqueName('ax')
      const store = mysqlStore({ uri: mysqlUrl, tablePrefix })
      orThrow('initialize mysql', await store.initialize())
      const peers: SubscribableStore[] = []
      return {
        store,
        peer: async () => {
          const p = mysqlStore({ uri: mysqlUrl, tablePrefix })
          orThrow('initialize mysql peer', await p.initialize())
          peers.push(p)
          return p
        },
        close: async () => {
          await closeAll(peers)
          const dropped = await store.drop()
          await store.close()
          orThrow(`drop tables ${tablePrefix}_*`, dropped)
        },
        stallHint: noHint,
      }
    },
    dispose: async () => undefined,
  }
}

export const backend = (id: BackendId): Backend => (id === 'sqlite' ? sqlite() : id === 'postgres' ? postgres() : mariadb())
