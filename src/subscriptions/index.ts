/**
 * `aett/subscriptions`: follow a store's log from a stored checkpoint, once per name across processes (a lease,
 * fenced checkpoint writes), never skipping: failures are retried, then stop the subscription or park the commit.
 * Store-agnostic: it needs only a store's reads and its `subscriptions` (the `SubscriptionStore` port).
 */
export { subscribe, type Subscription, type SubscriptionState, type Status } from './subscribe.js'
export { subscribeFeeds, type FeedSubscriptions } from './feeds.js'
export { resetSubscription, replayParked, listParked, type ResetOptions, type RawReplayOptions, type DecodedReplayOptions } from './manage.js'
export type { ReplayReport } from './parking.js'
export type {
  BatchContext,
  CommonOptions,
  DecodedCommit,
  DecodedEvent,
  DecodedOptions,
  DecodeOptions,
  Handler,
  IdleBackoff,
  RawOptions,
  RetryPolicy,
  Source,
  StartAt,
  SubscribableStore,
  SubscribeOptions,
} from './options.js'
export type {
  CaughtUpError,
  DecodeFailed,
  FilterFailed,
  HandlerError,
  HandlerFailed,
  LastError,
  LeaseHeld,
  ReplayError,
  ResetError,
  StatusError,
  SubscriptionError,
  SubscriptionFailure,
  SubscriptionStopped,
} from './errors.js'
