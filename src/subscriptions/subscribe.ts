import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { Commit } from '../eventstore/Commit.js'
import { storageError, type InvalidArgument, type ReadError, type StorageError } from '../eventstore/errors.js'
import type { Json } from '../eventstore/Json.js'
import { leaseLost, type Checkpoint, type HorizonReporter, type HorizonSession, type Lease, type LeaseLost, type SubscriptionStore } from '../eventstore/subscriptionStore.js'
import {
  subscriptionStopped,
  type CaughtUpError,
  type HandlerFailed,
  type LastError,
  type ReplayError,
  type StatusError,
  type SubscriptionFailure,
} from './errors.js'
import { deliver, failureJson, streamKey, type Delivery, type DeliveryControl, type Item } from './handling.js'
import { settingsOf, type BatchContext, type DecodedOptions, type Handler, type RawOptions, type Settings } from './options.js'
import { blockersOf, replayWith, type ReplayReport } from './parking.js'
import { BatchReader, checkpointAt, lagAfter, positionOf, positionOfStart, shardOf } from './positions.js'
import { preparer, type Prepared } from './source.js'
import { backoff, sleep, Waker } from './timing.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Where an instance is: `starting` (not yet asked for the lease), `standby` (another instance holds it),
 * `catching-up` (reading full batches), `live` (at the head, waiting for commits), `stopped`, `failed` (a
 * `SubscriptionFailure`: see `lastError`).
 */
export type SubscriptionState = 'starting' | 'standby' | 'catching-up' | 'live' | 'stopped' | 'failed'

/** What `status()` answers: the stored checkpoint and lease (whoever holds it), the lag, and this instance's state. */
export interface Status<E> {
  readonly name: string
  /** This instance's holder name. */
  readonly holder: string
  readonly state: SubscriptionState
  /** Whether this instance holds the lease now. */
  readonly holding: boolean
  /** The stored lease, whichever instance holds (or held) it. */
  readonly lease: Lease | undefined
  /** The stored checkpoint; `undefined` before the first instance started. */
  readonly checkpoint: Checkpoint | undefined
  /** The stored checkpoint's position: the last token handled (or moved over). */
  readonly position: number
  /** The last token of the log (of the source's tenant, when it has one). */
  readonly headToken: number
  /**
   * Commits after the position (counted up to 100,000: `atLeast` says there are more), and how long ago the oldest
   * of them was stamped (0 when none).
   */
  readonly lag: { readonly commits: number; readonly atLeast: boolean; readonly ms: number }
  readonly parked: number
  readonly lastError: LastError<E> | undefined
  /**
   * On a store that can tell (PostgreSQL), the session whose open transaction holds the read horizon back, when
   * one does: a subscription cannot read past it, so a lag that does not shrink often has this cause.
   */
  readonly horizonHolder?: HorizonSession
}

/** A running subscription. Every call answers a value; none throws. */
export interface Subscription<E> {
  readonly name: string
  readonly holder: string
  /**
   * Resolves once this instance has handled every commit visible when it was called (and saved its checkpoint):
   * a read that started after the call found the head. A standby waits until it holds the lease and has caught up.
   * A `Left` when the subscription fails or stops first.
   */
  caughtUp(): Promise<E.Either<CaughtUpError<E>, Checkpoint>>
  status(): Promise<E.Either<StatusError, Status<E>>>
  /**
   * Stops: waits for the batch in hand (its handler call, then its checkpoint; no more retries), then releases the
   * lease so that a standby takes over at once. Idempotent.
   */
  stop(): Promise<void>
  /**
   * Replays parked commits (those of `tokens`, or all) through this instance's handler, between two batches, and
   * unparks those handled. A `LeaseHeld` when this instance is not the holder (run it on the holder, or use the
   * module's `replayParked` while no instance runs).
   */
  replayParked(tokens?: readonly number[]): Promise<E.Either<ReplayError, ReplayReport<E>>>
}

type Outcome<E> = Delivery<E> | { readonly kind: 'fail'; readonly error: SubscriptionFailure<E> }
const ok = { kind: 'ok' } as const

const LAG_LIMIT = 100_000

// -------------------------------------------------------------------------------------
// subscribe
// -------------------------------------------------------------------------------------

/**
 * Follows the store's log from the subscription's stored checkpoint (or `start`), once per `name` across every
 * instance (a lease, fenced checkpoint writes), handing batches to `handler`; catches up, then goes live. See
 * docs/subscriptions.md. A bad option is an `InvalidArgument`; everything else is reported by the handle.
 */
export function subscribe<E = never>(options: RawOptions<E>): E.Either<InvalidArgument, Subscription<E>>
export function subscribe<Ev extends { readonly type: string }, E = never>(options: DecodedOptions<Ev, E>): E.Either<InvalidArgument, Subscription<E>>
export function subscribe<E>(options: RawOptions<E> | DecodedOptions<{ readonly type: string }, E>): E.Either<InvalidArgument, Subscription<E>> {
  const settings = settingsOf(options)
  if (E.isLeft(settings)) return settings
  const s = settings.right
  const prepare = preparer(s.name, s.source, s.onFailure, options.decode)
  const runner = new Runner<unknown, E>(s, prepare, options.handler as Handler<unknown, E>)
  runner.start()
  return E.right({
    name: s.name,
    holder: s.holder,
    caughtUp: () => runner.caughtUp(),
    status: () => runner.status(),
    stop: () => runner.stop(),
    replayParked: (tokens) => runner.replay(tokens),
  })
}

// -------------------------------------------------------------------------------------
// runner
// -------------------------------------------------------------------------------------

/** Calls a port method, turning a throw (a store outside the kit) into a `StorageError`. */
const guard = async <L, A>(operation: string, call: () => Promise<E.Either<L, A>>): Promise<E.Either<L | StorageError, A>> => {
  try {
    return await call()
  } catch (cause) {
    return E.left(storageError(operation, cause))
  }
}

/** A batch read in flight: where it starts, how many it asks for, and its number (caughtUp waiters count reads). */
interface PendingRead {
  readonly from: number
  readonly size: number
  readonly readNumber: number
  readonly batch: Promise<E.Either<ReadError, Commit[]>>
}

interface Waiter<E> {
  readonly after: number
  readonly resolve: (r: E.Either<CaughtUpError<E>, Checkpoint>) => void
}

interface ReplayRequest<E> {
  readonly tokens: readonly number[] | undefined
  readonly resolve: (r: E.Either<ReplayError, ReplayReport<E>>) => void
}

/** Everything that belongs to one tenure of the lease. */
interface Tenure {
  lease: Lease
  lost: boolean
  /** Local time until which the lease surely holds (the renewal's request time plus the ttl). */
  validUntil: number
  readonly abort: AbortController
  heartbeat: ReturnType<typeof setTimeout> | undefined
  ended: boolean
  position: number
  readonly parkedTokens: Set<number>
  /** Each parked stream's lowest parked token: its later commits are parked behind it. */
  readonly blocked: Map<string, number>
}

class Runner<A, E> {
  private state: SubscriptionState = 'starting'
  private lastError: LastError<E> | undefined
  private stopping = false
  private readonly stopped = new AbortController()
  private readonly waker = new Waker()
  private done: Promise<void> = Promise.resolve()
  private readsStarted = 0
  private waiters: Waiter<E>[] = []
  private replays: ReplayRequest<E>[] = []
  private tenure: Tenure | undefined
  private readonly ss: SubscriptionStore

  constructor(
    private readonly s: Settings,
    private readonly prepare: (commit: Commit) => Prepared<A>,
    private readonly handler: Handler<A, E>,
  ) {
    this.ss = s.store.subscriptions
  }

  start(): void {
    if (this.s.signal?.aborted === true) {
      this.stopping = true
      this.state = 'stopped'
      return
    }
    this.s.signal?.addEventListener('abort', () => void this.stop(), { once: true })
    // The loop answers every failure as a value; should something still throw (a bug, a hostile store), the
    // subscription ends as failed with it rather than with an unhandled rejection.
    this.done = this.main().catch((cause: unknown) => {
      this.state = 'failed'
      this.lastError = storageError('run the subscription', cause)
      this.settleWaiters(E.left(subscriptionStopped(this.s.name)))
    })
  }

  // ----- the handle -----

  caughtUp(): Promise<E.Either<CaughtUpError<E>, Checkpoint>> {
    if (this.state === 'failed' && this.lastError !== undefined && isFailure(this.lastError)) return Promise.resolve(E.left(this.lastError))
    if (this.state === 'stopped' || this.stopping) return Promise.resolve(E.left(subscriptionStopped(this.s.name)))
    return new Promise((resolve) => this.waiters.push({ after: this.readsStarted, resolve }))
  }

  async status(): Promise<E.Either<StatusError, Status<E>>> {
    const tenantId = this.s.source.tenantId
    const checkpoint = await guard('status', () => this.ss.checkpoint(this.s.name))
    if (E.isLeft(checkpoint)) return checkpoint
    const lease = await guard('status', () => this.ss.lease(this.s.name))
    if (E.isLeft(lease)) return lease
    const parked = await guard('status', () => this.ss.parked(this.s.name))
    if (E.isLeft(parked)) return parked
    const stored = O.toUndefined(checkpoint.right)
    const position = stored === undefined ? 0 : positionOf(stored, shardOf(this.s.store))
    const lag = await lagAfter(this.s.store, position, tenantId, LAG_LIMIT)
    if (E.isLeft(lag)) return lag
    const oldest = lag.right.oldestStamp
    const horizon = await horizonHolderOf(this.s.store)
    if (E.isLeft(horizon)) return horizon
    return E.right({
      name: this.s.name,
      holder: this.s.holder,
      state: this.state,
      holding: this.tenure !== undefined && !this.tenure.lost,
      lease: O.toUndefined(lease.right),
      checkpoint: stored,
      position,
      headToken: lag.right.headToken,
      lag: { commits: lag.right.commits, atLeast: lag.right.atLeast, ms: oldest === undefined ? 0 : Math.max(0, Date.now() - oldest.getTime()) },
      parked: parked.right.length,
      lastError: this.lastError,
      ...(horizon.right === undefined ? {} : { horizonHolder: horizon.right }),
    })
  }

  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true
      this.stopped.abort()
      this.waker.close()
    }
    await this.done
  }

  replay(tokens: readonly number[] | undefined): Promise<E.Either<ReplayError, ReplayReport<E>>> {
    if (this.stopping || this.state === 'stopped' || this.state === 'failed') return Promise.resolve(E.left(subscriptionStopped(this.s.name)))
    if (this.tenure === undefined || this.tenure.lost)
      return Promise.resolve(E.left({ _tag: 'LeaseHeld', name: this.s.name, holder: undefined, expiresAt: undefined }))
    return new Promise((resolve) => {
      this.replays.push({ tokens, resolve })
      this.waker.wake()
    })
  }

  // ----- the loop -----

  private async main(): Promise<void> {
    let unwatch: () => void = () => {}
    try {
      unwatch = this.ss.watch(() => this.waker.wake())
    } catch (cause) {
      // Without wake-ups the subscription still polls.
      this.lastError = storageError('watch', cause)
    }
    let failures = 0
    try {
      while (!this.stopping) {
        const got = await guard('acquire', () => this.ss.acquire(this.s.name, this.s.holder, this.s.leaseTtlMs))
        if (this.stopping) {
          // A lease taken while stopping is given back at once.
          const taken = E.isRight(got) ? O.toUndefined(got.right) : undefined
          if (taken !== undefined) await guard('release', () => this.ss.release(taken))
          break
        }
        if (E.isLeft(got)) {
          this.lastError = got.left
          failures += 1
          await sleep(backoff(this.s.retry, failures), this.stopped.signal)
          continue
        }
        failures = 0
        if (O.isNone(got.right)) {
          this.state = 'standby'
          await sleep(this.s.standbyPollMs, this.stopped.signal)
          continue
        }
        const failure = await this.hold(got.right.value)
        if (failure !== undefined) {
          this.state = 'failed'
          this.lastError = failure
          this.settleWaiters(E.left(failure))
          return
        }
      }
    } finally {
      try {
        unwatch()
      } catch {
        // Nothing more to stop.
      }
      if (this.state !== 'failed') this.state = 'stopped'
      this.settleWaiters(E.left(subscriptionStopped(this.s.name)))
      for (const r of this.replays.splice(0)) r.resolve(E.left(subscriptionStopped(this.s.name)))
    }
  }

  /** Runs one tenure of the lease; answers the failure that ends the subscription, if one does. */
  private async hold(lease: Lease): Promise<SubscriptionFailure<E> | undefined> {
    const t: Tenure = {
      lease,
      lost: false,
      validUntil: Date.now() + this.s.leaseTtlMs,
      abort: new AbortController(),
      heartbeat: undefined,
      ended: false,
      position: 0,
      parkedTokens: new Set(),
      blocked: new Map(),
    }
    this.tenure = t
    this.state = 'catching-up'
    const onStop = () => t.abort.abort()
    this.stopped.signal.addEventListener('abort', onStop, { once: true })
    this.beat(t)
    let reader: BatchReader | undefined
    let readAhead: PendingRead | undefined
    try {
      const loaded = await this.load(t)
      if (loaded.kind !== 'ok') return undefined
      const batches = new BatchReader(this.s.store, this.s.source.tenantId)
      reader = batches
      const startRead = (from: number, size: number): PendingRead => {
        this.waker.clear()
        this.readsStarted += 1
        return { from, size, readNumber: this.readsStarted, batch: batches.next(from, size) }
      }
      let idle = this.s.pollMs
      let failures = 0
      while (!this.stopping && !t.lost) {
        const replayed = await this.serveReplays(t)
        if (replayed.kind !== 'ok') return undefined
        const leased = await this.ensureLease(t)
        if (leased.kind !== 'ok') return undefined
        // Larger batches while behind: fewer checkpoint writes over a long backlog (see `catchUpBatchSize`).
        const size: number = this.state === 'catching-up' ? this.s.catchUpBatchSize : this.s.batchSize
        // The read started while the last checkpoint was being stored, when it starts where that checkpoint is.
        const pending = readAhead
        readAhead = undefined
        if (pending !== undefined && pending.from !== t.position) await pending.batch
        const read = pending !== undefined && pending.from === t.position ? pending : startRead(t.position, size)
        const readNumber = read.readNumber
        const batch = await read.batch
        if (t.lost || this.stopping) return undefined
        if (E.isLeft(batch)) {
          this.lastError = batch.left
          failures += 1
          await sleep(backoff(this.s.retry, failures), t.abort.signal)
          continue
        }
        failures = 0
        const commits = batch.right
        if (commits.length === 0) {
          this.state = 'live'
          this.settleWaiters(E.right(checkpointAt(t.position, shardOf(this.s.store))), readNumber)
          const woken = await this.waker.wait(idle)
          idle = woken ? this.s.pollMs : Math.min(this.s.idleMaxMs, idle * this.s.idleFactor)
          continue
        }
        idle = this.s.pollMs
        const atHead = commits.length < read.size
        this.state = atHead ? 'live' : 'catching-up'
        // Behind the head, the next batch is read while this one's checkpoint is stored (a round trip, and on a
        // server a flush to disk, that the read no longer waits for). It is handed over only once that checkpoint
        // is stored, so a crash still repeats at most the batch not acknowledged; at most two batches are held.
        const outcome = await this.handleBatch(t, commits, atHead ? undefined : (dealt) => (readAhead = startRead(dealt, this.s.catchUpBatchSize)))
        if (outcome.kind === 'fail') return outcome.error
        if (outcome.kind === 'failed') return outcome.error
        if (outcome.kind !== 'ok') return undefined
        if (atHead) this.settleWaiters(E.right(checkpointAt(t.position, shardOf(this.s.store))), readNumber)
      }
      return undefined
    } finally {
      // A read still in flight finishes before the reader closes under it.
      if (readAhead !== undefined) await readAhead.batch
      await reader?.close()
      t.ended = true
      if (t.heartbeat !== undefined) clearTimeout(t.heartbeat)
      t.abort.abort()
      this.stopped.signal.removeEventListener('abort', onStop)
      // Given back so that a standby takes over at once; a lease already lost is not ours to release.
      if (!t.lost) await guard('release', () => this.ss.release(t.lease))
      this.tenure = undefined
      if (!this.stopping && t.lost) this.state = 'standby'
    }
  }

  // ----- the lease -----

  private lose(t: Tenure, epoch: number): void {
    if (t.lost) return
    t.lost = true
    this.lastError = leaseLost(this.s.name, epoch)
    t.abort.abort()
    this.waker.wake()
  }

  /** Renews the lease every `heartbeatMs`, one renewal at a time, while the tenure lasts. */
  private beat(t: Tenure): void {
    t.heartbeat = setTimeout(async () => {
      t.heartbeat = undefined
      if (t.ended || t.lost) return
      await this.renew(t)
      if (!t.ended && !t.lost) this.beat(t)
    }, this.s.heartbeatMs)
  }

  private async renew(t: Tenure): Promise<E.Either<StorageError | LeaseLost, void>> {
    const requested = Date.now()
    const r = await guard('renew', () => this.ss.renew(t.lease, this.s.leaseTtlMs))
    if (E.isRight(r)) {
      if (r.right.epoch === t.lease.epoch) t.lease = r.right
      t.validUntil = Math.max(t.validUntil, requested + this.s.leaseTtlMs)
      return E.right(undefined)
    }
    if (r.left._tag === 'LeaseLost') this.lose(t, t.lease.epoch)
    else this.lastError = r.left
    return r
  }

  /**
   * Before a batch: when the heartbeat could not renew for a whole ttl (the database is unreachable), renews first,
   * so that an instance that may have lost its lease starts no new batch. Safety does not rest on it: every write is
   * fenced anyway; it only keeps a cut-off instance from handling batches that a new holder will handle again.
   */
  private async ensureLease(t: Tenure): Promise<Delivery<E>> {
    for (let failures = 1; Date.now() >= t.validUntil - this.s.heartbeatMs / 2; failures++) {
      const r = await this.renew(t)
      if (t.lost) return { kind: 'lost' }
      if (this.stopping) return { kind: 'stopped' }
      if (E.isRight(r)) break
      await sleep(backoff(this.s.retry, failures), t.abort.signal)
    }
    return t.lost ? { kind: 'lost' } : this.stopping ? { kind: 'stopped' } : ok
  }

  /** Retries a storage operation of this tenure with back-off until it succeeds, the lease is lost, or a stop comes. */
  private async storing<X>(t: Tenure, operation: string, call: () => Promise<E.Either<StorageError | LeaseLost, X>>): Promise<E.Either<Delivery<E>, X>> {
    for (let failures = 1; ; failures++) {
      if (t.lost) return E.left({ kind: 'lost' })
      const r = await guard(operation, call)
      if (E.isRight(r)) return r
      if (r.left._tag === 'LeaseLost') {
        this.lose(t, t.lease.epoch)
        return E.left({ kind: 'lost' })
      }
      this.lastError = r.left
      if (this.stopping) return E.left({ kind: 'stopped' })
      await sleep(backoff(this.s.retry, failures), t.abort.signal)
    }
  }

  // ----- checkpoint and parking -----

  /** Reads the checkpoint (or resolves `start` and stores it, so that a restart means the same) and the parked commits. */
  private async load(t: Tenure): Promise<Delivery<E>> {
    const stored = await this.storing(t, 'checkpoint', () => this.ss.checkpoint(this.s.name))
    if (E.isLeft(stored)) return stored.left
    if (O.isSome(stored.right)) t.position = positionOf(stored.right.value, shardOf(this.s.store))
    else {
      const start = await this.storing(t, 'find the start', () => positionOfStart(this.s.store, this.s.start, this.s.source.tenantId) as Promise<E.Either<StorageError, number>>)
      if (E.isLeft(start)) return start.left
      const saved = await this.save(t, start.right, true)
      if (saved.kind !== 'ok') return saved
    }
    return this.loadParked(t)
  }

  private async loadParked(t: Tenure): Promise<Delivery<E>> {
    const parked = await this.storing(t, 'parked', () => this.ss.parked(this.s.name))
    if (E.isLeft(parked)) return parked.left
    t.parkedTokens.clear()
    t.blocked.clear()
    for (const p of parked.right) t.parkedTokens.add(p.checkpointToken)
    if (this.s.parkStreamAfterFailure) for (const [k, v] of blockersOf(parked.right)) t.blocked.set(k, v)
    return ok
  }

  private async save(t: Tenure, position: number, always = false): Promise<Delivery<E>> {
    if (position <= t.position && !always) return ok
    const r = await this.storing(t, 'saveCheckpoint', () => this.ss.saveCheckpoint(t.lease, checkpointAt(position, shardOf(this.s.store))))
    if (E.isLeft(r)) return r.left
    t.position = position
    return ok
  }

  private async park(t: Tenure, commit: Commit, error: Json): Promise<Delivery<E>> {
    const parked = { name: this.s.name, checkpointToken: commit.checkpointToken, tenantId: commit.tenantId, streamId: commit.streamId, error, parkedAt: new Date() }
    const r = await this.storing(t, 'park', () => this.ss.park(t.lease, parked))
    if (E.isLeft(r)) return r.left
    t.parkedTokens.add(commit.checkpointToken)
    const key = streamKey(commit)
    const blocker = t.blocked.get(key)
    if (this.s.parkStreamAfterFailure && (blocker === undefined || commit.checkpointToken < blocker)) t.blocked.set(key, commit.checkpointToken)
    return ok
  }

  // ----- batches -----

  private context(t: Tenure): BatchContext {
    return { name: this.s.name, holder: this.s.holder, epoch: t.lease.epoch, signal: t.abort.signal }
  }

  private control(t: Tenure): DeliveryControl {
    return {
      lost: () => t.lost,
      stopping: () => this.stopping,
      signal: t.abort.signal,
      onTry: (error) => {
        this.lastError = error as HandlerFailed<E>
      },
    }
  }

  private deliver(t: Tenure, items: readonly Item<A>[]): Promise<Delivery<E>> {
    return deliver(this.s.name, this.handler, items, this.context(t), this.s.retry, this.control(t))
  }

  /** The token a parked stream's commit is parked behind, when it is. */
  private blockerOf(t: Tenure, commit: Commit): number | undefined {
    // Nothing parked (the common case): no stream key to build for every commit of a catch-up.
    if (t.blocked.size === 0) return undefined
    const b = t.blocked.get(streamKey(commit))
    return b !== undefined && commit.checkpointToken > b ? b : undefined
  }

  /**
   * Handles one batch in token order. Commits the source does not select are moved over; parked ones (and those
   * of a parked stream) are set aside; the rest go to the handler together. The checkpoint is saved once, after
   * everything in the batch was dealt with; on a stopping failure, at the last commit dealt with before it.
   */
  private async handleBatch(t: Tenure, commits: readonly Commit[], beforeSave?: (dealt: number) => void): Promise<Outcome<E>> {
    let segment: Item<A>[] = []
    let dealt = t.position // everything up to here is handled, moved over or parked
    let examined = t.position

    const flush = async (): Promise<Outcome<E>> => {
      const items = segment
      segment = []
      if (items.length > 0) {
        const d = await this.deliver(t, items)
        if (d.kind === 'failed') {
          if (this.s.onFailure === 'stop') {
            const saved = await this.save(t, dealt)
            return saved.kind === 'ok' ? d : saved
          }
          const parked = items.length === 1 ? await this.park(t, (items[0] as Item<A>).commit, failureJson(d.error)) : await this.oneByOne(t, items)
          if (parked.kind !== 'ok') return parked
        } else if (d.kind !== 'ok') return d
      }
      dealt = examined
      return ok
    }

    for (const commit of commits) {
      if (t.lost) return { kind: 'lost' }
      const token = commit.checkpointToken
      let outcome: Outcome<E> = ok
      if (t.parkedTokens.has(token)) {
        // Parked by an earlier tenure whose checkpoint had not moved past it yet: it stays parked.
      } else if (this.blockerOf(t, commit) !== undefined) {
        outcome = await this.park(t, commit, { _tag: 'ParkedBehind', checkpointToken: this.blockerOf(t, commit) as number })
      } else {
        const p = this.prepare(commit)
        if (p.kind === 'deliver') {
          segment.push({ commit, item: p.item })
          examined = token
          continue
        }
        if (p.kind === 'park') outcome = await this.park(t, commit, p.error)
        if (p.kind === 'fail') {
          const flushed = await flush()
          if (flushed.kind !== 'ok') return flushed
          const saved = await this.save(t, dealt)
          return saved.kind === 'ok' ? { kind: 'fail', error: p.error } : saved
        }
      }
      if (outcome.kind !== 'ok') return outcome
      examined = token
      if (segment.length === 0) dealt = token
    }
    const flushed = await flush()
    if (flushed.kind !== 'ok') return flushed
    beforeSave?.(dealt)
    return this.save(t, dealt)
  }

  /** After a batch failed for good under the park policy: each commit on its own, parking those that still fail. */
  private async oneByOne(t: Tenure, items: readonly Item<A>[]): Promise<Delivery<E>> {
    for (const i of items) {
      const behind = this.blockerOf(t, i.commit)
      const d: Delivery<E> =
        behind !== undefined ? await this.park(t, i.commit, { _tag: 'ParkedBehind', checkpointToken: behind }) : await this.deliver(t, [i])
      if (d.kind === 'failed') {
        const parked = await this.park(t, i.commit, failureJson(d.error))
        if (parked.kind !== 'ok') return parked
      } else if (d.kind !== 'ok') return d
    }
    return ok
  }

  // ----- replays -----

  private async serveReplays(t: Tenure): Promise<Delivery<E>> {
    while (this.replays.length > 0) {
      const request = this.replays.shift() as ReplayRequest<E>
      const r = await replayWith<A, E>(
        {
          name: this.s.name,
          store: this.s.store,
          prepare: this.prepare,
          handler: this.handler,
          retry: this.s.retry,
          inOrder: this.s.parkStreamAfterFailure,
          context: () => this.context(t),
          control: this.control(t),
          lease: () => t.lease,
          keepLease: async () => {
            const d = await this.ensureLease(t)
            return d.kind === 'ok' ? E.right(undefined) : E.left(leaseLost(this.s.name, t.lease.epoch))
          },
        },
        request.tokens,
      )
      if (E.isLeft(r) && r.left._tag === 'LeaseLost') this.lose(t, t.lease.epoch)
      request.resolve(r)
      const reloaded = await this.loadParked(t)
      if (reloaded.kind !== 'ok') return reloaded
    }
    return t.lost ? { kind: 'lost' } : ok
  }

  // ----- waiters -----

  /** Resolves the `caughtUp()` calls made before read `readNumber` started (all of them, without a number). */
  private settleWaiters(r: E.Either<CaughtUpError<E>, Checkpoint>, readNumber?: number): void {
    const due = readNumber === undefined ? this.waiters : this.waiters.filter((w) => w.after < readNumber)
    if (due.length === 0) return
    this.waiters = readNumber === undefined ? [] : this.waiters.filter((w) => w.after >= readNumber)
    for (const w of due) w.resolve(r)
  }
}

const isFailure = <E>(e: LastError<E>): e is SubscriptionFailure<E> =>
  e._tag === 'HandlerFailed' || e._tag === 'DecodeFailed' || e._tag === 'FilterFailed'

/** The store's horizon holder when the store can name one (duck-typed: the runtime knows no store). */
const horizonHolderOf = async (store: unknown): Promise<E.Either<StatusError, HorizonSession | undefined>> => {
  const reporter = store as Partial<HorizonReporter> | null
  if (typeof reporter?.horizonHolder !== 'function') return E.right(undefined)
  const held = await guard('status', () => (reporter as HorizonReporter).horizonHolder())
  if (E.isLeft(held)) return held
  if (O.isNone(held.right)) return E.right(undefined)
  const { pid, applicationName, xactStart } = held.right.value
  return E.right({ pid, applicationName, xactStart })
}
