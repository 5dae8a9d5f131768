import Database from 'better-sqlite3'
import * as E from 'fp-ts/lib/Either.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import type { Persistence } from '../../src/eventstore/index.js'
import { sqliteStore, type SqliteStore, type SqliteStoreOptions } from '../../src/sqlite/index.js'
import type { SqliteDatabase } from '../../src/sqlite/config.js'
import type { StoreHarness } from 'aett/testing/contract'
import { uniqueName } from '../support/services.js'

/** A temp directory for this test file, removed with everything in it after the file's tests. */
export const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'aett-sqlite-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A fresh file name in `dir`. */
export const tempFile = (dir: string): string => join(dir, `${uniqueName('store')}.db`)

/** A Right's value, or a throw with the StorageError's message. */
export const orThrow = <A>(r: E.Either<{ readonly message: string; readonly cause?: unknown }, A>): A => {
  if (E.isLeft(r)) throw new Error(r.left.message, { cause: r.left.cause })
  return r.right
}

/** A store with its connection open and configured (the store opens it lazily), or a failed test. */
export const open = async (options: SqliteStoreOptions): Promise<SqliteStore> => {
  const store = sqliteStore(options)
  orThrow(await store.database())
  return store
}

/** The store's connection, or a failed test. */
export const databaseOf = async (store: SqliteStore): Promise<SqliteDatabase> => orThrow(await store.database())

/** Opens and initialises a store or fails the test. */
export const openInitialized = async (options: SqliteStoreOptions): Promise<SqliteStore> => {
  const store = sqliteStore(options)
  orThrow(await store.initialize())
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
