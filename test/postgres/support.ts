import pg from 'pg'
import { afterAll, expect } from 'vitest'
import { postgresStore, type PostgresStore, type PostgresStoreOptions } from '../../src/postgres/index.js'
import type { StoreHarness } from 'aett/testing/contract'
import { pgUrl, serviceAvailable, uniqueName } from '../support/services.js'

/** Probes the server once per file; skips loudly (or fails under AETT_REQUIRE_SERVICES=1) when it is down. */
export const pgAvailable = (): Promise<boolean> =>
  serviceAvailable('PostgreSQL', async () => {
    const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 })
    await client.connect()
    try {
      await client.query('SELECT 1')
    } finally {
      await client.end()
    }
  })

/** A pool for one test file; an idle client killed by the server must not crash the run. */
export const testPool = (config: pg.PoolConfig = {}): pg.Pool => {
  const pool = new pg.Pool({ connectionString: pgUrl, max: 4, ...config })
  pool.on('error', () => undefined)
  return pool
}

/**
 * Stores for one test file: every store gets a schema of its own, named after this run, and `dropAll` removes
 * every schema of the run even when a test failed before disposing its store.
 */
export const pgStores = (prefix = 'aett') => {
  const run = uniqueName(prefix)
  let n = 0
  let current: pg.Pool | undefined
  const shared = Object.assign((): pg.Pool => (current ??= testPool()), {
    reset: (): void => {
      current = undefined
    },
  })
  const schemas = new WeakMap<object, string>()
  const create = (options: Partial<PostgresStoreOptions> = {}): PostgresStore => {
    const schema = options.schema ?? `${run}_${++n}`
    // Test files run in parallel (the torture suite holds transactions open on purpose), and every open writer in
    // the cluster holds global readers back; a generous wait keeps reads that follow a commit deterministic.
    const store = postgresStore({ pool: shared(), schema, pageSize: 5, readWaitMs: 10_000, ...options } as PostgresStoreOptions)
    schemas.set(store, schema)
    return store
  }
  /** The schema a store of `create` lives in. */
  const schemaOf = (store: object): string => schemas.get(store) ?? expect.fail('not a store of this file')
  const dropAll = async (): Promise<void> => {
    // Some files reach the schemas only through pools of their own, so the shared pool may not exist yet.
    const pool = shared()
    const { rows } = await pool.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)', [
      `${run}_`,
    ])
    for (const { nspname } of rows) await pool.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`)
    await pool.end()
    shared.reset()
  }
  const harness = (name: string, options: Partial<PostgresStoreOptions> = {}): StoreHarness => ({
    name,
    create: async () => {
      const store = create(options)
      const init = await store.initialize()
      if (init._tag === 'Left') throw new Error(init.left.message, { cause: init.left.cause })
      return store
    },
    dispose: async (store) => {
      await store.drop()
      await store.close()
    },
  })
  return { run, create, schemaOf, dropAll, harness, pool: shared }
}

/** Registers `dropAll` for the file. */
export const cleanUpAfterAll = (stores: { readonly dropAll: () => Promise<void> }): void => {
  afterAll(async () => {
    await stores.dropAll()
  })
}
