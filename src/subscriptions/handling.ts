import * as E from 'fp-ts/lib/Either.js'
import type { Commit } from '../eventstore/Commit.js'
import type { Json } from '../eventstore/Json.js'
import type { HandlerError, HandlerFailed } from './errors.js'
import { toJson } from './json.js'
import type { BatchContext, Handler, RetryPolicy } from './options.js'
import { backoff, sleep } from './timing.js'

/** A commit ready for the handler: the stored commit (for its token and stream) and what the handler receives. */
export interface Item<A> {
  readonly commit: Commit
  readonly item: A
}

/** How a delivery ended: handled, failed after every retry, or cut short (the lease was lost, or a stop came). */
export type Delivery<E> =
  | { readonly kind: 'ok' }
  | { readonly kind: 'failed'; readonly error: HandlerFailed<E> }
  | { readonly kind: 'lost' }
  | { readonly kind: 'stopped' }

const isEither = (u: unknown): u is E.Either<unknown, unknown> =>
  typeof u === 'object' && u !== null && ((u as { _tag?: unknown })._tag === 'Left' || (u as { _tag?: unknown })._tag === 'Right')

/** Runs the handler once; a throw, a rejection or an answer that is not an `Either` is a failure, never a throw. */
export const callHandler = async <A, E>(handler: Handler<A, E>, batch: readonly A[], context: BatchContext): Promise<E.Either<HandlerError<E>, void>> => {
  try {
    const r: unknown = await handler(batch, context)
    if (!isEither(r)) return E.left({ _tag: 'Threw', thrown: new TypeError('the handler did not answer an Either') })
    return E.isRight(r) ? E.right(undefined) : E.left({ _tag: 'Left', left: (r as E.Left<E>).left })
  } catch (thrown) {
    return E.left({ _tag: 'Threw', thrown })
  }
}

export interface DeliveryControl {
  /** The lease was lost: give up at once, whatever the handler answered. */
  readonly lost: () => boolean
  /** A stop was asked: finish the try in progress, but do not retry. */
  readonly stopping: () => boolean
  /** Aborts the back-off sleeps (on a lost lease or a stop). */
  readonly signal: AbortSignal
  /** Told of every failed try, so that `status()` shows it while the retries go on. */
  readonly onTry?: (error: HandlerFailed<unknown>) => void
}

/** Hands `items` to the handler, retrying with bounded exponential back-off. */
export const deliver = async <A, E>(
  name: string,
  handler: Handler<A, E>,
  items: readonly Item<A>[],
  context: BatchContext,
  retry: RetryPolicy,
  control: DeliveryControl,
): Promise<Delivery<E>> => {
  const batch = items.map((i) => i.item)
  const fromToken = items[0]?.commit.checkpointToken ?? 0
  const toToken = items[items.length - 1]?.commit.checkpointToken ?? 0
  for (let attempt = 1; ; attempt++) {
    const r = await callHandler(handler, batch, context)
    if (control.lost()) return { kind: 'lost' }
    if (E.isRight(r)) return { kind: 'ok' }
    const error: HandlerFailed<E> = { _tag: 'HandlerFailed', name, fromToken, toToken, attempts: attempt, error: r.left }
    control.onTry?.(error)
    if (attempt >= retry.attempts) return { kind: 'failed', error }
    if (control.stopping()) return { kind: 'stopped' }
    await sleep(backoff(retry, attempt), control.signal)
    if (control.lost()) return { kind: 'lost' }
    if (control.stopping()) return { kind: 'stopped' }
  }
}

/** What a parked commit's record says of a handler failure. */
export const failureJson = (error: HandlerFailed<unknown>): Json => ({
  _tag: 'HandlerFailed',
  attempts: error.attempts,
  error: error.error._tag === 'Left' ? { _tag: 'Left', left: toJson(error.error.left) } : { _tag: 'Threw', thrown: toJson(error.error.thrown) },
})

/** The key of a commit's stream, for per-stream order: tenant and stream, unambiguously joined. */
export const streamKey = (c: { readonly tenantId: string; readonly streamId: string }): string => JSON.stringify([c.tenantId, c.streamId])
