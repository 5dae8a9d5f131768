import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { StoreShell } from '../eventstore/adapter/defineStore.js'
import { leaseLost, type Lease, type LeaseLost, type SubscriptionStore } from '../eventstore/subscriptionStore.js'
import { underLock, withRetry } from './connection.js'
import { subscriptionStatements, type SqliteContext } from './context.js'
import { encodeCheckpoint, leaseParams, parkedParams, toCheckpoint, toLease, toParked, type LeaseRow, type ParkedRow } from './rows.js'
import type { SubscriptionStatements } from './statements.js'

/**
 * The SQLite store's `SubscriptionStore` (a named extra of the store's layout): leases, checkpoints and parked
 * commits in three tables of the same file (schema version 2), so that every process sharing the file shares them.
 *
 * - Lease expiry is measured by SQLite's clock (`unixepoch('subsec')` inside the statement), never by a value the
 *   client sends; the processes sharing a file are on one machine, so they share that clock.
 * - Every write a lease guards is one conditional statement (`acquire`, `renew`, `release`, `saveCheckpoint`,
 *   `park`), or a `BEGIN IMMEDIATE` transaction (`resetCheckpoint`, `unpark`): SQLite has one writer at a time and a
 *   write statement takes the lock before it reads, so two processes can never both win a check.
 * - `watch` wakes on commits made through this store object only: SQLite has no notifications, so a subscription
 *   in another process sees new commits at its next poll.
 *
 * Every call goes through the shell (a closed store or a bad option answers a `StorageError`) and retries a busy
 * database like the store's other calls.
 */
export const sqliteSubscriptions = (shell: StoreShell<SqliteContext>): SubscriptionStore => {
  const run = <L, A>(operation: string, f: (st: SubscriptionStatements, ctx: SqliteContext) => E.Either<L, A>) =>
    shell.run(operation, (ctx) => withRetry(operation, ctx.retry, () => f(subscriptionStatements(ctx), ctx)))

  return {
    acquire: (name, holder, ttlMs) =>
      run('acquire', (st) => {
        const row = st.acquire.get({ name, holder, ttl: ttlOf(ttlMs) }) as LeaseRow | undefined
        return E.right(row === undefined ? O.none : O.some(toLease(name, row)))
      }),

    renew: (lease, ttlMs) =>
      run('renew', (st): E.Either<LeaseLost, Lease> => {
        const row = st.renew.get({ ...leaseParams(lease), ttl: ttlOf(ttlMs) }) as LeaseRow | undefined
        return row === undefined ? E.left(leaseLost(lease.name, lease.epoch)) : E.right(toLease(lease.name, row))
      }),

    release: (lease) =>
      run('release', (st) => {
        st.release.run(leaseParams(lease))
        return E.right(undefined)
      }),

    lease: (name) =>
      run('lease', (st) => {
        const row = st.lease.get(name) as LeaseRow | undefined
        return E.right(row === undefined ? O.none : O.some(toLease(name, row)))
      }),

    checkpoint: (name) =>
      run('checkpoint', (st) => {
        const row = st.checkpoint.get(name) as readonly unknown[] | undefined
        return E.right(row === undefined ? O.none : O.some(toCheckpoint(row[0])))
      }),

    saveCheckpoint: (lease, checkpoint) =>
      run('saveCheckpoint', (st) => fencedBy(lease, st.saveCheckpoint.run({ ...leaseParams(lease), positions: encodeCheckpoint(checkpoint) }).changes)),

    resetCheckpoint: (name, holder, checkpoint) =>
      run('resetCheckpoint', (st, ctx) =>
        // Only a free lease is taken, never renewed, so that the epoch grows and fences every former holder; it is
        // released in the same write, and the checkpoint moves in the same transaction.
        underLock(ctx.db, (): E.Either<never, O.Option<Lease>> => {
          const row = st.takeForReset.get({ name, holder }) as LeaseRow | undefined
          if (row === undefined) return E.right(O.none)
          if (checkpoint === undefined) st.deleteCheckpoint.run(name)
          else st.writeCheckpoint.run({ name, positions: encodeCheckpoint(checkpoint) })
          return E.right(O.some(toLease(name, row)))
        }),
      ),

    park: (lease, parked) => run('park', (st) => fencedBy(lease, st.park.run(parkedParams(lease, parked)).changes)),

    parked: (name) => run('parked', (st) => E.right((st.parked.all(name) as ParkedRow[]).map(toParked))),

    unpark: (lease, checkpointToken) =>
      run('unpark', (st, ctx) =>
        // A token that is not parked deletes nothing and is no error, so the fence is checked apart, under the lock.
        underLock(ctx.db, (): E.Either<LeaseLost, void> => {
          if (st.holds.get(leaseParams(lease)) === undefined) return E.left(leaseLost(lease.name, lease.epoch))
          st.unpark.run(lease.name, checkpointToken)
          return E.right(undefined)
        }),
      ),

    watch: (wake) => shell.onCommit(() => wake()),
  }
}

/** A fenced write changed nothing: the lease changed hands (or was released), and nothing was written. */
const fencedBy = (lease: Lease, changes: number): E.Either<LeaseLost, void> =>
  changes === 0 ? E.left(leaseLost(lease.name, lease.epoch)) : E.right(undefined)

/** A lease's length in whole milliseconds; a ttl that is not a number is a driver-level failure (a StorageError). */
const ttlOf = (ttlMs: number): number => {
  if (!Number.isFinite(ttlMs)) throw new RangeError(`a lease ttl must be a finite number of ms, got ${String(ttlMs)}`)
  return Math.max(0, Math.round(ttlMs))
}
