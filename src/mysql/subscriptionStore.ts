import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { StoreShell } from '../eventstore/adapter/defineStore.js'
import type { StorageError } from '../eventstore/errors.js'
import { leaseLost, type Lease, type LeaseLost, type SubscriptionStore } from '../eventstore/subscriptionStore.js'
import { mapRows, num } from '../sql/rows.js'
import { execute, selectRows, withTransaction } from './connection.js'
import type { MysqlPoolConnection } from './config.js'
import type { MysqlContext } from './context.js'
import { mysqlErrorKind } from './errors.js'
import {
  encodeCheckpoint,
  leaseParameters,
  nameKey,
  parkParameters,
  toCheckpoint,
  toParked,
  toStoredLease,
  type LeaseRow,
  type ParkedRow,
  type StoredLease,
} from './rows.js'

/**
 * The MySQL/MariaDB store's `SubscriptionStore` (a named extra of the store's layout): leases and checkpoints in
 * one row per subscription name, parked commits in a table of their own (schema version 2), in the store's
 * database, so that every process on it shares them.
 *
 * - Lease expiry is the server's clock (`serverNow`, statements.ts) inside the statement, never a value the client
 *   sends. No session lock (`GET_LOCK`) is involved: a paused process keeps its connection and so its session
 *   locks, but not its lease.
 * - Every write is one conditional statement checked by its affected rows: a fenced write names the lease
 *   (`saveCheckpoint`, `renew`, `release`), a take names the epoch it saw free (`acquire`, `resetCheckpoint`), so
 *   two processes can never both win. `park` and `unpark` write the parked table, so they lock the lease row first
 *   (`SELECT ... FOR UPDATE`) in one transaction: a takeover waits for them, and they see it when it came first.
 * - `watch` wakes on commits made through this store object only: MySQL has no notifications, so a subscription in
 *   another process sees new commits at its next poll.
 *
 * Every call goes through the shell: a closed store or a bad option answers a `StorageError`.
 */
export const mysqlSubscriptions = (shell: StoreShell<MysqlContext>): SubscriptionStore => ({
  acquire: (name, holder, ttlMs) => shell.run('acquire', (ctx) => acquire(ctx, name, holder, ttlOf(ttlMs))),

  renew: (lease, ttlMs) =>
    shell.run('renew', async (ctx): Promise<E.Either<StorageError | LeaseLost, Lease>> => {
      const done = await execute(ctx.pool, 'renew', ctx.subscriptionStatements.renewLease, [ttlOf(ttlMs), ...leaseParameters(lease)])
      if (E.isLeft(done)) return done
      const expiry = expiryOf(done.right)
      return expiry === undefined ? E.left(leaseLost(lease.name, lease.epoch)) : E.right(leaseOf(lease.name, lease.holder, lease.epoch, expiry))
    }),

  release: (lease) =>
    shell.run('release', async (ctx) => {
      const done = await execute(ctx.pool, 'release', ctx.subscriptionStatements.releaseLease, leaseParameters(lease))
      return E.isLeft(done) ? done : E.right(undefined)
    }),

  lease: (name) =>
    shell.run('lease', async (ctx) => {
      const stored = await storedLease(ctx, 'lease', name)
      return E.isLeft(stored) ? stored : E.right(O.map((s: StoredLease) => s.lease)(stored.right))
    }),

  checkpoint: (name) =>
    shell.run('checkpoint', async (ctx) => {
      const rows = await selectRows<{ readonly positions: unknown }>(ctx.pool, 'checkpoint', ctx.subscriptionStatements.checkpoint, [nameKey(name)])
      if (E.isLeft(rows)) return rows
      const positions = rows.right[0]?.positions
      if (positions === undefined || positions === null) return E.right(O.none)
      const read = mapRows('checkpoint', [positions], toCheckpoint)
      return E.isLeft(read) ? read : E.right(O.fromNullable(read.right[0]))
    }),

  saveCheckpoint: (lease, checkpoint) =>
    shell.run('saveCheckpoint', async (ctx): Promise<E.Either<StorageError | LeaseLost, void>> => {
      const values = [encodeCheckpoint(checkpoint), ...leaseParameters(lease)]
      const done = await execute(ctx.pool, 'saveCheckpoint', ctx.subscriptionStatements.saveCheckpoint, values)
      return E.isLeft(done) ? done : fencedBy(lease, affectedRows(done.right))
    }),

  resetCheckpoint: (name, holder, checkpoint) =>
    shell.run('resetCheckpoint', (ctx) =>
      // Only a free lease is taken, never renewed, so that the epoch grows and fences every former holder; the
      // same statement moves the checkpoint and releases the lease again.
      take(ctx, 'resetCheckpoint', name, holder, {
        insert: [ctx.subscriptionStatements.insertReset, [nameKey(name), name, nameKey(holder), holder, encodeCheckpoint(checkpoint)]],
        take: (seen) => [ctx.subscriptionStatements.takeReset, [nameKey(holder), holder, encodeCheckpoint(checkpoint), nameKey(name), seen]],
        renew: undefined,
      }),
    ),

  park: (lease, parked) =>
    shell.run('park', (ctx) =>
      fenced(ctx, 'park', lease, (c) => execute(c, 'park', ctx.subscriptionStatements.park, parkParameters(lease, parked))),
    ),

  parked: (name) =>
    shell.run('parked', async (ctx) => {
      const rows = await selectRows<ParkedRow>(ctx.pool, 'parked', ctx.subscriptionStatements.parked, [nameKey(name)])
      return E.isLeft(rows) ? rows : mapRows('parked', rows.right, toParked)
    }),

  unpark: (lease, checkpointToken) =>
    shell.run('unpark', (ctx) =>
      // A token that is not parked deletes nothing and is no error, so the fence is the locked lease row.
      fenced(ctx, 'unpark', lease, (c) => execute(c, 'unpark', ctx.subscriptionStatements.unpark, [nameKey(lease.name), checkpointToken])),
    ),

  watch: (wake) => shell.onCommit(() => wake()),
})

// -------------------------------------------------------------------------------------
// leases
// -------------------------------------------------------------------------------------

/** How many times a take that lost a race to a concurrent one reads the row again before it answers None. */
const takeAttempts = 5

type Statement = readonly [string, readonly unknown[]]

/** What a take runs: the first row of a name; the take of a free lease, or the renewal of its own, at the epoch read. */
interface TakeStatements {
  readonly insert: Statement
  readonly take: (seenEpoch: number) => Statement
  /** Absent for a reset, which never renews. */
  readonly renew: ((seenEpoch: number) => Statement) | undefined
}

/**
 * Takes `name`'s lease for `holder` when it is free (the epoch grows), or renews it when `holder` holds it live:
 * reads the row, decides, then writes with a compare-and-set that holds only while the row is as read. A write
 * that matched nothing lost a race, and the row is read again.
 */
const take = async (
  ctx: MysqlContext,
  operation: string,
  name: string,
  holder: string,
  statements: TakeStatements,
): Promise<E.Either<StorageError, O.Option<Lease>>> => {
  const mine = nameKey(holder)
  for (let attempt = 0; attempt < takeAttempts; attempt++) {
    const stored = await storedLease(ctx, operation, name)
    if (E.isLeft(stored)) return stored
    const row = O.toUndefined(stored.right)
    let statement: Statement
    let epoch: number
    if (row === undefined) [statement, epoch] = [statements.insert, 1]
    else if (!row.live) [statement, epoch] = [statements.take(row.lease.epoch), row.lease.epoch + 1]
    else if (statements.renew !== undefined && row.holderKey.equals(mine)) [statement, epoch] = [statements.renew(row.lease.epoch), row.lease.epoch]
    else return E.right(O.none)
    const done = await execute(ctx.pool, operation, statement[0], statement[1])
    if (E.isLeft(done)) {
      // Another instance wrote the name's first row in between: read it.
      if (row === undefined && mysqlErrorKind(done.left.cause) === 'duplicateKey') continue
      return done
    }
    const expiry = expiryOf(done.right)
    if (expiry !== undefined) return E.right(O.some(leaseOf(name, holder, epoch, expiry)))
  }
  return E.right(O.none)
}

const acquire = (ctx: MysqlContext, name: string, holder: string, ttl: number): Promise<E.Either<StorageError, O.Option<Lease>>> => {
  const st = ctx.subscriptionStatements
  const [n, h] = [nameKey(name), nameKey(holder)]
  return take(ctx, 'acquire', name, holder, {
    insert: [st.insertLease, [n, name, h, holder, ttl]],
    take: (seen) => [st.takeLease, [h, holder, ttl, n, seen]],
    renew: (seen) => [st.renewLiveLease, [ttl, n, h, seen]],
  })
}

const storedLease = async (ctx: MysqlContext, operation: string, name: string): Promise<E.Either<StorageError, O.Option<StoredLease>>> => {
  const rows = await selectRows<LeaseRow>(ctx.pool, operation, ctx.subscriptionStatements.lease, [nameKey(name)])
  if (E.isLeft(rows)) return rows
  const read = mapRows(operation, rows.right, (row) => toStoredLease(name, row))
  return E.isLeft(read) ? read : E.right(O.fromNullable(read.right[0]))
}

/**
 * Runs `write` in a transaction that first locks the lease row while `lease` is current: `LeaseLost` and nothing
 * written otherwise. A takeover's UPDATE of that row waits for the transaction, so the check holds until COMMIT.
 */
const fenced = (
  ctx: MysqlContext,
  operation: string,
  lease: Lease,
  write: (c: MysqlPoolConnection) => Promise<E.Either<StorageError, unknown>>,
): Promise<E.Either<StorageError | LeaseLost, void>> =>
  withTransaction(ctx.pool, operation, async (c): Promise<E.Either<StorageError, E.Either<LeaseLost, void>>> => {
    const locked = await selectRows(c, operation, ctx.subscriptionStatements.fence, leaseParameters(lease))
    if (E.isLeft(locked)) return locked
    if (locked.right.length === 0) return E.right(E.left(leaseLost(lease.name, lease.epoch)))
    const done = await write(c)
    return E.isLeft(done) ? done : E.right(E.right(undefined))
  }).then(E.flattenW)

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const leaseOf = (name: string, holder: string, epoch: number, expiresAt: number): Lease => ({ name, holder, epoch, expiresAt: new Date(expiresAt) })

const affectedRows = (result: unknown): number => num((result as { affectedRows?: unknown } | null)?.affectedRows ?? 0)

/**
 * The expiry a lease write set, by the server's clock: the statements pass it to `LAST_INSERT_ID(expr)`, which the
 * server hands back as the result's `insertId`. `undefined` when the write matched no row (it lost its race).
 */
const expiryOf = (result: unknown): number | undefined => {
  if (affectedRows(result) === 0) return undefined
  const expiry = num((result as { insertId?: unknown }).insertId ?? 0)
  if (expiry <= 0) throw new TypeError('the server did not hand back the lease expiry (LAST_INSERT_ID)')
  return expiry
}

/** A fenced write changed nothing: the lease changed hands (or was released), and nothing was written. */
const fencedBy = (lease: Lease, changes: number): E.Either<LeaseLost, void> =>
  changes === 0 ? E.left(leaseLost(lease.name, lease.epoch)) : E.right(undefined)

/** A lease's length in whole milliseconds; a ttl that is not a finite number is a StorageError (thrown into the shell). */
const ttlOf = (ttlMs: number): number => {
  if (!Number.isFinite(ttlMs)) throw new RangeError(`a lease ttl must be a finite number of ms, got ${String(ttlMs)}`)
  return Math.max(0, Math.round(ttlMs))
}
