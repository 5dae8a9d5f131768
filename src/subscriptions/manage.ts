import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { Commit } from '../eventstore/Commit.js'
import { invalidArgument, storageError, type InvalidArgument, type ReadError, type StorageError } from '../eventstore/errors.js'
import { leaseLost, type Checkpoint, type Lease, type ParkedCommit } from '../eventstore/subscriptionStore.js'
import { leaseHeld, type LeaseHeld, type ReplayError, type ResetError } from './errors.js'
import {
  nameProblem,
  oneOffHolder,
  retryOf,
  startProblem,
  storeProblem,
  type DecodedCommit,
  type DecodeOptions,
  type Handler,
  type RetryPolicy,
  type Source,
  type StartAt,
  type SubscribableStore,
} from './options.js'
import { replayWith, type ReplayReport } from './parking.js'
import { checkpointAt, positionOfStart, shardOf } from './positions.js'
import { preparer } from './source.js'

const guard = async <L, A>(operation: string, call: () => Promise<E.Either<L, A>>): Promise<E.Either<L | StorageError, A>> => {
  try {
    return await call()
  } catch (cause) {
    return E.left(storageError(operation, cause))
  }
}

const checked = (operation: string, store: unknown, name: unknown): InvalidArgument | undefined => {
  const problem = storeProblem(store) ?? nameProblem(name)
  return problem === undefined ? undefined : invalidArgument(operation, problem)
}

/** Who holds the lease of `name`, for a `LeaseHeld`. */
const heldBy = async (store: SubscribableStore, name: string): Promise<LeaseHeld> => {
  const lease = await guard('lease', () => store.subscriptions.lease(name))
  const l = E.isRight(lease) ? O.toUndefined(lease.right) : undefined
  return leaseHeld(name, l?.holder, l?.expiresAt)
}

/** Where `resetSubscription` moves a checkpoint; `{ tenantId }` scopes `'end'` and `{ time }` to one tenant's commits. */
export interface ResetOptions {
  readonly store: SubscribableStore
  readonly name: string
  readonly to: StartAt
  readonly tenantId?: string
}

/**
 * Moves subscription `name`'s checkpoint (to the beginning, the end, after a token, or to a time) through the same
 * fence as every checkpoint write: it takes the lease (so every former holder, even a paused one, is fenced off),
 * writes, and gives it back. A `LeaseHeld` when an instance runs: stop it first. Answers the checkpoint written.
 */
export const resetSubscription = async (options: ResetOptions): Promise<E.Either<ResetError, Checkpoint>> => {
  const bad = checked('resetSubscription', options?.store, options?.name)
  if (bad !== undefined) return E.left(bad)
  const problem = startProblem(options.to)
  if (problem !== undefined) return E.left(invalidArgument('resetSubscription', problem.replace('start', 'to')))
  const { store, name } = options
  const position = await positionOfStart(store, options.to, options.tenantId)
  if (E.isLeft(position)) return position
  const checkpoint = checkpointAt(position.right, shardOf(store))
  const r = await guard('resetCheckpoint', () => store.subscriptions.resetCheckpoint(name, oneOffHolder('reset'), checkpoint))
  if (E.isLeft(r)) return r
  if (O.isNone(r.right)) return E.left(await heldBy(store, name))
  return E.right(checkpoint)
}

/** The commits parked for subscription `name`, oldest token first. */
export const listParked = async (store: SubscribableStore, name: string): Promise<E.Either<InvalidArgument | StorageError, readonly ParkedCommit[]>> => {
  const bad = checked('listParked', store, name)
  if (bad !== undefined) return E.left(bad)
  return guard('parked', () => store.subscriptions.parked(name))
}

interface ReplayCommon {
  readonly store: SubscribableStore
  readonly name: string
  /** The parked commits to replay (by token); all of them when absent. */
  readonly tokens?: readonly number[]
  /** The subscription's source, so that a replayed commit is prepared as the subscription would. */
  readonly source?: Source
  /** Default: 1 attempt (a replay is already a retry). */
  readonly retry?: Partial<RetryPolicy>
  /** Keep each stream's order (default true): a parked commit waits for the earlier parked commits of its stream. */
  readonly parkStreamAfterFailure?: boolean
  /** The lease's ttl while the replay runs (default 15,000 ms); it is renewed between commits. */
  readonly leaseTtlMs?: number
  readonly signal?: AbortSignal
}

export interface RawReplayOptions<E> extends ReplayCommon {
  readonly decode?: undefined
  readonly handler: Handler<Commit, E>
}

export interface DecodedReplayOptions<Ev extends { readonly type: string }, E> extends ReplayCommon {
  readonly decode: DecodeOptions<Ev>
  readonly handler: Handler<DecodedCommit<Ev>, E>
}

/**
 * Replays parked commits of subscription `name` through `handler`, oldest first, one at a time, and unparks each
 * one handled; every write is fenced by a lease taken for the replay. A `LeaseHeld` when an instance runs: use
 * its handle's `replayParked` then. A handler failure is not an error of the call: the commit stays parked and is
 * listed in the report's `failed`.
 */
export function replayParked<E = never>(options: RawReplayOptions<E>): Promise<E.Either<ReplayError, ReplayReport<E>>>
export function replayParked<Ev extends { readonly type: string }, E = never>(options: DecodedReplayOptions<Ev, E>): Promise<E.Either<ReplayError, ReplayReport<E>>>
export async function replayParked<E>(
  options: RawReplayOptions<E> | DecodedReplayOptions<{ readonly type: string }, E>,
): Promise<E.Either<ReplayError, ReplayReport<E>>> {
  const bad = checked('replayParked', options?.store, options?.name)
  if (bad !== undefined) return E.left(bad)
  if (typeof options.handler !== 'function') return E.left(invalidArgument('replayParked', 'handler must be a function'))
  const retry = retryOf({ attempts: 1, ...(options.retry ?? {}) })
  if (E.isLeft(retry)) return E.left({ ...retry.left, operation: 'replayParked', message: retry.left.message.replace('subscribe', 'replayParked') })
  const ttl = options.leaseTtlMs ?? 15_000
  if (!(typeof ttl === 'number' && Number.isFinite(ttl) && ttl >= 10)) return E.left(invalidArgument('replayParked', 'leaseTtlMs must be a number of ms ≥ 10'))
  const { store, name } = options
  const ss = store.subscriptions
  const holder = oneOffHolder('replay')
  const got = await guard('acquire', () => ss.acquire(name, holder, ttl))
  if (E.isLeft(got)) return got
  if (O.isNone(got.right)) return E.left(await heldBy(store, name))
  let lease: Lease = got.right.value
  let renewed = Date.now()
  const abort = new AbortController()
  const onAbort = () => abort.abort()
  options.signal?.addEventListener('abort', onAbort, { once: true })
  let lost = false
  try {
    return await replayWith<unknown, E>(
      {
        name,
        store,
        prepare: preparer(name, options.source ?? {}, 'park', options.decode),
        handler: options.handler as Handler<unknown, E>,
        retry: retry.right,
        inOrder: options.parkStreamAfterFailure ?? true,
        context: () => ({ name, holder, epoch: lease.epoch, signal: abort.signal }),
        control: { lost: () => lost, stopping: () => abort.signal.aborted, signal: abort.signal },
        lease: () => lease,
        keepLease: async (): Promise<E.Either<ReadError | ReturnType<typeof leaseLost>, void>> => {
          if (Date.now() - renewed < ttl / 3) return E.right(undefined)
          const r = await guard('renew', () => ss.renew(lease, ttl))
          if (E.isLeft(r)) {
            if (r.left._tag === 'LeaseLost') lost = true
            return r
          }
          lease = r.right
          renewed = Date.now()
          return E.right(undefined)
        },
      },
      options.tokens,
    )
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    if (!lost) await guard('release', () => ss.release(lease))
  }
}
