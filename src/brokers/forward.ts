import * as E from 'fp-ts/lib/Either.js'
import type { Commit } from '../eventstore/Commit.js'
import { invalidArgument, type InvalidArgument } from '../eventstore/errors.js'
import type { Checkpoint } from '../eventstore/subscriptionStore.js'
import {
  subscribe,
  type BatchContext,
  type CaughtUpError,
  type IdleBackoff,
  type Source,
  type StartAt,
  type Status,
  type StatusError,
  type SubscribableStore,
} from '../subscriptions/index.js'
import { backoff, sleep } from '../subscriptions/timing.js'
import { brokerError, interrupted, type BrokerName, type ClientMissing, type DeliveryError, type ForwardFailure, type MessageError } from './errors.js'
import { messagesOf, type MessageKind, type OutboundMessage } from './messages.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Back-off between tries while the broker is down or refusing: from `initialDelayMs`, doubling, at most `maxDelayMs`. */
export interface BrokerRetry {
  readonly initialDelayMs?: number
  readonly maxDelayMs?: number
}

/**
 * What every forwarder is configured with, whatever the broker. A forwarder is a subscription (`aett/subscriptions`):
 * `name` has one checkpoint and one running instance across processes, and the options below mean what they mean
 * for `subscribe`.
 */
export interface ForwarderOptions {
  readonly name: string
  readonly store: SubscribableStore
  /** `'event'` (default): every event of every commit; `'command'`: the saga commands stored with each commit. */
  readonly messages?: MessageKind
  readonly source?: Source
  readonly start?: StartAt
  /** Commits per batch (default 100): the messages of a batch are sent together, and the checkpoint moves after all are acknowledged. */
  readonly batchSize?: number
  readonly pollMs?: number
  readonly idleBackoff?: IdleBackoff
  readonly leaseTtlMs?: number
  readonly heartbeatMs?: number
  readonly standbyPollMs?: number
  readonly holder?: string
  readonly signal?: AbortSignal
  /** Default: from 100 ms, doubling, at most 5,000 ms; broker failures are retried without end. */
  readonly brokerRetry?: BrokerRetry
  /** The correlation id a message carries (default: the body's `correlationId`, else the event's or commit's header). */
  readonly correlationIdOf?: (message: OutboundMessage) => string | undefined
  /** Told of every broker failure as it happens (the forwarder then waits and tries again). Must not throw. */
  readonly onBrokerError?: (error: DeliveryError) => void
}

/** What a forwarder sent through this instance, counted in memory (no I/O to read). */
export interface ForwarderCounts {
  readonly broker: BrokerName
  /** Messages the broker acknowledged through this instance (a JetStream duplicate counts as acknowledged). */
  readonly published: number
  /** Acknowledged as duplicates by JetStream's de-duplication (sent again within its window). */
  readonly duplicates: number
  /** Found already in the JetStream stream when this instance took over or retried, and not sent again. */
  readonly recovered: number
  /** Batches fully acknowledged (their checkpoint then moved). */
  readonly batches: number
  /** Broker failures met (each one waited for and retried). */
  readonly brokerFailures: number
  readonly lastBrokerError: DeliveryError | undefined
  /** Whether the batch in hand is waiting for the broker to come back right now. */
  readonly waitingForBroker: boolean
}

/** A forwarder's state: its subscription's (the stored checkpoint and lease, the lag), and its counts. */
export interface ForwarderStatus extends ForwarderCounts {
  readonly subscription: Status<ForwardFailure>
}

/** A running forwarder. Every call answers a value; none throws. */
export interface Forwarder {
  readonly name: string
  readonly holder: string
  /** Resolves once every commit visible when it was called has been sent and acknowledged, and the checkpoint saved. */
  caughtUp(): Promise<E.Either<CaughtUpError<ForwardFailure>, Checkpoint>>
  status(): Promise<E.Either<StatusError, ForwarderStatus>>
  /** The counts alone, at once (for metrics). */
  counts(): ForwarderCounts
  /** Stops the subscription (the batch in hand is cut short: it is sent again by the next holder), then the connection. */
  stop(): Promise<void>
}

/** What a publisher of one batch is asked to do. */
export interface BatchPublish<P> {
  readonly messages: readonly P[]
  /**
   * Set for the first batch of a tenure and after a failure: the publisher first finds out what of this batch (and
   * after) is already at the broker, where it can (JetStream: the stream's tail).
   */
  readonly recover: boolean
  /** The batch's first checkpoint token. */
  readonly fromToken: number
}

export interface PublishReport {
  readonly published: number
  readonly duplicates: number
  readonly recovered: number
}

/** A broker's side of a forwarder. */
export interface Publisher<P> {
  readonly broker: BrokerName
  /** Routes every message of a batch (subject, routing key) before anything is sent. */
  prepare(messages: readonly OutboundMessage[]): E.Either<MessageError, readonly P[]>
  /** Sends a batch and answers once the broker acknowledged every message, or with the first failure. */
  publish(batch: BatchPublish<P>): Promise<E.Either<DeliveryError | ClientMissing, PublishReport>>
  close(): Promise<void>
}

// -------------------------------------------------------------------------------------
// forward
// -------------------------------------------------------------------------------------

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null

const msIn = (u: unknown, min: number): u is number => typeof u === 'number' && Number.isFinite(u) && u >= min && u <= 2 ** 31 - 1

/** Checks the options every forwarder shares (the subscription's own are checked by `subscribe`). */
export const commonProblem = (operation: string, o: unknown): InvalidArgument | undefined => {
  const bad = (reason: string) => invalidArgument(operation, reason)
  if (!isObject(o)) return bad('options must be an object')
  if (o['messages'] !== undefined && o['messages'] !== 'event' && o['messages'] !== 'command') return bad("messages must be 'event' or 'command'")
  if (o['correlationIdOf'] !== undefined && typeof o['correlationIdOf'] !== 'function') return bad('correlationIdOf must be a function')
  if (o['onBrokerError'] !== undefined && typeof o['onBrokerError'] !== 'function') return bad('onBrokerError must be a function')
  const retry = o['brokerRetry']
  if (retry !== undefined) {
    if (!isObject(retry)) return bad('brokerRetry must be an object')
    if (retry['initialDelayMs'] !== undefined && !msIn(retry['initialDelayMs'], 1)) return bad('brokerRetry.initialDelayMs must be a number of ms ≥ 1')
    if (retry['maxDelayMs'] !== undefined && !msIn(retry['maxDelayMs'], 1)) return bad('brokerRetry.maxDelayMs must be a number of ms ≥ 1')
  }
  return undefined
}

/** Whatever a publish is, a stop or a lost lease ends the wait for it at once. */
const abortable = <A>(p: Promise<A>, signal: AbortSignal): Promise<A | typeof ABORTED> =>
  signal.aborted
    ? Promise.resolve(ABORTED)
    : new Promise((resolve) => {
        const onAbort = () => resolve(ABORTED)
        signal.addEventListener('abort', onAbort, { once: true })
        p.then(
          (a) => {
            signal.removeEventListener('abort', onAbort)
            resolve(a)
          },
          () => resolve(ABORTED),
        )
      })
const ABORTED = Symbol('aborted')

/**
 * A forwarder on `publisher`: a subscription whose handler turns each batch of commits into messages, sends them,
 * and answers only once the broker acknowledged every one, so that the checkpoint never moves past a message that
 * is not at the broker. A broker failure is waited for and retried with back-off, without end: a forwarder never
 * skips. A message that cannot be routed (the subject or routing key function threw) stops it.
 */
export const forwarder = <P>(options: ForwarderOptions, publisher: Publisher<P>): E.Either<InvalidArgument, Forwarder> => {
  const kind: MessageKind = options.messages ?? 'event'
  const initialDelayMs = options.brokerRetry?.initialDelayMs ?? 100
  const retry = { attempts: Number.MAX_SAFE_INTEGER, initialDelayMs, maxDelayMs: Math.max(initialDelayMs, options.brokerRetry?.maxDelayMs ?? 5_000) }
  const correlationIdOf = options.correlationIdOf
  const stats = { published: 0, duplicates: 0, recovered: 0, batches: 0, brokerFailures: 0 }
  let lastBrokerError: DeliveryError | undefined
  let waiting = false
  let epoch = -1
  let recover = true
  // One publish at a time: a batch cut short by a lost lease may still be settling when the next tenure starts.
  let previous: Promise<unknown> = Promise.resolve()

  const build = (batch: readonly Commit[]): E.Either<MessageError, OutboundMessage[]> => {
    const out = batch.flatMap((c) => messagesOf(c, kind))
    if (correlationIdOf === undefined) return E.right(out)
    const withIds: OutboundMessage[] = []
    for (const m of out) {
      try {
        const id = correlationIdOf(m)
        withIds.push(typeof id === 'string' ? { ...m, correlationId: id } : { ...m, correlationId: undefined })
      } catch (thrown) {
        return E.left({ _tag: 'MessageError', messageId: m.id, checkpointToken: m.checkpointToken, reason: 'correlationIdOf threw', thrown })
      }
    }
    return E.right(withIds)
  }

  const handler = async (batch: readonly Commit[], ctx: BatchContext): Promise<E.Either<ForwardFailure, void>> => {
    const built = build(batch)
    if (E.isLeft(built)) return built
    if (built.right.length === 0) return E.right(undefined)
    const routed = publisher.prepare(built.right)
    if (E.isLeft(routed)) return routed
    if (ctx.epoch !== epoch) {
      epoch = ctx.epoch
      recover = true
    }
    const fromToken = (batch[0] as Commit).checkpointToken
    for (let failures = 0; ; ) {
      if (ctx.signal.aborted) return E.left(interrupted(options.name))
      const settled = previous
      const run = settled
        .then(() => publisher.publish({ messages: routed.right, recover, fromToken }))
        .catch((cause: unknown) => E.left(brokerError(publisher.broker, 'publish', cause)))
      previous = run.catch(() => undefined)
      const r = await abortable(run, ctx.signal)
      if (r === ABORTED) return E.left(interrupted(options.name))
      if (E.isRight(r)) {
        waiting = false
        recover = false
        stats.published += r.right.published
        stats.duplicates += r.right.duplicates
        stats.recovered += r.right.recovered
        stats.batches += 1
        return E.right(undefined)
      }
      if (r.left._tag === 'ClientMissing') return E.left(r.left)
      failures += 1
      stats.brokerFailures += 1
      lastBrokerError = r.left
      waiting = true
      recover = true
      try {
        options.onBrokerError?.(r.left)
      } catch {
        // A throwing listener changes nothing.
      }
      await sleep(backoff(retry, failures), ctx.signal)
    }
  }

  const counts = (): ForwarderCounts => ({ broker: publisher.broker, ...stats, lastBrokerError, waitingForBroker: waiting })

  const sub = subscribe<ForwardFailure>({
    name: options.name,
    store: options.store,
    handler,
    // Only a message that cannot be routed (or a missing client) fails a batch; broker failures never do.
    retry: { attempts: 3, initialDelayMs: 100, maxDelayMs: 1_000 },
    onFailure: 'stop',
    ...(options.source === undefined ? {} : { source: options.source }),
    ...(options.start === undefined ? {} : { start: options.start }),
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
    ...(options.idleBackoff === undefined ? {} : { idleBackoff: options.idleBackoff }),
    ...(options.leaseTtlMs === undefined ? {} : { leaseTtlMs: options.leaseTtlMs }),
    ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
    ...(options.standbyPollMs === undefined ? {} : { standbyPollMs: options.standbyPollMs }),
    ...(options.holder === undefined ? {} : { holder: options.holder }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  })
  if (E.isLeft(sub)) return E.left({ ...sub.left, operation: `${publisher.broker} forwarder`, message: sub.left.message.replace(/^subscribe/, `${publisher.broker} forwarder`) })
  const s = sub.right
  let stopping: Promise<void> | undefined
  return E.right({
    name: s.name,
    holder: s.holder,
    caughtUp: () => s.caughtUp(),
    status: async () => {
      const st = await s.status()
      if (E.isLeft(st)) return st
      return E.right({ ...counts(), subscription: st.right })
    },
    counts,
    stop: () => {
      stopping ??= (async () => {
        await s.stop()
        await publisher.close()
      })()
      return stopping
    },
  })
}
