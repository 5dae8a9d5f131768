import * as E from 'fp-ts/lib/Either.js'
import type { ChannelModel, ConfirmChannel, ConsumeMessage, Message } from 'amqplib'
import { invalidArgument, type InvalidArgument } from '../eventstore/errors.js'
import { backoff, sleep } from '../subscriptions/timing.js'
import { brokerError, type BrokerError, type DeliveryError, type RetryReason } from '../brokers/errors.js'
import { ConsumerLoop } from '../brokers/consumerLoop.js'
import { consumerProblem, judge, type CommandConsumer, type CommandConsumerOptions, type InboundMessage } from '../brokers/inbound.js'
import { HEADER } from '../brokers/messages.js'
import { deferred, loadAmqp, type AmqpClient } from './client.js'
import type { AmqpConnection } from './forwarder.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export interface RabbitMqCommandConsumerOptions<C, Err> extends CommandConsumerOptions<C, Err> {
  /** Where the broker is; the consumer opens its own connection, and reopens it after a failure. */
  readonly connection: AmqpConnection
  readonly socketOptions?: Record<string, unknown>
  /** The queue the commands are in (it must exist). */
  readonly queue: string
  /** How many unacknowledged messages the broker may deliver ahead (default 10); they are handled one at a time, in order. */
  readonly prefetch?: number
  /**
   * Where an undecodable (or refused) message goes: published `mandatory` with its properties, its headers and an
   * `Aett-Dead-Letter-Reason` header, and confirmed, before the original is acknowledged. `{ exchange: '', routingKey:
   * 'commands.dead' }` sends it straight to that queue.
   */
  readonly deadLetter: { readonly exchange: string; readonly routingKey: string }
}

const REASON_LIMIT = 4_000

const headerString = (v: unknown): string =>
  typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : (JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v))

// -------------------------------------------------------------------------------------
// rabbitMqCommandConsumer
// -------------------------------------------------------------------------------------

/**
 * Takes commands from a RabbitMQ queue and hands each to a repository, idempotently: the commit id is derived from the
 * message id (the `Aett-Message-Id` header, else the `message-id` property; a message with neither is dead-lettered,
 * since it cannot be handled idempotently), so a message delivered twice is stored once (the second time
 * `AlreadyCommitted`). A message is acknowledged only once its outcome is stored or refused for good: `Rejected` is
 * acknowledged and reported; an undecodable message is dead-lettered with the reason, then acknowledged; a
 * `StorageError` (or a conflict that outlasted the repository's retries) waits a back-off, then is negatively
 * acknowledged and requeued.
 */
export const rabbitMqCommandConsumer = <C, Err>(options: RabbitMqCommandConsumerOptions<C, Err>): E.Either<InvalidArgument, CommandConsumer<Err>> => {
  const bad = (reason: string) => E.left(invalidArgument('rabbitmq command consumer', reason))
  const common = consumerProblem('rabbitmq command consumer', options)
  if (common !== undefined) return E.left(common)
  if (!(typeof options.connection === 'string' || (typeof options.connection === 'object' && options.connection !== null)))
    return bad("connection must be an AMQP URL or amqplib's connect options")
  if (typeof options.queue !== 'string' || options.queue.length === 0) return bad('queue must be a queue name')
  if (options.prefetch !== undefined && !(Number.isSafeInteger(options.prefetch) && options.prefetch >= 1 && options.prefetch <= 65_535))
    return bad('prefetch must be a whole number from 1 to 65535')
  const dl = options.deadLetter as unknown as Record<string, unknown> | undefined
  if (typeof dl !== 'object' || dl === null || typeof dl['exchange'] !== 'string' || typeof dl['routingKey'] !== 'string')
    return bad('deadLetter must be { exchange, routingKey }')
  return E.right(new RabbitMqConsumer(options).start())
}

interface Session {
  readonly channel: ConfirmChannel
  readonly returned: Map<string, Message>
  /** Resolves once the connection or channel broke (or closed). */
  readonly closed: Promise<unknown>
  /** Set once it broke: nothing is acknowledged on it any more (the broker requeues what it delivered). */
  readonly state: { broken: unknown }
}

class RabbitMqConsumer<C, Err> extends ConsumerLoop<C, Err, AmqpClient> {
  private current: Session | undefined
  private consumerTag: string | undefined
  private readonly attempts = new Map<string, number>()

  constructor(private readonly o: RabbitMqCommandConsumerOptions<C, Err>) {
    super('rabbitmq', o)
  }

  protected loadClient() {
    return loadAmqp()
  }

  protected async halt() {
    const s = this.current
    const tag = this.consumerTag
    if (s !== undefined && tag !== undefined) await s.channel.cancel(tag).catch(() => undefined)
  }

  /** One connection: consume until it breaks or the consumer stops; the messages in hand are finished first. */
  protected async session(amqp: AmqpClient): Promise<E.Either<BrokerError, void>> {
    let model: ChannelModel
    try {
      model = await amqp.connect(this.o.connection, this.o.socketOptions)
    } catch (cause) {
      return E.left(brokerError('rabbitmq', 'connect', cause))
    }
    const closed = deferred<unknown>()
    const state: { broken: unknown } = { broken: undefined }
    const returned = new Map<string, Message>()
    const breakWith = (cause: unknown) => {
      state.broken ??= cause ?? new Error('closed')
      closed.resolve(state.broken)
    }
    model.on('error', breakWith)
    model.on('close', (err?: Error) => breakWith(err ?? new Error('the connection closed')))
    let chain: Promise<void> = Promise.resolve()
    try {
      const channel = await model.createConfirmChannel()
      channel.on('error', breakWith)
      channel.on('close', () => breakWith(new Error('the channel closed')))
      channel.on('return', (m: Message) => {
        const id = m.properties.messageId as unknown
        if (typeof id === 'string') returned.set(id, m)
      })
      await channel.prefetch(this.o.prefetch ?? 10)
      const session: Session = { channel, returned, closed: closed.promise, state }
      this.current = session
      const ok = await channel.consume(
        this.o.queue,
        (m: ConsumeMessage | null) => {
          if (m === null) {
            breakWith(new Error('the broker cancelled the consumer'))
            return
          }
          chain = chain.then(() => this.handle(session, m)).catch(() => undefined)
        },
        { noAck: false },
      )
      this.consumerTag = ok.consumerTag
      if (this.stopping) await channel.cancel(ok.consumerTag).catch(() => undefined)
      this.tally.consuming()
      const stopped = new Promise<void>((resolve) => this.wake.signal.addEventListener('abort', () => resolve(), { once: true }))
      await Promise.race([closed.promise, stopped])
      await chain
      return this.stopping ? E.right(undefined) : E.left(brokerError('rabbitmq', 'consume', state.broken))
    } catch (cause) {
      return E.left(brokerError('rabbitmq', `consume queue ${JSON.stringify(this.o.queue)}`, cause))
    } finally {
      await chain
      this.current = undefined
      this.consumerTag = undefined
      await model.close().catch(() => undefined)
    }
  }

  private settle(s: Session, action: () => void): void {
    // A channel that broke cannot acknowledge any more: the broker requeues what it had delivered on it.
    if (s.state.broken !== undefined) return
    try {
      action()
    } catch {
      // The same: the message is redelivered.
    }
  }

  private async handle(s: Session, m: ConsumeMessage): Promise<void> {
    if (s.state.broken !== undefined) return
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries((m.properties.headers ?? {}) as Record<string, unknown>)) if (v !== undefined) headers[k] = headerString(v)
    const id = headers[HEADER.messageId] || (typeof m.properties.messageId === 'string' && m.properties.messageId !== '' ? m.properties.messageId : undefined)
    const message: InboundMessage | undefined =
      id === undefined ? undefined : { id, source: this.o.queue, subject: m.fields.routingKey, headers, body: m.content, redelivered: m.fields.redelivered }
    const verdict =
      message === undefined
        ? ({ kind: 'dead-letter', reason: 'the message has no message id (Aett-Message-Id header or message-id property), so it cannot be handled idempotently' } as const)
        : await judge(this.o.route, this.o.handle, message)
    const messageId = message?.id ?? `${this.o.queue}/${m.fields.deliveryTag}`
    if (verdict.kind === 'ack') {
      this.attempts.delete(messageId)
      this.settle(s, () => s.channel.ack(m))
      this.tally.report(verdict.report)
      return
    }
    if (verdict.kind === 'retry') return this.later(s, m, messageId, verdict.reason)
    const sent = await this.deadLetter(s, m, headers, messageId, verdict.reason)
    if (E.isLeft(sent)) return this.later(s, m, messageId, sent.left)
    this.attempts.delete(messageId)
    this.settle(s, () => s.channel.ack(m))
    this.tally.report({ _tag: 'DeadLettered', messageId, reason: verdict.reason })
  }

  /** Not handled yet: report, wait the back-off, then requeue it (redelivered to this or another consumer). */
  private async later(s: Session, m: ConsumeMessage, messageId: string, reason: RetryReason): Promise<void> {
    const attempt = (this.attempts.get(messageId) ?? 0) + 1
    this.attempts.set(messageId, attempt)
    if (this.attempts.size > 10_000) this.attempts.delete(this.attempts.keys().next().value as string)
    this.tally.report({ _tag: 'Retrying', messageId, attempt, reason })
    await Promise.race([sleep(backoff(this.retry, attempt), this.wake.signal), s.closed])
    this.settle(s, () => s.channel.nack(m, false, true))
  }

  private async deadLetter(s: Session, m: ConsumeMessage, headers: Record<string, string>, messageId: string, reason: string): Promise<E.Either<DeliveryError, void>> {
    const { exchange, routingKey } = this.o.deadLetter
    const confirmed = deferred<unknown>()
    const dlId = `dead-letter:${messageId}`
    s.returned.delete(dlId)
    const p = m.properties
    try {
      s.channel.publish(
        exchange,
        routingKey,
        m.content,
        {
          mandatory: true,
          persistent: true,
          messageId: dlId,
          headers: {
            ...headers,
            [HEADER.deadLetterReason]: reason.slice(0, REASON_LIMIT),
            [HEADER.deadLetterSource]: `${this.o.queue}/${m.fields.routingKey}`,
            [HEADER.deadLetterMessageId]: messageId,
          },
          ...(typeof p.contentType === 'string' ? { contentType: p.contentType } : {}),
          ...(typeof p.contentEncoding === 'string' ? { contentEncoding: p.contentEncoding } : {}),
          ...(typeof p.correlationId === 'string' ? { correlationId: p.correlationId } : {}),
          ...(typeof p.type === 'string' ? { type: p.type } : {}),
          ...(typeof p.timestamp === 'number' ? { timestamp: p.timestamp } : {}),
        },
        (err: unknown) => confirmed.resolve(err ?? null),
      )
    } catch (cause) {
      return E.left(brokerError('rabbitmq', 'dead-letter', cause))
    }
    const err = await Promise.race([confirmed.promise, s.closed.then(() => CLOSED)])
    if (err === CLOSED) return E.left(brokerError('rabbitmq', 'dead-letter', s.state.broken))
    const returned = s.returned.get(dlId)
    if (returned !== undefined) {
      s.returned.delete(dlId)
      return E.left({
        _tag: 'Unroutable',
        messageId: dlId,
        exchange,
        routingKey,
        replyCode: (returned.fields as { replyCode?: number }).replyCode ?? 312,
        replyText: (returned.fields as { replyText?: string }).replyText ?? 'NO_ROUTE',
      })
    }
    if (err !== null) return E.left(brokerError('rabbitmq', 'dead-letter', new Error('the broker refused the dead letter (nack)')))
    return E.right(undefined)
  }
}

const CLOSED = Symbol('closed')
