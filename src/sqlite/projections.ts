import * as E from 'fp-ts/lib/Either.js'
import type { StoreShell } from '../eventstore/adapter/defineStore.js'
import { singleShardPosition, type ProjectionStore } from '../eventstore/projectionStore.js'
import { leaseLost, type LeaseLost } from '../eventstore/subscriptionStore.js'
import type { SqliteDatabase, SqliteStatement } from './config.js'
import { underLock, withRetry } from './connection.js'
import { subscriptionStatements, type SqliteContext } from './context.js'
import { encodeCheckpoint, toCheckpoint } from './rows.js'
import type { SubscriptionStatements } from './statements.js'
import { projectionFor } from '../projections/define.js'

/** The two statements of a replay that the subscription store does not have, prepared once per statement set. */
interface ParkedStatements {
  readonly isParked: SqliteStatement
}
const prepared = new WeakMap<SubscriptionStatements, ParkedStatements>()

const parkedStatements = (ctx: SqliteContext, st: SubscriptionStatements): ParkedStatements => {
  let p = prepared.get(st)
  if (p === undefined) {
    p = { isParked: ctx.db.prepare(`SELECT 1 FROM ${ctx.names.parked} WHERE name = ? AND checkpoint_token = ?`).safeIntegers(false).raw(true) }
    prepared.set(st, p)
  }
  return p
}

/**
 * The SQLite store's part of transactional projections (a named extra of the store's layout): each batch runs
 * in one `BEGIN IMMEDIATE` transaction on the store's own connection, together with the fenced checkpoint write,
 * and the handlers receive that connection (the better-sqlite3 `Database`). Handlers are synchronous: a
 * better-sqlite3 transaction cannot span an `await`, and nothing else (an append, another projection) can run on
 * the connection while one is open. A busy database retries the whole transaction, handlers included (what they
 * wrote was rolled back with it).
 */
export const sqliteProjections = (shell: StoreShell<SqliteContext>): ProjectionStore<SqliteDatabase, 'sync'> => ({
  mode: 'sync',
  transact: (fence, position, items, apply) =>
    shell.run('project', (ctx) =>
      withRetry('project', ctx.retry, () =>
        underLock(ctx.db, () => {
          const st = subscriptionStatements(ctx)
          const params = { name: fence.name, holder: fence.holder, epoch: fence.epoch }
          if (st.holds.get(params) === undefined) return E.left<LeaseLost>(leaseLost(fence.name, fence.epoch))
          const row = st.checkpoint.get(fence.name) as readonly unknown[] | undefined
          const stored = row === undefined ? 0 : singleShardPosition(toCheckpoint(row[0]).positions)
          for (const item of items) {
            const token = item.checkpointToken
            if (token <= stored) {
              // Below the checkpoint only a parked commit (a replay) is applied; anything else was applied already.
              if (parkedStatements(ctx, st).isParked.get(fence.name, token) === undefined) continue
              st.unpark.run(fence.name, token)
            }
            const applied = apply(ctx.db, item)
            if (E.isLeft(applied)) return applied
          }
          st.writeCheckpoint.run({ name: fence.name, positions: encodeCheckpoint({ positions: { '0': Math.max(stored, position) } }) })
          return E.right(undefined)
        }),
      ),
    ),
})

/**
 * A transactional projection for the SQLite store: `sqliteProjection({ name, topics, handlers })`, whose handlers
 * receive the better-sqlite3 `Database` inside the batch's transaction and must answer at once (no promise).
 */
export const sqliteProjection = projectionFor<SqliteDatabase, 'sync'>('sync')
