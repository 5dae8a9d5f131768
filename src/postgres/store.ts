import * as E from 'fp-ts/lib/Either.js'
import { defineStore } from '../eventstore/adapter/defineStore.js'
import type { Persistence } from '../eventstore/ports.js'
import * as commits from './commitStore.js'
import { validateOptions, type PostgresStoreOptions } from './config.js'
import { connect } from './connection.js'
import { createContext } from './context.js'
import * as management from './management.js'
import * as snapshots from './snapshotStore.js'

/** The PostgreSQL store: a `Persistence` and nothing more. */
export type PostgresStore = Persistence

/**
 * The PostgreSQL store (PostgreSQL 13 or later); call `initialize()` before first use. Constructing it never
 * throws and opens nothing: an invalid option is the `StorageError` every call answers, and the pool (or, with
 * `connectionString`, the `pg` driver and a pool of the store's own) is taken on the first call. `close()` ends
 * only a pool the store created.
 */
export const postgresStore = (options: PostgresStoreOptions): PostgresStore => {
  const config = validateOptions(options)
  return defineStore({
    name: E.isRight(config) ? config.right.name : 'postgres',
    config,
    connect: async (c) => {
      const db = await connect(c.connection)
      return E.isLeft(db) ? db : E.right(createContext(c, db.right))
    },
    close: (ctx) => ctx.db.close(),
    ops: { ...commits, ...snapshots, ...management },
  })
}

/**
 * @deprecated since 0.2: use `postgresStore(options)`. Kept for one release; `new PostgresStore(options)` returns
 * the same store as `postgresStore(options)`.
 */
// A function used with `new` that returns an object yields that object, so the old spelling costs one line.
export const PostgresStore = function PostgresStore(options: PostgresStoreOptions) {
  return postgresStore(options)
} as unknown as new (options: PostgresStoreOptions) => PostgresStore
