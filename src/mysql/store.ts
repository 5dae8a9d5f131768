import * as E from 'fp-ts/lib/Either.js'
import { defineStore } from '../eventstore/adapter/defineStore.js'
import type { Persistence } from '../eventstore/ports.js'
import type { Subscribable } from '../eventstore/subscriptionStore.js'
import * as commits from './commitStore.js'
import { validateConfig, type MysqlConfig, type MysqlStoreOptions } from './config.js'
import { closePool, openPool } from './connection.js'
import { createContext, type MysqlContext } from './context.js'
import { readLatest } from './loads.js'
import * as management from './management.js'
import * as snapshots from './snapshotStore.js'
import { mysqlSubscriptions } from './subscriptionStore.js'
import { mysqlProjections, type MysqlProjectionTx } from './projections.js'
import type { Projectable } from '../eventstore/projectionStore.js'

/**
 * The MySQL/MariaDB store: a `Persistence` that keeps subscriptions (`subscriptions`: leases, checkpoints and
 * parked commits, in the same database).
 */
export type MysqlStore = Persistence & Subscribable & Projectable<MysqlProjectionTx, 'async'>

/**
 * A MySQL/MariaDB store (MariaDB 10.11+, MySQL 8+); call `initialize()` once before use. Constructing it never
 * throws: a bad option (or none) is the answer of every call. The pool is opened on the first call that needs it;
 * `close()` ends it only when the store created it from a `uri`.
 */
export const mysqlStore = (options: MysqlStoreOptions): MysqlStore => {
  const config = validateConfig(options)
  const shell = defineStore<MysqlConfig, MysqlContext>({
    name: 'mysql',
    config,
    connect: async (cfg) => {
      const pool = await openPool(cfg.source)
      return E.isLeft(pool) ? pool : E.right(createContext(cfg, pool.right))
    },
    close: (ctx) => closePool(ctx.config.source, ctx.pool),
    ops: { ...commits, ...snapshots, readLatest, ...management },
  })
  return { ...shell, subscriptions: mysqlSubscriptions(shell), projections: mysqlProjections(shell) }
}

/**
 * @deprecated since 0.2: use `mysqlStore(options)`. Kept for one release; `new MysqlStore(options)` returns the
 * same store as `mysqlStore(options)`.
 */
export const MysqlStore = function MysqlStore(options: MysqlStoreOptions) {
  return mysqlStore(options)
} as unknown as new (options: MysqlStoreOptions) => MysqlStore
