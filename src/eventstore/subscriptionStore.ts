import type { Either } from 'fp-ts/lib/Either.js'
import type { Option } from 'fp-ts/lib/Option.js'
import type { Json } from './Json.js'
import type { StorageError } from './errors.js'

/**
 * Where a subscription has got to: one position (the last checkpoint token handled) per feed shard (SEMANTICS 7).
 * A store with one feed has the single shard `'0'`. Opaque to users: read it with `status()`, move it with `reset`.
 */
export interface Checkpoint {
  readonly positions: Readonly<Record<string, number>>
}

/**
 * The right to run subscription `name`, held by `holder` until `expiresAt` (measured by the database's clock).
 * `epoch` grows by one every time the lease changes hands; every checkpoint write is conditioned on it (fenced), so
 * a former holder that was paused or cut off can never move the checkpoint once another holder took over.
 */
export interface Lease {
  readonly name: string
  readonly holder: string
  readonly epoch: number
  readonly expiresAt: Date
}

/** A commit a subscription could not handle and set aside (its dead-letter policy), with why. */
export interface ParkedCommit {
  readonly name: string
  readonly checkpointToken: number
  readonly tenantId: string
  readonly streamId: string
  readonly error: Json
  readonly parkedAt: Date
}

/** A fenced write found that the lease changed hands (or was never held): nothing was written. */
export interface LeaseLost {
  readonly _tag: 'LeaseLost'
  readonly name: string
  readonly epoch: number
}

export const leaseLost = (name: string, epoch: number): LeaseLost => ({ _tag: 'LeaseLost', name, epoch })

/**
 * What a store keeps for its subscriptions, in its own database (created by its migrations): checkpoints,
 * leases and parked commits. Every write that a lease guards is conditioned on the lease's epoch.
 *
 * The fence, exactly: a guarded write (`saveCheckpoint`, `park`, `unpark`) succeeds only while the stored lease of
 * `name` has the write's `epoch` and `holder` and has not been released; otherwise it writes nothing and answers
 * `LeaseLost`. Expiry alone does not end the fence: an expired lease that nobody took yet still fences for its
 * holder (and `renew` extends it), because a takeover always grows the epoch. The check and the write are one
 * atomic step (one transaction, or one conditional write). `drop()` of the store removes all of it; `purge` keeps it.
 * Names are storable strings of at most 256 bytes of UTF-8 (the subscription runtime checks them).
 */
export interface SubscriptionStore {
  /**
   * Takes the lease of `name` for `holder` when nobody holds it or its holder let it expire (the epoch grows), or
   * renews it when `holder` holds it already. `None`: another holder has it, until the lease's `expiresAt`.
   * Taking a free lease (never held, released, or expired) always grows the epoch, even for its former holder;
   * renewing a live lease of `holder` keeps it. `expiresAt` is the database's now plus `ttlMs`.
   */
  acquire(name: string, holder: string, ttlMs: number): Promise<Either<StorageError, Option<Lease>>>
  /** Extends a held lease; `LeaseLost` when it changed hands (or expired and was taken). */
  renew(lease: Lease, ttlMs: number): Promise<Either<StorageError | LeaseLost, Lease>>
  /**
   * Gives a held lease up so that a standby takes over at once (its expiry moves to now and it no longer fences:
   * a later guarded write with it is `LeaseLost`); a lease no longer held (another epoch or holder) is left alone.
   */
  release(lease: Lease): Promise<Either<StorageError, void>>
  /** The current lease of `name`, held, expired or released (then `expiresAt` is not in the future), if any. */
  lease(name: string): Promise<Either<StorageError, Option<Lease>>>

  /** The stored checkpoint of `name`, if any. */
  checkpoint(name: string): Promise<Either<StorageError, Option<Checkpoint>>>
  /** Stores `checkpoint` for `name` only while `lease` (its epoch) is current: fenced. */
  saveCheckpoint(lease: Lease, checkpoint: Checkpoint): Promise<Either<StorageError | LeaseLost, void>>
  /**
   * Moves `name`'s checkpoint by hand (a reset), through the same fence: it takes the lease itself as `holder`
   * (the epoch grows, so every former holder is fenced off), stores `checkpoint` (`undefined`: removes it, so that
   * the subscription's `start` applies again) and releases the lease; `Some(lease)` is the lease it took.
   * `None`: a live lease of another holder is in the way, and nothing was written.
   */
  resetCheckpoint(name: string, holder: string, checkpoint: Checkpoint | undefined): Promise<Either<StorageError | LeaseLost, Option<Lease>>>

  /** Sets a commit aside for `name`, fenced like a checkpoint write; parking a token again replaces its record. */
  park(lease: Lease, parked: ParkedCommit): Promise<Either<StorageError | LeaseLost, void>>
  /** The commits parked for `name`, oldest token first. */
  parked(name: string): Promise<Either<StorageError, readonly ParkedCommit[]>>
  /** Removes a parked commit (after it was replayed), fenced; a token that is not parked is not an error. */
  unpark(lease: Lease, checkpointToken: number): Promise<Either<StorageError | LeaseLost, void>>

  /**
   * Calls `wake` soon after a commit is appended, so that a live subscription need not wait for its next poll:
   * at least for commits made through this store object in this process; on PostgreSQL for every writer
   * (LISTEN/NOTIFY). Only a wake-up: correctness never depends on it. Returns the call that stops it.
   */
  watch(wake: () => void): () => void
}

/** A store that keeps subscriptions: every store of the kit is one. */
export interface Subscribable {
  readonly subscriptions: SubscriptionStore
}

/**
 * The session that holds a store's read horizon back (PostgreSQL: the oldest transaction still running, which
 * gap-free reads must wait behind), as `status()` shows it.
 */
export interface HorizonSession {
  readonly pid: number | undefined
  readonly applicationName: string | undefined
  readonly xactStart: Date | undefined
}

/** A store that can name the session holding its read horizon back (PostgreSQL). */
export interface HorizonReporter {
  horizonHolder(): Promise<Either<StorageError, Option<HorizonSession>>>
}

/**
 * A view of one feed shard of a store whose log is split into several (SEMANTICS 7; DynamoDB's `store.feed(k)`): its
 * `getFrom`/`getFromTo` read that shard only, its subscription store keeps leases of its own, and a checkpoint of a
 * subscription on it keeps its position under this key. A store without it has one feed, shard `'0'`.
 */
export interface FeedShardView {
  readonly feedShard: string
}
