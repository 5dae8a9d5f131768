import * as E from 'fp-ts/lib/Either.js'
import type { Commit } from '../eventstore/Commit.js'
import type { TopicMap } from '../eventstore/codec/TopicMap.js'
import { invalidArgument, type InvalidArgument } from '../eventstore/errors.js'
import type { Headers } from '../eventstore/Json.js'
import type { Persistence } from '../eventstore/ports.js'
import type { Subscribable } from '../eventstore/subscriptionStore.js'
import { idProblem } from '../eventstore/adapter/ids.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A store a subscription can run on: reads of the global log, and a place for leases and checkpoints. */
export type SubscribableStore = Persistence & Subscribable

/**
 * Where a subscription starts when it has no stored checkpoint (afterwards, only the checkpoint counts):
 * - `'beginning'`: every commit;
 * - `'end'`: only commits made after it first starts;
 * - `{ token }`: the commits after that checkpoint token (an `Appended.checkpoint`, say);
 * - `{ time }`: from the first commit (in token order) stamped at or after `time`. Stamps are set by writers and
 *   are not in token order, so this is a starting point, not a filter: later commits stamped earlier are handled.
 */
export type StartAt = 'beginning' | 'end' | { readonly token: number } | { readonly time: Date }

/**
 * Which commits the handler sees. The checkpoint moves over the others too, so that a subscription that matches
 * nothing still reaches the head (its lag goes to 0).
 */
export interface Source {
  /** One tenant's commits only (the read itself is scoped); every tenant's when absent. */
  readonly tenantId?: string
  /**
   * Commits holding at least one event of these topics. With `decode`, a commit's other events are left out of it
   * (not decoded at all).
   */
  readonly topics?: readonly string[]
  /** Commits of streams whose id starts with this (a category such as `account-`). */
  readonly streamPrefix?: string
  /** Any other test; a throw is a failure of the commit, handled by the failure policy. */
  readonly filter?: (commit: Commit) => boolean
}

/** Bounded exponential back-off: `attempts` tries in all, waiting `initialDelayMs`, doubling, at most `maxDelayMs`. */
export interface RetryPolicy {
  readonly attempts: number
  readonly initialDelayMs: number
  readonly maxDelayMs: number
}

/** How long an idle subscription waits between polls: from `pollMs`, times `factor` per empty poll, at most `maxMs`. */
export interface IdleBackoff {
  readonly maxMs: number
  readonly factor?: number
}

/**
 * Decoding of events through a topic map, and what an event that does not decode does to its commit:
 * `'stop'` the subscription (`DecodeFailed`, checkpoint before the commit), `'skip'` the event (the commit goes on
 * with its other events, if any), or `'park'` the commit (like a failed commit, see `onFailure: 'park'`).
 */
export interface DecodeOptions<Ev extends { readonly type: string }> {
  readonly topics: TopicMap<Ev>
  readonly onError: 'stop' | 'skip' | 'park'
}

/** An event decoded, with its own headers; its commit's metadata is on the `DecodedCommit` that holds it. */
export interface DecodedEvent<Ev> {
  readonly event: Ev
  readonly headers: Headers
}

/** A commit whose events were decoded: every field of `Commit`, with typed events. */
export interface DecodedCommit<Ev> extends Omit<Commit, 'events'> {
  readonly events: readonly DecodedEvent<Ev>[]
}

/** What a handler is told besides its batch. `signal` aborts when the lease is lost or the subscription stops. */
export interface BatchContext {
  readonly name: string
  readonly holder: string
  readonly epoch: number
  readonly signal: AbortSignal
}

/** Handles one batch, oldest commit first. A `Left` (or a throw) is retried, then handled by the failure policy. */
export type Handler<A, E> = (batch: readonly A[], context: BatchContext) => Promise<E.Either<E, void>>

/** What every subscription is configured with, whatever its handler receives. */
export interface CommonOptions {
  /** One subscription, one checkpoint, one running instance: a storable string of at most 256 bytes. */
  readonly name: string
  readonly store: SubscribableStore
  readonly source?: Source
  /** Used only when no checkpoint is stored; `'beginning'` by default. */
  readonly start?: StartAt
  /** At most this many commits are read, held and handed over at once while live (default 100, at most 10,000). */
  readonly batchSize?: number
  /**
   * At most this many while catching up (the last batch came back full, or the instance has just taken the
   * lease), from `batchSize` to 10,000. A checkpoint is stored per batch, so a catch-up over a long backlog
   * stores one per `catchUpBatchSize` commits rather than one per `batchSize`, which is what a catch-up costs on
   * a database whose commits wait for a sync. Default: 1,000 when `batchSize` is not given, else `batchSize`
   * (an explicit batch size is kept as it is).
   */
  readonly catchUpBatchSize?: number
  /** Default: 5 attempts, from 200 ms, at most 10 s. Storage errors are retried without end, with the same delays. */
  readonly retry?: Partial<RetryPolicy>
  /**
   * After the last retry: `'stop'` (default) with a `HandlerFailed` and the checkpoint at the last good batch, or
   * `'park'` the failing commit (the batch is retried one commit at a time to find it) and go on.
   */
  readonly onFailure?: 'stop' | 'park'
  /** Park the later commits of a parked commit's stream behind it, so that per-stream order holds (default true). */
  readonly parkStreamAfterFailure?: boolean
  /** The first wait of an idle subscription between polls, in ms (default 500). Commits made in this process wake it. */
  readonly pollMs?: number
  /** Default: up to 5,000 ms, doubling. */
  readonly idleBackoff?: IdleBackoff
  /** How long a lease lasts without a heartbeat, by the database's clock (default 15,000 ms). */
  readonly leaseTtlMs?: number
  /** How often the holder renews its lease (default a third of the ttl). */
  readonly heartbeatMs?: number
  /** How often a standby tries to take the lease (default the heartbeat, at most 1,000 ms). */
  readonly standbyPollMs?: number
  /** This instance's name in the lease (default a random one); two instances must not share one. */
  readonly holder?: string
  /** Stops the subscription when aborted, like `stop()`. */
  readonly signal?: AbortSignal
}

/** A subscription whose handler receives stored commits as they are. */
export interface RawOptions<E> extends CommonOptions {
  readonly decode?: undefined
  readonly handler: Handler<Commit, E>
}

/** A subscription whose handler receives commits with their events decoded through a topic map. */
export interface DecodedOptions<Ev extends { readonly type: string }, E> extends CommonOptions {
  readonly decode: DecodeOptions<Ev>
  readonly handler: Handler<DecodedCommit<Ev>, E>
}

export type SubscribeOptions<E, Ev extends { readonly type: string } = never> = RawOptions<E> | DecodedOptions<Ev, E>

/** Options with their defaults applied and checked. */
export interface Settings {
  readonly name: string
  readonly store: SubscribableStore
  readonly source: Source
  readonly start: StartAt
  readonly batchSize: number
  readonly catchUpBatchSize: number
  readonly retry: RetryPolicy
  readonly onFailure: 'stop' | 'park'
  readonly parkStreamAfterFailure: boolean
  readonly pollMs: number
  readonly idleMaxMs: number
  readonly idleFactor: number
  readonly leaseTtlMs: number
  readonly heartbeatMs: number
  readonly standbyPollMs: number
  readonly holder: string
  readonly signal: AbortSignal | undefined
}

export const defaults = {
  batchSize: 100,
  catchUpBatchSize: 1_000,
  maxBatchSize: 10_000,
  retry: { attempts: 5, initialDelayMs: 200, maxDelayMs: 10_000 },
  pollMs: 500,
  idleMaxMs: 5_000,
  idleFactor: 2,
  leaseTtlMs: 15_000,
} as const

// -------------------------------------------------------------------------------------
// checks
// -------------------------------------------------------------------------------------

const fail = (reason: string): E.Either<InvalidArgument, never> => E.left(invalidArgument('subscribe', reason))

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null

const wholeIn = (u: unknown, min: number, max: number): u is number =>
  typeof u === 'number' && Number.isSafeInteger(u) && u >= min && u <= max

const positiveMs = (u: unknown): u is number => typeof u === 'number' && Number.isFinite(u) && u > 0 && u <= 2 ** 31 - 1

/** Why a subscription name cannot be stored by every store, or `undefined`. */
export const nameProblem = (name: unknown): string | undefined => {
  if (typeof name !== 'string' || name.length === 0) return 'name must be a non-empty string'
  // The tenant id's limit is 256 bytes of UTF-8, what every store keeps in a key.
  return idProblem('tenantId', name)?.replace('tenantId', 'name')
}

/** Checks a start position. */
export const startProblem = (start: unknown): string | undefined => {
  if (start === 'beginning' || start === 'end') return undefined
  if (isObject(start) && 'token' in start) return wholeIn(start['token'], 0, Number.MAX_SAFE_INTEGER) ? undefined : 'start.token must be a whole number ≥ 0'
  if (isObject(start) && 'time' in start)
    return start['time'] instanceof Date && !Number.isNaN(start['time'].getTime()) ? undefined : 'start.time must be a valid Date'
  return "start must be 'beginning', 'end', { token } or { time }"
}

/** Checks the source. */
const sourceProblem = (source: unknown): string | undefined => {
  if (source === undefined) return undefined
  if (!isObject(source)) return 'source must be an object'
  const { tenantId, topics, streamPrefix, filter } = source
  if (tenantId !== undefined) {
    const problem = idProblem('tenantId', tenantId)
    if (problem !== undefined) return `source.${problem}`
  }
  if (topics !== undefined && !(Array.isArray(topics) && topics.every((t) => typeof t === 'string')))
    return 'source.topics must be an array of strings'
  if (streamPrefix !== undefined && typeof streamPrefix !== 'string') return 'source.streamPrefix must be a string'
  if (filter !== undefined && typeof filter !== 'function') return 'source.filter must be a function'
  return undefined
}

/** Checks and completes the retry policy. */
export const retryOf = (retry: unknown): E.Either<InvalidArgument, RetryPolicy> => {
  if (retry === undefined) return E.right(defaults.retry)
  if (!isObject(retry)) return fail('retry must be an object')
  const attempts = retry['attempts'] ?? defaults.retry.attempts
  const initialDelayMs = retry['initialDelayMs'] ?? defaults.retry.initialDelayMs
  const maxDelayMs = retry['maxDelayMs'] ?? Math.max(defaults.retry.maxDelayMs, initialDelayMs as number)
  if (!wholeIn(attempts, 1, 1000)) return fail('retry.attempts must be a whole number from 1 to 1000')
  if (!(typeof initialDelayMs === 'number' && initialDelayMs >= 0 && initialDelayMs <= 2 ** 31 - 1)) return fail('retry.initialDelayMs must be a number of ms ≥ 0')
  if (!(typeof maxDelayMs === 'number' && maxDelayMs >= initialDelayMs && maxDelayMs <= 2 ** 31 - 1))
    return fail('retry.maxDelayMs must be a number of ms ≥ retry.initialDelayMs')
  return E.right({ attempts, initialDelayMs, maxDelayMs })
}

const isStore = (u: unknown): u is SubscribableStore =>
  isObject(u) &&
  typeof u['getFrom'] === 'function' &&
  typeof u['getFromTo'] === 'function' &&
  isObject(u['subscriptions']) &&
  typeof (u['subscriptions'] as Record<string, unknown>)['acquire'] === 'function'

/** Checks the store argument of the module's functions. */
export const storeProblem = (store: unknown): string | undefined =>
  isStore(store) ? undefined : 'store must be a Persistence that keeps subscriptions (a `subscriptions` property)'

const randomHolder = (): string => `instance-${globalThis.crypto.randomUUID()}`

/** A fresh holder name for a one-off operation (a reset, a replay). */
export const oneOffHolder = (what: string): string => `${what}-${globalThis.crypto.randomUUID()}`

/** Applies defaults and checks every option; a bad one is an `InvalidArgument`, never a throw. */
export const settingsOf = (options: unknown): E.Either<InvalidArgument, Settings> => {
  if (!isObject(options)) return fail('options must be an object')
  const o = options
  const name = nameProblem(o['name'])
  if (name !== undefined) return fail(name)
  const store = storeProblem(o['store'])
  if (store !== undefined) return fail(store)
  if (typeof o['handler'] !== 'function') return fail('handler must be a function')
  const source = sourceProblem(o['source'])
  if (source !== undefined) return fail(source)
  const start = startProblem(o['start'] ?? 'beginning')
  if (start !== undefined) return fail(start)
  const batchSize = o['batchSize'] ?? defaults.batchSize
  if (!wholeIn(batchSize, 1, defaults.maxBatchSize)) return fail(`batchSize must be a whole number from 1 to ${defaults.maxBatchSize}`)
  const catchUpBatchSize = o['catchUpBatchSize'] ?? (o['batchSize'] === undefined ? defaults.catchUpBatchSize : batchSize)
  if (!wholeIn(catchUpBatchSize, batchSize as number, defaults.maxBatchSize))
    return fail(`catchUpBatchSize must be a whole number from batchSize (${String(batchSize)}) to ${defaults.maxBatchSize}`)
  const retry = retryOf(o['retry'])
  if (E.isLeft(retry)) return retry
  const onFailure = o['onFailure'] ?? 'stop'
  if (onFailure !== 'stop' && onFailure !== 'park') return fail("onFailure must be 'stop' or 'park'")
  const parkStream = o['parkStreamAfterFailure'] ?? true
  if (typeof parkStream !== 'boolean') return fail('parkStreamAfterFailure must be a boolean')
  const decode = o['decode']
  if (decode !== undefined) {
    if (!isObject(decode) || !isObject(decode['topics']) || typeof (decode['topics'] as Record<string, unknown>)['decode'] !== 'function')
      return fail('decode.topics must be a topic map')
    if (!['stop', 'skip', 'park'].includes(decode['onError'] as string)) return fail("decode.onError must be 'stop', 'skip' or 'park'")
  }
  const pollMs = o['pollMs'] ?? defaults.pollMs
  if (!positiveMs(pollMs)) return fail('pollMs must be a positive number of ms')
  const idle = o['idleBackoff']
  if (idle !== undefined && !isObject(idle)) return fail('idleBackoff must be an object')
  const idleMaxMs = (idle?.['maxMs'] as unknown) ?? Math.max(defaults.idleMaxMs, pollMs)
  const idleFactor = (idle?.['factor'] as unknown) ?? defaults.idleFactor
  if (!positiveMs(idleMaxMs) || idleMaxMs < pollMs) return fail('idleBackoff.maxMs must be a number of ms ≥ pollMs')
  if (!(typeof idleFactor === 'number' && Number.isFinite(idleFactor) && idleFactor >= 1 && idleFactor <= 100)) return fail('idleBackoff.factor must be a number from 1 to 100')
  const leaseTtlMs = o['leaseTtlMs'] ?? defaults.leaseTtlMs
  if (!positiveMs(leaseTtlMs) || leaseTtlMs < 10) return fail('leaseTtlMs must be a number of ms ≥ 10')
  const heartbeatMs = o['heartbeatMs'] ?? leaseTtlMs / 3
  if (!positiveMs(heartbeatMs) || heartbeatMs >= leaseTtlMs) return fail('heartbeatMs must be a positive number of ms below leaseTtlMs')
  const standbyPollMs = o['standbyPollMs'] ?? Math.min(heartbeatMs, 1_000)
  if (!positiveMs(standbyPollMs)) return fail('standbyPollMs must be a positive number of ms')
  const holder = o['holder'] ?? randomHolder()
  const holderProblem = nameProblem(holder)
  if (holderProblem !== undefined) return fail(holderProblem.replace('name', 'holder'))
  const signal = o['signal']
  if (signal !== undefined && !(isObject(signal) && typeof signal['aborted'] === 'boolean' && typeof signal['addEventListener'] === 'function'))
    return fail('signal must be an AbortSignal')
  return E.right({
    name: o['name'] as string,
    store: o['store'] as SubscribableStore,
    source: (o['source'] as Source | undefined) ?? {},
    start: (o['start'] as StartAt | undefined) ?? 'beginning',
    batchSize,
    catchUpBatchSize,
    retry: retry.right,
    onFailure,
    parkStreamAfterFailure: parkStream,
    pollMs,
    idleMaxMs,
    idleFactor,
    leaseTtlMs,
    heartbeatMs,
    standbyPollMs,
    holder: holder as string,
    signal: signal as AbortSignal | undefined,
  })
}
