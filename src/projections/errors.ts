import type { StorageError } from '../eventstore/errors.js'
import type { LeaseLost } from '../eventstore/subscriptionStore.js'
import type { HandlerError } from '../subscriptions/errors.js'

/**
 * A projection's handler refused an event (a `Left`, a throw, a rejection, a missing handler, or a promise from a
 * handler that must be synchronous): the whole transaction was rolled back, nothing of the batch was applied.
 */
export interface ProjectionRejected {
  readonly _tag: 'ProjectionRejected'
  readonly name: string
  readonly checkpointToken: number
  readonly tenantId: string
  readonly streamId: string
  /** The event's type, and its place in its commit. */
  readonly eventType: string
  readonly index: number
  readonly error: HandlerError<unknown>
}

/**
 * Why one batch of a projection failed (the `E` of the subscription that runs it: retried, then handled by the
 * failure policy): a handler refused an event, the store failed, or the lease changed hands (nothing was written).
 */
export type ProjectionBatchError = ProjectionRejected | StorageError | LeaseLost
