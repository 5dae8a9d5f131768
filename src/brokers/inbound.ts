import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import { invalidArgument, type InvalidArgument } from '../eventstore/errors.js'
import type { Headers } from '../eventstore/Json.js'
import { commitIdFrom } from '../domain/commitId.js'
import type { HandleOptions } from '../domain/core/handle.js'
import type { HandleError, RepositoryError } from '../domain/errors.js'
import { toJson } from '../subscriptions/json.js'
import type { BrokerRetry } from './forward.js'
import type { RetryReason } from './errors.js'
import { HEADER } from './messages.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A message as a command consumer sees it, whatever the broker. */
export interface InboundMessage {
  /**
   * The message's id, which the commit id is derived from: the `Aett-Message-Id` header, else the broker's message id
   * (`Nats-Msg-Id`; the AMQP `message-id` property), else (JetStream only) the stream and sequence it was stored at.
   */
  readonly id: string
  /** Where it was taken from: the JetStream stream and consumer, or the RabbitMQ queue. */
  readonly source: string
  /** Its NATS subject, or its AMQP routing key. */
  readonly subject: string
  /** Its headers as strings (NATS header values decoded; AMQP header values that are not strings as JSON). */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
  /** Whether the broker delivered it before (JetStream: a delivery count above 1; RabbitMQ: the `redelivered` flag). */
  readonly redelivered: boolean
}

/** The command a message carries, and the stream it is for. */
export interface RoutedCommand<C> {
  readonly streamId: string
  readonly command: C
  readonly expectedVersion?: number
  /** Headers for the commit, besides `aett.message.id` (and `correlationId`, from the message's `Aett-Correlation-Id`). */
  readonly headers?: Headers
}

/**
 * Decodes a message into a command: a `Left` (the reason) sends it to the dead-letter destination with that reason.
 * Must not throw (a throw is treated as a `Left` with what it threw).
 */
export type Route<C> = (message: InboundMessage) => E.Either<string, RoutedCommand<C>>

/** A repository's command handler: `deciderRepository(...).handle` is one. */
export type CommandHandle<C, Err> = (id: string, command: C, options: HandleOptions) => TE.TaskEither<HandleError<Err>, { readonly _tag: string }>

/** What became of one message (told to `onReport`, counted by `status()`). */
export type InboundReport<Err> =
  /** Stored (`Appended`), or nothing to store (`NothingToDo`): acknowledged. */
  | { readonly _tag: 'Handled'; readonly messageId: string; readonly streamId: string; readonly outcome: string }
  /** Handled before (the commit id derived from the message id was stored): acknowledged, nothing written. */
  | { readonly _tag: 'Duplicate'; readonly messageId: string; readonly streamId: string }
  /** The decider refused the command (its own error value): acknowledged, nothing written. */
  | { readonly _tag: 'Rejected'; readonly messageId: string; readonly streamId: string; readonly error: Err }
  /** Could not be decoded, or refused for good by the store: sent to the dead-letter destination, then acknowledged. */
  | { readonly _tag: 'DeadLettered'; readonly messageId: string; readonly reason: string }
  /** Could not be handled yet: negatively acknowledged (redelivered after a back-off). */
  | { readonly _tag: 'Retrying'; readonly messageId: string; readonly attempt: number; readonly reason: RetryReason }

/** Options every command consumer shares. */
export interface CommandConsumerOptions<C, Err> {
  readonly route: Route<C>
  readonly handle: CommandHandle<C, Err>
  /** The back-off before a message that could not be handled yet is redelivered (default from 200 ms, doubling, at most 10 s). */
  readonly retry?: BrokerRetry
  /** Told of every message's outcome. Must not throw. */
  readonly onReport?: (report: InboundReport<Err>) => void
  /** Stops the consumer when aborted, like `stop()`. */
  readonly signal?: AbortSignal
}

/** The consumer was stopped before it started receiving. */
export interface ConsumerStopped {
  readonly _tag: 'ConsumerStopped'
}

export type ConsumerState = 'starting' | 'consuming' | 'reconnecting' | 'stopped'

export interface ConsumerStatus<Err> {
  readonly state: ConsumerState
  readonly handled: number
  readonly duplicates: number
  readonly rejected: number
  readonly deadLettered: number
  readonly retries: number
  readonly lastReport: InboundReport<Err> | undefined
  /** The last failure met: a message not handled yet, or the broker connection. */
  readonly lastError: RetryReason | undefined
}

/** A running command consumer. */
export interface CommandConsumer<Err> {
  /** Resolves once the consumer receives messages (after its first connection); a `Left` when it was stopped first. */
  started(): Promise<E.Either<ConsumerStopped, void>>
  status(): ConsumerStatus<Err>
  /** Stops receiving, finishes the message in hand, and closes the connection. Idempotent. */
  stop(): Promise<void>
}

// -------------------------------------------------------------------------------------
// judging one message
// -------------------------------------------------------------------------------------

/** What to do with a message once its command was tried. */
export type Verdict<Err> =
  | { readonly kind: 'ack'; readonly report: InboundReport<Err> }
  | { readonly kind: 'dead-letter'; readonly reason: string }
  | { readonly kind: 'retry'; readonly reason: RetryReason }

const transient = new Set<RepositoryError['_tag']>(['StorageError', 'ConcurrencyConflict', 'ConflictDetected', 'RetriesExhausted'])

const describe = (e: { readonly _tag: string }): string => {
  const m = (e as { message?: unknown; reason?: unknown }).message ?? (e as { reason?: unknown }).reason
  return typeof m === 'string' ? `${e._tag}: ${m}` : e._tag
}

/** The id of the commit a message's command is stored with: derived from the message id, so a redelivery repeats it. */
export const commitIdOfMessage = (messageId: string): string => commitIdFrom(`aett.inbound:${messageId}`)

/**
 * Decodes a message and hands its command to the repository with a commit id derived from the message id. Stored,
 * nothing to do, already handled, or `Rejected`: acknowledge. Undecodable, or refused for good by the store (an
 * invalid attempt, a wrong expected version, a hook's refusal): dead-letter. A `StorageError`, a conflict that
 * outlasted the repository's retries, or a throw: retry later.
 */
export const judge = async <C, Err>(route: Route<C>, handle: CommandHandle<C, Err>, message: InboundMessage): Promise<Verdict<Err>> => {
  let routed: E.Either<string, RoutedCommand<C>>
  try {
    routed = route(message)
  } catch (thrown) {
    return { kind: 'dead-letter', reason: `route threw: ${JSON.stringify(toJson(thrown))}` }
  }
  if (E.isLeft(routed)) return { kind: 'dead-letter', reason: String(routed.left) }
  const { streamId, command, expectedVersion, headers } = routed.right
  const correlationId = message.headers[HEADER.correlationId]
  const options: HandleOptions = {
    commitId: commitIdOfMessage(message.id),
    headers: { 'aett.message.id': message.id, ...(correlationId === undefined ? {} : { correlationId }), ...headers },
    ...(expectedVersion === undefined ? {} : { expectedVersion }),
  }
  let r: E.Either<HandleError<Err>, { readonly _tag: string }>
  try {
    r = await handle(streamId, command, options)()
  } catch (thrown) {
    return { kind: 'retry', reason: { _tag: 'Threw', thrown } }
  }
  if (E.isRight(r)) {
    const report: InboundReport<Err> =
      r.right._tag === 'AlreadyCommitted'
        ? { _tag: 'Duplicate', messageId: message.id, streamId }
        : { _tag: 'Handled', messageId: message.id, streamId, outcome: r.right._tag }
    return { kind: 'ack', report }
  }
  const e = r.left
  if (e._tag === 'Rejected') return { kind: 'ack', report: { _tag: 'Rejected', messageId: message.id, streamId, error: e.error } }
  if (e._tag === 'DuplicateCommit') return { kind: 'ack', report: { _tag: 'Duplicate', messageId: message.id, streamId } }
  if (transient.has(e._tag)) return { kind: 'retry', reason: e }
  return { kind: 'dead-letter', reason: describe(e) }
}

/** A message's body as JSON, or why it is not: a helper for `route`. */
export const jsonBody = (message: Pick<InboundMessage, 'body'>): E.Either<string, unknown> => {
  try {
    return E.right(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(message.body)) as unknown)
  } catch (cause) {
    return E.left(`the body is not JSON: ${cause instanceof Error ? cause.message : String(cause)}`)
  }
}

// -------------------------------------------------------------------------------------
// bookkeeping shared by the consumers
// -------------------------------------------------------------------------------------

/** Counts and the last report, for `status()`; tells `onReport`. */
export class Tally<Err> {
  state: ConsumerState = 'starting'
  handled = 0
  duplicates = 0
  rejected = 0
  deadLettered = 0
  retries = 0
  lastReport: InboundReport<Err> | undefined
  lastError: RetryReason | undefined
  private readonly waiters: ((r: E.Either<ConsumerStopped, void>) => void)[] = []
  private startedOnce = false

  constructor(private readonly onReport: ((report: InboundReport<Err>) => void) | undefined) {}

  report(r: InboundReport<Err>): void {
    this.lastReport = r
    if (r._tag === 'Handled') this.handled += 1
    else if (r._tag === 'Duplicate') this.duplicates += 1
    else if (r._tag === 'Rejected') this.rejected += 1
    else if (r._tag === 'DeadLettered') this.deadLettered += 1
    else {
      this.retries += 1
      this.lastError = r.reason
    }
    try {
      this.onReport?.(r)
    } catch {
      // A throwing listener changes nothing.
    }
  }

  consuming(): void {
    this.state = 'consuming'
    this.startedOnce = true
    for (const w of this.waiters.splice(0)) w(E.right(undefined))
  }

  stopped(): void {
    this.state = 'stopped'
    for (const w of this.waiters.splice(0)) w(E.left({ _tag: 'ConsumerStopped' }))
  }

  started(): Promise<E.Either<ConsumerStopped, void>> {
    if (this.startedOnce) return Promise.resolve(E.right(undefined))
    if (this.state === 'stopped') return Promise.resolve(E.left({ _tag: 'ConsumerStopped' }))
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  status(): ConsumerStatus<Err> {
    return {
      state: this.state,
      handled: this.handled,
      duplicates: this.duplicates,
      rejected: this.rejected,
      deadLettered: this.deadLettered,
      retries: this.retries,
      lastReport: this.lastReport,
      lastError: this.lastError,
    }
  }
}

// -------------------------------------------------------------------------------------
// checks
// -------------------------------------------------------------------------------------

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null

/** Checks the options every command consumer shares. */
export const consumerProblem = (operation: string, o: unknown): InvalidArgument | undefined => {
  const bad = (reason: string) => invalidArgument(operation, reason)
  if (!isObject(o)) return bad('options must be an object')
  if (typeof o['route'] !== 'function') return bad('route must be a function')
  if (typeof o['handle'] !== 'function') return bad("handle must be a function (a repository's handle)")
  if (o['onReport'] !== undefined && typeof o['onReport'] !== 'function') return bad('onReport must be a function')
  const retry = o['retry']
  if (retry !== undefined) {
    const ms = (u: unknown) => u === undefined || (typeof u === 'number' && Number.isFinite(u) && u >= 1 && u <= 2 ** 31 - 1)
    if (!isObject(retry) || !ms(retry['initialDelayMs']) || !ms(retry['maxDelayMs'])) return bad('retry must be { initialDelayMs?, maxDelayMs? } in ms ≥ 1')
  }
  const signal = o['signal']
  if (signal !== undefined && !(isObject(signal) && typeof signal['aborted'] === 'boolean' && typeof signal['addEventListener'] === 'function'))
    return bad('signal must be an AbortSignal')
  return undefined
}
