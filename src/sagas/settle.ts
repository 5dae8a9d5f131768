import * as E from 'fp-ts/lib/Either.js'
import type { Checkpoint } from '../eventstore/subscriptionStore.js'
import type { CaughtUpError, StatusError } from '../subscriptions/errors.js'

/** What `allCaughtUp` needs of a running subscription (every `Subscription`, dispatcher and router is one). */
export interface CatchingUp<E> {
  caughtUp(): Promise<E.Either<CaughtUpError<E>, Checkpoint>>
  status(): Promise<E.Either<StatusError, { readonly headToken: number }>>
}

/**
 * Waits until every subscription given (of one store) has handled every commit, those they cause one another
 * included: a dispatcher's delivered command writes a commit that a router reads, whose fed event writes a commit
 * that carries the next command. It repeats `caughtUp()` on each until a round in which the log's head did not
 * move, and answers that head. For tests and start-up; a `Left` when one fails or stops first.
 */
export const allCaughtUp = async (subscriptions: readonly CatchingUp<unknown>[]): Promise<E.Either<CaughtUpError<unknown> | StatusError, number>> => {
  const [first] = subscriptions
  if (first === undefined) return E.right(0)
  for (;;) {
    const before = await first.status()
    if (E.isLeft(before)) return before
    for (const s of subscriptions) {
      const caught = await s.caughtUp()
      if (E.isLeft(caught)) return caught
    }
    const after = await first.status()
    if (E.isLeft(after)) return after
    // Nothing was written while each caught up in turn: each has seen everything.
    if (after.right.headToken === before.right.headToken) return E.right(after.right.headToken)
  }
}
