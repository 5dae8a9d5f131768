import * as E from 'fp-ts/lib/Either.js'
import type * as O from 'fp-ts/lib/Option.js'
import { defineStore } from '../eventstore/adapter/defineStore.js'
import type { StorageError } from '../eventstore/errors.js'
import type { Persistence } from '../eventstore/ports.js'
import type { Subscribable } from '../eventstore/subscriptionStore.js'
import * as commits from './commitStore.js'
import { validateOptions, type PostgresStoreOptions } from './config.js'
import { connect } from './connection.js'
import { createContext } from './context.js'
import { horizonHolder } from './horizonReads.js'
import { readLatest } from './loads.js'
import * as management from './management.js'
import type { HorizonHolder } from './rows.js'
import * as snapshots from './snapshotStore.js'
import { postgresSubscriptions } from './subscriptionStore.js'
import { postgresProjections, type PostgresProjectionTx } from './projections.js'
import type { Projectable } from '../eventstore/projectionStore.js'

/** The PostgreSQL store: a `Persistence` that keeps subscriptions, and says who holds global reads back. */
export type PostgresStore = Persistence &
  Subscribable &
  Projectable<PostgresProjectionTx, 'async'> & {
    /**
     * The transaction that holds the gap-free horizon back, if one is in flight: the oldest open transaction of
     * the cluster (its session's pid, application name and transaction start, or a forgotten prepared
     * transaction). Global reads, and so subscriptions, cannot pass its id until it ends.
     */
    readonly horizonHolder: () => Promise<E.Either<StorageError, O.Option<HorizonHolder>>>
  }

/**
 * The PostgreSQL store (PostgreSQL 13 or later); call `initialize()` before first use. Constructing it never
 * throws and opens nothing: an invalid option is the `StorageError` every call answers, and the pool (or, with
 * `connectionString`, the `pg` driver and a pool of the store's own) is taken on the first call. `close()` ends
 * only a pool the store created, and the LISTEN connection of its subscriptions.
 */
export const postgresStore = (options: PostgresStoreOptions): PostgresStore => {
  const config = validateOptions(options)
  const shell = defineStore({
    name: E.isRight(config) ? config.right.name : 'postgres',
    config,
    connect: async (c) => {
      const db = await connect(c.connection)
      return E.isLeft(db) ? db : E.right(createContext(c, db.right))
    },
    close: (ctx) => {
      ctx.listener.close()
      return ctx.db.close()
    },
    ops: { ...commits, ...snapshots, readLatest, ...management },
  })
  return Object.assign(shell, {
    subscriptions: postgresSubscriptions(shell),
    projections: postgresProjections(shell),
    horizonHolder: () => shell.run('horizonHolder', horizonHolder),
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
