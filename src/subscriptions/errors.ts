import type { CodecError, InvalidArgument, ReadError, StorageError } from '../eventstore/errors.js'
import type { LeaseLost } from '../eventstore/subscriptionStore.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What a handler answered for a batch: a `Left`, or a throw (treated the same). */
export type HandlerError<E> = { readonly _tag: 'Left'; readonly left: E } | { readonly _tag: 'Threw'; readonly thrown: unknown }

/**
 * A batch kept failing after every retry, and the subscription's policy is to stop: its checkpoint stays at the
 * last good batch. `fromToken`/`toToken` are the first and last tokens of the commits the handler was given.
 */
export interface HandlerFailed<E> {
  readonly _tag: 'HandlerFailed'
  readonly name: string
  readonly fromToken: number
  readonly toToken: number
  readonly attempts: number
  readonly error: HandlerError<E>
}

/** A commit's events did not decode and `decode.onError` is `'stop'`: the checkpoint stays before that commit. */
export interface DecodeFailed {
  readonly _tag: 'DecodeFailed'
  readonly name: string
  readonly checkpointToken: number
  readonly tenantId: string
  readonly streamId: string
  readonly error: CodecError
}

/** The subscription's `source.filter` threw on a commit and the failure policy is `'stop'`. */
export interface FilterFailed {
  readonly _tag: 'FilterFailed'
  readonly name: string
  readonly checkpointToken: number
  readonly thrown: unknown
}

/** A running instance (another holder) holds the lease, so a reset or replay did nothing. */
export interface LeaseHeld {
  readonly _tag: 'LeaseHeld'
  readonly name: string
  readonly holder: string | undefined
  readonly expiresAt: Date | undefined
}

/** The subscription was stopped (by `stop()` or its signal) before the awaited thing happened. */
export interface SubscriptionStopped {
  readonly _tag: 'SubscriptionStopped'
  readonly name: string
}

/** What stops a subscription for good (state `failed`). */
export type SubscriptionFailure<E> = HandlerFailed<E> | DecodeFailed | FilterFailed

/** What `caughtUp()` can answer instead of catching up. */
export type CaughtUpError<E> = SubscriptionFailure<E> | SubscriptionStopped

/** The last trouble an instance met: a failure, or a retried storage error or lost lease it got over. */
export type LastError<E> = SubscriptionFailure<E> | StorageError | InvalidArgument | LeaseLost

/** What `status()` can fail with: the reads behind it. */
export type StatusError = ReadError

/** What `resetSubscription` can fail with. */
export type ResetError = InvalidArgument | ReadError | LeaseHeld | LeaseLost

/** What replaying parked commits can fail with (a handler failure is not one: it is reported per commit). */
export type ReplayError = InvalidArgument | ReadError | LeaseHeld | LeaseLost | SubscriptionStopped

/** Every error of the subscriptions module: a closed union, discriminated by `_tag`. */
export type SubscriptionError<E> = SubscriptionFailure<E> | LeaseHeld | SubscriptionStopped | LeaseLost | ReadError

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

export const subscriptionStopped = (name: string): SubscriptionStopped => ({ _tag: 'SubscriptionStopped', name })

export const leaseHeld = (name: string, holder: string | undefined, expiresAt: Date | undefined): LeaseHeld => ({
  _tag: 'LeaseHeld',
  name,
  holder,
  expiresAt,
})
