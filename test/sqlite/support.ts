import Database from 'better-sqlite3'
import * as E from 'fp-ts/lib/Either.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import type { Persistence } from '../../src/eventstore/index.js'
import { openSqliteStore, type SqliteStore, type SqliteStoreOptions } from '../../src/sqlite/index.js'
import type { StoreHarness } from '../contract/harness.js'
import { uniqueName } from '../support/services.js'

/** A temp directory for this test file, removed with everything in it after the file's tests. */
export const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'aett-sqlite-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A fresh file name in `dir`. */
export const tempFile = (dir: string): string => join(dir, `${uniqueName('store')}.db`)

/** Opens a store or fails the test with the StorageError's message. */
export const open = async (options: SqliteStoreOptions): Promise<SqliteStore> => {
  const r = await openSqliteStore(options)
  if (E.isLeft(r)) throw new Error(r.left.message, { cause: r.left.cause })
  return r.right
}

/** Opens and initialises a store or fails the test. */
export const openInitialized = async (options: SqliteStoreOptions): Promise<SqliteStore> => {
  const store = await open(options)
  const init = await store.initialize()
  if (E.isLeft(init)) throw new Error(init.left.message, { cause: init.left.cause })
  return store
}

const disposeStore = async (store: Persistence) => {
  await store.drop()
  await store.close()
}

/** The contract harness on temp files: one file per store, each with its own table prefix too. */
export const fileHarness = (dir: string): StoreHarness => ({
  name: 'sqlite (file)',
  create: () => openInitialized({ filename: tempFile(dir), tablePrefix: `${uniqueName('t')}_`, pageSize: 5 }),
  dispose: disposeStore,
  failing: async () => {
    // A connection closed under the store: every call meets the driver's "database is not open" error.
    const db = new Database(tempFile(dir))
    const store = await open({ database: db, pageSize: 5 })
    db.close()
    return store
  },
})

/** The contract harness on `:memory:` databases, one connection (so one database) per store. */
export const memoryHarness: StoreHarness = {
  name: 'sqlite (:memory:)',
  create: () => openInitialized({ filename: ':memory:', pageSize: 5 }),
  dispose: disposeStore,
}
