import * as E from 'fp-ts/lib/Either.js'
import type { ChannelModel, ConfirmChannel, Message, Options } from 'amqplib'
import { invalidArgument, type InvalidArgument } from '../eventstore/errors.js'
import { brokerError, messageError, type BrokerError, type ClientMissing, type DeliveryError, type MessageError, type Unroutable } from '../brokers/errors.js'
import { commonProblem, forwarder, type BatchPublish, type Forwarder, type ForwarderOptions, type PublishReport, type Publisher } from '../brokers/forward.js'
import { bodyBytes, wireHeaders, type OutboundMessage } from '../brokers/messages.js'
import { deferred, loadAmqp } from './client.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** amqplib's `connect` arguments: a URL (`amqp://guest:guest@127.0.0.1:5672`) or its options object. */
export type AmqpConnection = string | Options.Connect

export interface RabbitMqForwarderOptions extends ForwarderOptions {
  /** Where the broker is; the forwarder opens its own connection and confirm channel, and reopens them after a failure. */
  readonly connection: AmqpConnection
  /** amqplib's socket options (TLS, timeouts), passed to `connect` as they are. */
  readonly socketOptions?: Record<string, unknown>
  /** The exchange every message is published to (`''`: the default exchange, where the routing key names the queue). */
  readonly exchange: string
  /** The routing key of each message, e.g. `(m) => \`accounts.${m.topic}\``. At most 255 bytes. */
  readonly routingKey: (message: OutboundMessage) => string
  /** How long to wait for the confirms of a batch (default 30,000 ms); then the connection is reopened and the batch sent again. */
  readonly confirmTimeoutMs?: number
  /** Persistent messages (delivery mode 2, the default), so that a durable queue keeps them across a broker restart. */
  readonly persistent?: boolean
  /** At most this many messages wait for their confirm at once (default 1,000). */
  readonly maxInFlight?: number
}

interface Routed {
  readonly message: OutboundMessage
  readonly routingKey: string
}

interface Connected {
  readonly model: ChannelModel
  readonly channel: ConfirmChannel
  /** Set once the connection or channel failed or closed: it is not used again. */
  readonly state: { broken: unknown }
  /** Marks it broken (the first cause is kept). */
  readonly breakWith: (cause: unknown) => void
  /** Resolves when the connection or channel breaks. */
  readonly breaks: Promise<void>
  readonly returned: Map<string, Unroutable>
}

// -------------------------------------------------------------------------------------
// publisher
// -------------------------------------------------------------------------------------

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8')

class RabbitMqPublisher implements Publisher<Routed> {
  readonly broker = 'rabbitmq' as const
  private conn: Connected | undefined
  private closed = false

  constructor(private readonly o: RabbitMqForwarderOptions) {}

  prepare(messages: readonly OutboundMessage[]): E.Either<MessageError, readonly Routed[]> {
    const out: Routed[] = []
    for (const message of messages) {
      let key: unknown
      try {
        key = this.o.routingKey(message)
      } catch (thrown) {
        return E.left(messageError(message.id, message.checkpointToken, 'routingKey threw', thrown))
      }
      if (typeof key !== 'string' || utf8Length(key) > 255) return E.left(messageError(message.id, message.checkpointToken, 'routingKey must answer a string of at most 255 bytes'))
      out.push({ message, routingKey: key })
    }
    return E.right(out)
  }

  private drop(): void {
    const c = this.conn
    this.conn = undefined
    if (c !== undefined) {
      c.breakWith(new Error('dropped'))
      void c.model.close().catch(() => undefined)
    }
  }

  private async connected(): Promise<E.Either<BrokerError | ClientMissing, Connected>> {
    if (this.conn !== undefined && this.conn.state.broken === undefined) return E.right(this.conn)
    this.drop()
    const amqp = await loadAmqp()
    if (E.isLeft(amqp)) return amqp
    let model: ChannelModel
    try {
      model = await amqp.right.connect(this.o.connection, this.o.socketOptions)
    } catch (cause) {
      return E.left(brokerError('rabbitmq', 'connect', cause))
    }
    const broke = deferred<void>()
    const state: { broken: unknown } = { broken: undefined }
    const breakWith = (cause: unknown) => {
      state.broken ??= cause ?? new Error('closed')
      broke.resolve()
    }
    model.on('error', breakWith)
    model.on('close', (err?: Error) => breakWith(err ?? new Error('the connection closed')))
    try {
      const channel = await model.createConfirmChannel()
      const returned = new Map<string, Unroutable>()
      channel.on('error', breakWith)
      channel.on('close', () => breakWith(new Error('the channel closed')))
      channel.on('return', (m: Message) => {
        const id = m.properties.messageId as unknown
        if (typeof id === 'string')
          returned.set(id, {
            _tag: 'Unroutable',
            messageId: id,
            exchange: m.fields.exchange,
            routingKey: m.fields.routingKey,
            replyCode: (m.fields as { replyCode?: number }).replyCode ?? 312,
            replyText: (m.fields as { replyText?: string }).replyText ?? 'NO_ROUTE',
          })
      })
      if (this.closed) throw new Error('the forwarder stopped')
      const c: Connected = { model, channel, returned, state, breakWith, breaks: broke.promise }
      this.conn = c
      return E.right(c)
    } catch (cause) {
      void model.close().catch(() => undefined)
      return E.left(brokerError('rabbitmq', 'open a confirm channel', cause))
    }
  }

  async publish(batch: BatchPublish<Routed>): Promise<E.Either<DeliveryError | ClientMissing, PublishReport>> {
    if (this.closed) return E.left(brokerError('rabbitmq', 'publish', new Error('the forwarder stopped')))
    const got = await this.connected()
    if (E.isLeft(got)) return got
    const c = got.right
    const window = this.o.maxInFlight ?? 1_000
    const confirms: Promise<unknown>[] = []
    const ids: string[] = []
    let settled = 0
    const broken = c.breaks.then(() => BROKEN)
    for (const { message, routingKey } of batch.messages) {
      if (c.state.broken !== undefined) break
      const confirmed = deferred<unknown>()
      const options: Options.Publish = {
        mandatory: true,
        persistent: this.o.persistent ?? true,
        messageId: message.id,
        type: message.topic,
        timestamp: Math.floor(message.commitStamp.getTime() / 1000),
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        appId: 'aett',
        headers: wireHeaders(message, this.o.name),
        ...(message.correlationId === undefined ? {} : { correlationId: message.correlationId }),
      }
      c.returned.delete(message.id)
      let flowing: boolean
      try {
        flowing = c.channel.publish(this.o.exchange, routingKey, bodyBytes(message), options, (err: unknown) => confirmed.resolve(err ?? null))
      } catch (cause) {
        c.breakWith(cause)
        break
      }
      confirms.push(confirmed.promise)
      ids.push(message.id)
      // The channel's buffer is full: wait until it drains (or breaks) before writing more.
      if (!flowing) await Promise.race([new Promise((resolve) => c.channel.once('drain', resolve)), broken])
      if (confirms.length - settled >= window) await Promise.race([confirms[settled++], broken])
    }
    const timeoutMs = this.o.confirmTimeoutMs ?? 30_000
    let timer: ReturnType<typeof setTimeout> | undefined
    const timedOut = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs)
    })
    const outcome = await Promise.race([Promise.all(confirms), broken, timedOut])
    clearTimeout(timer)
    if (outcome === BROKEN || c.state.broken !== undefined) {
      const cause = c.state.broken
      this.drop()
      return E.left(brokerError('rabbitmq', 'publish', cause))
    }
    if (outcome === TIMED_OUT) {
      this.drop()
      return E.left(brokerError('rabbitmq', 'publish', new Error(`no confirm within ${timeoutMs} ms`)))
    }
    // A return arrives before the confirm of its message, so every return of the batch is in by now.
    for (const id of ids) {
      const r = c.returned.get(id)
      if (r !== undefined) {
        for (const i of ids) c.returned.delete(i)
        return E.left(r)
      }
    }
    const nacked = (outcome as unknown[]).findIndex((err) => err !== null)
    if (nacked >= 0) return E.left(brokerError('rabbitmq', 'publish', new Error(`the broker refused message ${ids[nacked]} (nack)`)))
    return E.right({ published: confirms.length, duplicates: 0, recovered: 0 })
  }

  async close(): Promise<void> {
    this.closed = true
    const c = this.conn
    this.conn = undefined
    if (c !== undefined) await c.model.close().catch(() => undefined)
  }
}

const BROKEN = Symbol('broken')
const TIMED_OUT = Symbol('timed out')

// -------------------------------------------------------------------------------------
// rabbitMqForwarder
// -------------------------------------------------------------------------------------

const isWhole = (u: unknown, min: number, max: number): boolean => typeof u === 'number' && Number.isSafeInteger(u) && u >= min && u <= max

/**
 * Forwards a store's events (or its sagas' commands) to a RabbitMQ exchange, from a subscription named `name`: each
 * message `mandatory` and persistent, with its stable id as `message-id`, the topic as `type`, the correlation id, and
 * the `Aett-*` headers. The checkpoint moves only once every message of a batch is confirmed (publisher confirms) and
 * none came back unroutable. Delivery is at least once: a batch that was not confirmed as a whole (a crash, a nack, a
 * return, a lost connection) is sent again whole, so the queue may hold its messages twice; receivers de-duplicate
 * by message id (`rabbitMqCommandConsumer` does). The broker down or refusing: the batch waits, without end.
 */
export const rabbitMqForwarder = (options: RabbitMqForwarderOptions): E.Either<InvalidArgument, Forwarder> => {
  const bad = (reason: string) => E.left(invalidArgument('rabbitmq forwarder', reason))
  const common = commonProblem('rabbitmq forwarder', options)
  if (common !== undefined) return E.left(common)
  if (!(typeof options.connection === 'string' || (typeof options.connection === 'object' && options.connection !== null)))
    return bad("connection must be an AMQP URL or amqplib's connect options")
  if (typeof options.exchange !== 'string' || utf8Length(options.exchange) > 255) return bad('exchange must be a string of at most 255 bytes')
  if (typeof options.routingKey !== 'function') return bad('routingKey must be a function')
  if (options.confirmTimeoutMs !== undefined && !isWhole(options.confirmTimeoutMs, 1, 2 ** 31 - 1)) return bad('confirmTimeoutMs must be a whole number of ms ≥ 1')
  if (options.maxInFlight !== undefined && !isWhole(options.maxInFlight, 1, 1_000_000)) return bad('maxInFlight must be a whole number from 1')
  if (options.persistent !== undefined && typeof options.persistent !== 'boolean') return bad('persistent must be a boolean')
  return forwarder(options, new RabbitMqPublisher(options))
}
