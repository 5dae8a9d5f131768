import * as E from 'fp-ts/lib/Either.js'
import type { JetStreamClient, JetStreamManager, PubAck } from '@nats-io/jetstream'
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node'
import { invalidArgument, type InvalidArgument } from '../eventstore/errors.js'
import { brokerError, messageError, type BrokerError, type ClientMissing, type MessageError } from '../brokers/errors.js'
import { commonProblem, forwarder, type BatchPublish, type Forwarder, type ForwarderOptions, type PublishReport, type Publisher } from '../brokers/forward.js'
import { bodyBytes, decodeHeaderValue, encodeHeaderValue, HEADER, wireHeaders, type OutboundMessage } from '../brokers/messages.js'
import { loadNats, type NatsClient } from './client.js'
import { subjectProblem } from './subjects.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export interface NatsForwarderOptions extends ForwarderOptions {
  /**
   * How to reach the server: the options of `connect` from `@nats-io/transport-node` (servers, credentials, TLS).
   * The forwarder opens its own connection with the client's reconnection turned off and reconnects by itself
   * (with `brokerRetry`'s back-off), so that nothing a dead connection had buffered is sent behind a newer message.
   */
  readonly connection: NodeConnectionOptions
  /** The JetStream stream the messages go to; it must exist and capture every subject `subject` gives. */
  readonly stream: string
  /** The subject of each message, e.g. `(m) => \`accounts.${m.topic}\`` (see `subjectToken` for ids in subjects). */
  readonly subject: (message: OutboundMessage) => string
  /** How long to wait for a message's PubAck (default 5,000 ms); then the batch is sent again. */
  readonly ackTimeoutMs?: number
  /** At most this many messages wait for their PubAck at once (default 1,000). */
  readonly maxInFlight?: number
  /**
   * How many messages of the stream's tail a forwarder reads back, when it takes over or after a failure, to find the
   * ones it already sent past its checkpoint (default 10,000): they are not sent again, however long ago they were
   * sent. A stream that only this forwarder writes to needs at most a batch's messages plus one.
   */
  readonly maxScan?: number
}

interface Routed {
  readonly message: OutboundMessage
  readonly subject: string
}

interface Connected {
  readonly nc: NatsConnection
  readonly js: JetStreamClient
  readonly jsm: JetStreamManager
  readonly client: NatsClient
}

// -------------------------------------------------------------------------------------
// publisher
// -------------------------------------------------------------------------------------

const SCAN_CONCURRENCY = 16

class NatsPublisher implements Publisher<Routed> {
  readonly broker = 'nats' as const
  private conn: Connected | undefined
  /** Messages of this forwarder found in the stream past the checkpoint: id -> token. */
  private known = new Map<string, number>()
  private closed = false
  private readonly me: string

  constructor(private readonly o: NatsForwarderOptions) {
    this.me = encodeHeaderValue(o.name)
  }

  prepare(messages: readonly OutboundMessage[]): E.Either<MessageError, readonly Routed[]> {
    const out: Routed[] = []
    for (const message of messages) {
      let subject: unknown
      try {
        subject = this.o.subject(message)
      } catch (thrown) {
        return E.left(messageError(message.id, message.checkpointToken, 'subject threw', thrown))
      }
      const problem = subjectProblem(subject)
      if (problem !== undefined) return E.left(messageError(message.id, message.checkpointToken, `subject: ${problem}`))
      out.push({ message, subject: subject as string })
    }
    return E.right(out)
  }

  private drop(): void {
    const c = this.conn
    this.conn = undefined
    // Closing discards whatever the dead connection still buffered; nothing of it reaches the server later.
    if (c !== undefined) void c.nc.close().catch(() => undefined)
  }

  private async connected(): Promise<E.Either<BrokerError | ClientMissing, Connected>> {
    if (this.conn !== undefined && !this.conn.nc.isClosed()) return E.right(this.conn)
    this.conn = undefined
    const client = await loadNats()
    if (E.isLeft(client)) return client
    let nc: NatsConnection
    try {
      nc = await client.right.transport.connect({ ...this.o.connection, reconnect: false, name: this.o.connection.name ?? `aett forwarder ${this.o.name}` })
    } catch (cause) {
      return E.left(brokerError('nats', 'connect', cause))
    }
    try {
      const jsm = await client.right.jetstream.jetstreamManager(nc)
      await jsm.streams.info(this.o.stream)
      const js = client.right.jetstream.jetstream(nc)
      if (this.closed) throw new Error('the forwarder stopped')
      this.conn = { nc, js, jsm, client: client.right }
      return E.right(this.conn)
    } catch (cause) {
      void nc.close().catch(() => undefined)
      return E.left(brokerError('nats', `open stream ${JSON.stringify(this.o.stream)}`, cause))
    }
  }

  /**
   * Reads the stream back from its last message to this forwarder's last message at or before the checkpoint (or
   * `maxScan` messages), collecting the ids of its messages from `fromToken` on: those are in the stream already.
   */
  private async scan(c: Connected, fromToken: number): Promise<E.Either<BrokerError, Map<string, number>>> {
    const found = new Map<string, number>()
    try {
      const info = await c.jsm.streams.info(this.o.stream)
      const first = Math.max(1, info.state.first_seq)
      let seq = info.state.last_seq
      let examined = 0
      const limit = this.o.maxScan ?? 10_000
      while (seq >= first && examined < limit) {
        const chunk: number[] = []
        while (chunk.length < SCAN_CONCURRENCY && seq >= first && examined < limit) {
          chunk.push(seq)
          seq -= 1
          examined += 1
        }
        const got = await Promise.all(chunk.map((s) => c.jsm.streams.getMessage(this.o.stream, { seq: s })))
        for (const m of got) {
          const h = m?.header
          if (h === undefined || h.get(HEADER.forwarder) !== this.me) continue
          const token = Number(h.get(HEADER.token))
          if (!(token >= fromToken)) return E.right(found)
          found.set(decodeHeaderValue(h.get('Nats-Msg-Id') || h.get(HEADER.messageId)), token)
        }
      }
      return E.right(found)
    } catch (cause) {
      return E.left(brokerError('nats', 'read the stream back', cause))
    }
  }

  async publish(batch: BatchPublish<Routed>): Promise<E.Either<BrokerError | ClientMissing, PublishReport>> {
    if (this.closed) return E.left(brokerError('nats', 'publish', new Error('the forwarder stopped')))
    const c = await this.connected()
    if (E.isLeft(c)) return c
    if (batch.recover) {
      const scanned = await this.scan(c.right, batch.fromToken)
      if (E.isLeft(scanned)) {
        this.drop()
        return scanned
      }
      this.known = scanned.right
    }
    for (const [id, token] of this.known) if (token < batch.fromToken) this.known.delete(id)
    const { js, client } = c.right
    const timeout = this.o.ackTimeoutMs ?? 5_000
    const window = this.o.maxInFlight ?? 1_000
    const pending: Promise<PubAck>[] = []
    let failure: unknown
    let settled = 0
    let recovered = 0
    for (const { message, subject } of batch.messages) {
      if (failure !== undefined) break
      if (this.known.has(message.id)) {
        recovered += 1
        continue
      }
      const h = client.transport.headers()
      for (const [k, v] of Object.entries(wireHeaders(message, this.o.name))) h.set(k, encodeHeaderValue(v))
      const p = js.publish(subject, bodyBytes(message), { msgID: message.id, headers: h, expect: { streamName: this.o.stream }, timeout })
      p.catch((cause: unknown) => {
        failure ??= cause
      })
      pending.push(p)
      if (pending.length - settled >= window) await (pending[settled++] as Promise<PubAck>).catch(() => undefined)
    }
    const results = await Promise.allSettled(pending)
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failure !== undefined || rejected !== undefined) {
      this.drop()
      return E.left(brokerError('nats', 'publish', failure ?? rejected?.reason))
    }
    let duplicates = 0
    for (const r of results) {
      const ack = (r as PromiseFulfilledResult<PubAck>).value
      if (ack.stream !== this.o.stream) {
        this.drop()
        return E.left(brokerError('nats', 'publish', new Error(`a message was stored by stream ${JSON.stringify(ack.stream)}, not ${JSON.stringify(this.o.stream)}`)))
      }
      if (ack.duplicate) duplicates += 1
    }
    return E.right({ published: pending.length, duplicates, recovered })
  }

  async close(): Promise<void> {
    this.closed = true
    const c = this.conn
    this.conn = undefined
    if (c !== undefined) await c.nc.close().catch(() => undefined)
  }
}

// -------------------------------------------------------------------------------------
// natsForwarder
// -------------------------------------------------------------------------------------

const isWhole = (u: unknown, min: number, max: number): boolean => typeof u === 'number' && Number.isSafeInteger(u) && u >= min && u <= max

/**
 * Forwards a store's events (or its sagas' commands) to a JetStream stream, from a subscription named `name`: each
 * message with its stable id as `Nats-Msg-Id` and the `Aett-*` headers, the checkpoint moving only after every
 * message of a batch has its PubAck. A forwarder that takes over (a restart, another instance) or retries after a
 * failure first reads back the stream's tail for its own messages past the checkpoint, and does not send those again:
 * each message is in the stream once, in the log's order, however long the forwarder was down (JetStream's own
 * de-duplication covers only its window). The server down or refusing: the batch waits and is tried again, without end.
 */
export const natsForwarder = (options: NatsForwarderOptions): E.Either<InvalidArgument, Forwarder> => {
  const bad = (reason: string) => E.left(invalidArgument('nats forwarder', reason))
  const common = commonProblem('nats forwarder', options)
  if (common !== undefined) return E.left(common)
  if (typeof options.connection !== 'object' || options.connection === null) return bad('connection must be the options of connect (@nats-io/transport-node)')
  if (typeof options.stream !== 'string' || !/^[^\s.*>/\\]+$/.test(options.stream)) return bad('stream must be a JetStream stream name')
  if (typeof options.subject !== 'function') return bad('subject must be a function')
  if (options.ackTimeoutMs !== undefined && !isWhole(options.ackTimeoutMs, 1, 2 ** 31 - 1)) return bad('ackTimeoutMs must be a whole number of ms ≥ 1')
  if (options.maxInFlight !== undefined && !isWhole(options.maxInFlight, 1, 1_000_000)) return bad('maxInFlight must be a whole number from 1')
  if (options.maxScan !== undefined && !isWhole(options.maxScan, 0, Number.MAX_SAFE_INTEGER)) return bad('maxScan must be a whole number ≥ 0')
  return forwarder(options, new NatsPublisher(options))
}
