import * as E from 'fp-ts/lib/Either.js'
import type { InvalidArgument } from '../eventstore/errors.js'
import type { Checkpoint } from '../eventstore/subscriptionStore.js'
import type { CaughtUpError, StatusError } from './errors.js'
import type { Status, Subscription } from './subscribe.js'

/**
 * One subscription per feed shard of a store whose log is split (SEMANTICS 7; DynamoDB's `store.feeds()`), run as
 * one: each shard has its own lease and checkpoint, so the shards of one name spread over the processes that run it,
 * each shard in order, and there is no order across shards.
 */
export interface FeedSubscriptions<E> {
  /** The subscription of each shard, in the order of the feeds given. */
  readonly subscriptions: readonly Subscription<E>[]
  /**
   * Resolves once every shard's subscription has caught up (as `Subscription.caughtUp`); the checkpoint holds each
   * shard's position under its key. The first shard's failure (or stop) answers instead.
   */
  caughtUp(): Promise<E.Either<CaughtUpError<E>, Checkpoint>>
  /** Each shard's status, in order. */
  status(): Promise<E.Either<StatusError, readonly Status<E>[]>>
  /** Stops every shard's subscription (each as `Subscription.stop`). */
  stop(): Promise<void>
}

/**
 * Starts `start(feed)` for each feed, typically `(feed) => subscribe({ ...options, store: feed })`. When one refuses
 * its options, those already started are stopped and the refusal is answered.
 */
export const subscribeFeeds = async <F, E>(
  feeds: readonly F[],
  start: (feed: F) => E.Either<InvalidArgument, Subscription<E>>,
): Promise<E.Either<InvalidArgument, FeedSubscriptions<E>>> => {
  const subscriptions: Subscription<E>[] = []
  for (const feed of feeds) {
    const s = start(feed)
    if (E.isLeft(s)) {
      await Promise.all(subscriptions.map((x) => x.stop()))
      return s
    }
    subscriptions.push(s.right)
  }
  return E.right({
    subscriptions,
    caughtUp: async () => {
      const all = await Promise.all(subscriptions.map((s) => s.caughtUp()))
      const positions: Record<string, number> = {}
      for (const r of all) {
        if (E.isLeft(r)) return r
        Object.assign(positions, r.right.positions)
      }
      return E.right({ positions })
    },
    status: async () => {
      const out: Status<E>[] = []
      for (const s of subscriptions) {
        const r = await s.status()
        if (E.isLeft(r)) return r
        out.push(r.right)
      }
      return E.right(out)
    },
    stop: async () => {
      await Promise.all(subscriptions.map((s) => s.stop()))
    },
  })
}
