import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { StoreShell } from '../eventstore/adapter/defineStore.js'
import type { StorageError } from '../eventstore/errors.js'
import { leaseLost, type Lease, type LeaseLost, type SubscriptionStore } from '../eventstore/subscriptionStore.js'
import { mapRows } from '../sql/rows.js'
import type { Row } from './connection.js'
import type { Context } from './context.js'
import { checkpointJson, parkedParams, toCheckpoint, toLease, toParked } from './rows.js'

/** The first row of a result mapped, if there is one. */
const first = <A>(operation: string, rows: readonly Row[], f: (row: Row) => A): E.Either<StorageError, O.Option<A>> =>
  E.map((xs: A[]) => O.fromNullable(xs[0]))(mapRows(operation, rows, f))

/**
 * The PostgreSQL store's `SubscriptionStore` (the port's contract is in src/eventstore/subscriptionStore.ts): one
 * statement per call, leases dated by the server's clock, every guarded write fenced by the lease row's epoch
 * inside its own statement (see `statements.ts`). `watch` wakes on this store object's commits at once, and on
 * every process's commits through `LISTEN` (see `notifications.ts`). Calls go through the store's shell, so a
 * closed store (or one with a bad option) answers a `StorageError` like every call.
 */
export const postgresSubscriptions = (shell: StoreShell<Context>): SubscriptionStore => {
  const leaseKey = (lease: Lease): unknown[] => [lease.name, lease.holder, lease.epoch]

  /** A fenced write: `LeaseLost` when its statement found no current lease row to write through. */
  const fenced = (operation: string, lease: Lease, text: (ctx: Context) => string, values: unknown[]): Promise<E.Either<StorageError | LeaseLost, void>> =>
    shell.run(operation, async (ctx): Promise<E.Either<StorageError | LeaseLost, void>> => {
      const rows = await ctx.db.query(operation, text(ctx), [...leaseKey(lease), ...values])
      if (E.isLeft(rows)) return rows
      const held = rows.right.length > 0 && Number(rows.right[0]?.['held'] ?? 0) > 0
      return held ? E.right(undefined) : E.left(leaseLost(lease.name, lease.epoch))
    })

  return {
    acquire: (name, holder, ttlMs) =>
      shell.run('acquire', async (ctx) => {
        const rows = await ctx.db.query('acquire', ctx.sql.subscriptions.acquire, [name, holder, Math.ceil(ttlMs)])
        return E.isLeft(rows) ? rows : first('acquire', rows.right, toLease(name))
      }),

    renew: (lease, ttlMs) =>
      shell.run('renew', async (ctx): Promise<E.Either<StorageError | LeaseLost, Lease>> => {
        const rows = await ctx.db.query('renew', ctx.sql.subscriptions.renew, [...leaseKey(lease), Math.ceil(ttlMs)])
        if (E.isLeft(rows)) return rows
        const renewed = first('renew', rows.right, toLease(lease.name))
        if (E.isLeft(renewed)) return renewed
        return O.isSome(renewed.right) ? E.right(renewed.right.value) : E.left(leaseLost(lease.name, lease.epoch))
      }),

    release: (lease) =>
      shell.run('release', async (ctx) => {
        const rows = await ctx.db.query('release', ctx.sql.subscriptions.release, leaseKey(lease))
        return E.isLeft(rows) ? rows : E.right(undefined)
      }),

    lease: (name) =>
      shell.run('lease', async (ctx) => {
        const rows = await ctx.db.query('lease', ctx.sql.subscriptions.lease, [name])
        return E.isLeft(rows) ? rows : first('lease', rows.right, toLease(name))
      }),

    checkpoint: (name) =>
      shell.run('checkpoint', async (ctx) => {
        const rows = await ctx.db.query('checkpoint', ctx.sql.subscriptions.checkpoint, [name])
        return E.isLeft(rows) ? rows : first('checkpoint', rows.right, toCheckpoint)
      }),

    saveCheckpoint: (lease, checkpoint) => fenced('saveCheckpoint', lease, (ctx) => ctx.sql.subscriptions.saveCheckpoint, [checkpointJson(checkpoint)]),

    resetCheckpoint: (name, holder, checkpoint) =>
      shell.run('resetCheckpoint', async (ctx) => {
        const rows = await ctx.db.query('resetCheckpoint', ctx.sql.subscriptions.resetCheckpoint, [name, holder, checkpointJson(checkpoint)])
        return E.isLeft(rows) ? rows : first('resetCheckpoint', rows.right, toLease(name))
      }),

    park: (lease, parked) => fenced('park', lease, (ctx) => ctx.sql.subscriptions.park, parkedParams(parked)),

    parked: (name) =>
      shell.run('parked', async (ctx) => {
        const rows = await ctx.db.query('parked', ctx.sql.subscriptions.parked, [name])
        return E.isLeft(rows) ? rows : mapRows('parked', rows.right, toParked)
      }),

    unpark: (lease, checkpointToken) => fenced('unpark', lease, (ctx) => ctx.sql.subscriptions.unpark, [checkpointToken]),

    watch: (wake) => {
      const offCommit = shell.onCommit(() => wake())
      let stopped = false
      let stopListening: (() => void) | undefined
      // The LISTEN connection needs the store's context; until (or unless: a closed store) it is there, commits
      // of this store object still wake.
      void shell.run('watch', (ctx) => {
        if (!stopped) stopListening = ctx.listener.watch(wake)
        return E.right(undefined)
      })
      return () => {
        stopped = true
        offCommit()
        stopListening?.()
        stopListening = undefined
      }
    },
  }
}
