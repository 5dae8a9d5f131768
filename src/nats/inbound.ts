import * as E from 'fp-ts/lib/Either.js'
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream'
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node'
import { invalidArgument, type InvalidArgument } from '../eventstore/errors.js'
import { backoff } from '../subscriptions/timing.js'
import { brokerError, type BrokerError } from '../brokers/errors.js'
import { ConsumerLoop } from '../brokers/consumerLoop.js'
import { consumerProblem, judge, type CommandConsumer, type CommandConsumerOptions, type InboundMessage } from '../brokers/inbound.js'
import { decodeHeaderValue, encodeHeaderValue, HEADER } from '../brokers/messages.js'
import { loadNats, type NatsClient } from './client.js'
import { subjectProblem } from './subjects.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export interface NatsCommandConsumerOptions<C, Err> extends CommandConsumerOptions<C, Err> {
  /** How to reach the server (`connect` options of `@nats-io/transport-node`); the client reconnects by itself, for ever by default. */
  readonly connection: NodeConnectionOptions
  /** The JetStream stream the commands are in. */
  readonly stream: string
  /**
   * The durable consumer to take them from. When it does not exist it is created: explicit acknowledgements, every
   * message of the stream (or of `filterSubject`), redelivered without limit.
   */
  readonly consumer: string
  readonly filterSubject?: string
  /** Where an undecodable (or refused) message goes, with its headers and an `Aett-Dead-Letter-Reason` header; a stream must capture it. */
  readonly deadLetter: { readonly subject: string }
  /** For a consumer created here: how long a delivered message may stay unacknowledged before it is redelivered (default 30,000 ms). */
  readonly ackWaitMs?: number
  /** How many messages the client pulls ahead (default 100); they are handled one at a time, in order. */
  readonly maxMessages?: number
}

const REASON_LIMIT = 4_000

// -------------------------------------------------------------------------------------
// natsCommandConsumer
// -------------------------------------------------------------------------------------

/**
 * Takes commands from a JetStream consumer and hands each to a repository, idempotently: the commit id is derived from
 * the message id, so a message delivered twice is stored once (the second time `AlreadyCommitted`). A message is
 * acknowledged only once its outcome is stored or refused for good: `Rejected` by the decider is acknowledged and
 * reported; an undecodable message goes to `deadLetter.subject` with the reason, then is acknowledged; a `StorageError`
 * (or a conflict that outlasted the repository's retries) is negatively acknowledged with a back-off and redelivered.
 */
export const natsCommandConsumer = <C, Err>(options: NatsCommandConsumerOptions<C, Err>): E.Either<InvalidArgument, CommandConsumer<Err>> => {
  const bad = (reason: string) => E.left(invalidArgument('nats command consumer', reason))
  const common = consumerProblem('nats command consumer', options)
  if (common !== undefined) return E.left(common)
  if (typeof options.connection !== 'object' || options.connection === null) return bad('connection must be the options of connect (@nats-io/transport-node)')
  if (typeof options.stream !== 'string' || !/^[^\s.*>/\\]+$/.test(options.stream)) return bad('stream must be a JetStream stream name')
  if (typeof options.consumer !== 'string' || !/^[^\s.*>/\\]+$/.test(options.consumer)) return bad('consumer must be a durable consumer name')
  if (options.filterSubject !== undefined && typeof options.filterSubject !== 'string') return bad('filterSubject must be a subject')
  const dl = options.deadLetter as unknown
  if (typeof dl !== 'object' || dl === null || subjectProblem((dl as { subject?: unknown }).subject) !== undefined) return bad('deadLetter.subject must be a subject')
  return E.right(new NatsConsumer(options).start())
}

class NatsConsumer<C, Err> extends ConsumerLoop<C, Err, NatsClient> {
  private nc: NatsConnection | undefined
  private messages: ConsumerMessages | undefined

  constructor(private readonly o: NatsCommandConsumerOptions<C, Err>) {
    super('nats', o)
  }

  protected loadClient() {
    return loadNats()
  }

  protected halt() {
    this.messages?.stop()
  }

  protected override async finish() {
    const nc = this.nc
    this.nc = undefined
    if (nc !== undefined) await nc.close().catch(() => undefined)
  }

  /** One pass: connect (once), make sure of the consumer, and handle messages until the iterator ends. */
  protected async session(client: NatsClient): Promise<E.Either<BrokerError, void>> {
    let js: JetStreamClient
    try {
      if (this.nc === undefined || this.nc.isClosed()) {
        this.nc = await client.transport.connect({ maxReconnectAttempts: -1, ...this.o.connection, name: this.o.connection.name ?? `aett consumer ${this.o.consumer}` })
      }
      const jsm = await client.jetstream.jetstreamManager(this.nc)
      js = client.jetstream.jetstream(this.nc)
      const info = await jsm.consumers.info(this.o.stream, this.o.consumer).catch(() => undefined)
      if (info === undefined) {
        await jsm.consumers.add(this.o.stream, {
          durable_name: this.o.consumer,
          ack_policy: client.jetstream.AckPolicy.Explicit,
          deliver_policy: client.jetstream.DeliverPolicy.All,
          ack_wait: (this.o.ackWaitMs ?? 30_000) * 1_000_000,
          max_deliver: -1,
          ...(this.o.filterSubject === undefined ? {} : { filter_subject: this.o.filterSubject }),
        })
      }
    } catch (cause) {
      return E.left(brokerError('nats', `open consumer ${JSON.stringify(this.o.consumer)} of stream ${JSON.stringify(this.o.stream)}`, cause))
    }
    try {
      const consumer = await js.consumers.get(this.o.stream, this.o.consumer)
      if (this.stopping) return E.right(undefined)
      const messages = await consumer.consume({ max_messages: this.o.maxMessages ?? 100 })
      this.messages = messages
      if (this.stopping) messages.stop()
      this.tally.consuming()
      for await (const m of messages) {
        await this.handle(client, js, m)
        if (this.stopping) break
      }
      return E.right(undefined)
    } catch (cause) {
      return E.left(brokerError('nats', 'consume', cause))
    } finally {
      this.messages = undefined
    }
  }

  private inbound(m: JsMsg): InboundMessage {
    const headers: Record<string, string> = {}
    if (m.headers !== undefined) for (const k of m.headers.keys()) headers[k] = decodeHeaderValue(m.headers.get(k))
    const id = headers[HEADER.messageId] || headers['Nats-Msg-Id'] || `${m.info.stream}/${m.seq}`
    return { id, source: `${this.o.stream}/${this.o.consumer}`, subject: m.subject, headers, body: m.data, redelivered: m.info.deliveryCount > 1 }
  }

  private async handle(client: NatsClient, js: JetStreamClient, m: JsMsg): Promise<void> {
    const message = this.inbound(m)
    const verdict = await judge(this.o.route, this.o.handle, message)
    const attempt = m.info.deliveryCount
    if (verdict.kind === 'ack') {
      m.ack()
      this.tally.report(verdict.report)
      return
    }
    if (verdict.kind === 'retry') {
      m.nak(backoff(this.retry, attempt))
      this.tally.report({ _tag: 'Retrying', messageId: message.id, attempt, reason: verdict.reason })
      return
    }
    const h = client.transport.headers()
    for (const [k, v] of Object.entries(message.headers)) if (!k.startsWith('Nats-')) h.set(k, encodeHeaderValue(v))
    h.set(HEADER.deadLetterReason, encodeHeaderValue(verdict.reason.slice(0, REASON_LIMIT)))
    h.set(HEADER.deadLetterSource, encodeHeaderValue(`${this.o.stream}/${this.o.consumer}/${m.seq}`))
    h.set(HEADER.deadLetterMessageId, encodeHeaderValue(message.id))
    try {
      await js.publish(this.o.deadLetter.subject, m.data, { headers: h, msgID: `dead-letter:${message.id}` })
    } catch (cause) {
      m.nak(backoff(this.retry, attempt))
      this.tally.report({ _tag: 'Retrying', messageId: message.id, attempt, reason: brokerError('nats', 'dead-letter', cause) })
      return
    }
    m.ack()
    this.tally.report({ _tag: 'DeadLettered', messageId: message.id, reason: verdict.reason })
  }
}
