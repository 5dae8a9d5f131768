import net from 'node:net'
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib'
import { HEADER } from '../../src/brokers/messages.js'
import { serviceAvailable, uniqueName } from '../support/services.js'
import { until, type Received } from '../nats/fixtures.js'

/** The shared broker (`AETT_AMQP_URL`, default amqp://guest:guest@127.0.0.1:5672). */
export const amqpUrl = process.env['AETT_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672'

export const rabbitAvailable = (): Promise<boolean> =>
  serviceAvailable('RabbitMQ', async () => {
    const c = await amqp.connect(amqpUrl, { timeout: 2_000 })
    await c.close()
  })

export interface TestTopology {
  /** The exchange (topic) and the durable queue bound to it with `#`. */
  readonly exchange: string
  readonly queue: string
  readonly model: ChannelModel
  readonly channel: Channel
  /** Deletes what `topology` created and closes the connection. */
  readonly dispose: () => Promise<void>
}

/** A topic exchange and a queue of this test's own (unique names); `bind: false` leaves the queue unbound. */
export const topology = async (what: string, options: { bind?: boolean; url?: string } = {}): Promise<TestTopology> => {
  const name = uniqueName(`aett_${what}`)
  const model = await amqp.connect(options.url ?? amqpUrl)
  const channel = await model.createChannel()
  const exchange = `${name}.x`
  const queue = `${name}.q`
  await channel.assertExchange(exchange, 'topic', { durable: true, autoDelete: false })
  await channel.assertQueue(queue, { durable: true, autoDelete: false })
  if (options.bind !== false) await channel.bindQueue(queue, exchange, '#')
  return {
    exchange,
    queue,
    model,
    channel,
    dispose: async () => {
      await channel.deleteQueue(queue).catch(() => undefined)
      await channel.deleteExchange(exchange).catch(() => undefined)
      await model.close().catch(() => undefined)
    },
  }
}

export interface QueueContent {
  readonly received: Received[]
  readonly messages: ConsumeMessage[]
}

/** Takes every message of a queue (as many as it held when called), in queue order, acknowledging them. */
export const drainQueue = async (t: TestTopology, queue = t.queue): Promise<QueueContent> => {
  const { messageCount } = await t.channel.checkQueue(queue)
  const messages: ConsumeMessage[] = []
  if (messageCount === 0) return { received: [], messages }
  const ch = await t.model.createChannel()
  await ch.prefetch(1_000)
  const { consumerTag } = await ch.consume(queue, (m) => {
    if (m !== null) {
      messages.push(m)
      ch.ack(m)
    }
  })
  await until(`${messageCount} messages were taken from ${queue}`, () => messages.length >= messageCount, 30_000)
  await ch.cancel(consumerTag)
  await ch.close()
  const h = (m: ConsumeMessage, k: string) => String((m.properties.headers as Record<string, unknown> | undefined)?.[k] ?? '')
  return {
    messages,
    received: messages.map((m) => ({
      id: String(m.properties.messageId),
      stream: `${h(m, HEADER.tenant)}/${h(m, HEADER.stream)}`,
      revision: Number(h(m, HEADER.revision)),
      token: Number(h(m, HEADER.token)),
    })),
  }
}

// -------------------------------------------------------------------------------------
// a proxy that makes the broker go away
// -------------------------------------------------------------------------------------

export interface BrokerProxy {
  /** The URL to reach the broker through the proxy. */
  readonly url: string
  /** Cuts every connection and refuses new ones: the broker is gone. */
  cut(): void
  /** Keeps the connections but lets nothing through either way (held back until `restore`): the broker hangs. */
  stall(): void
  /** Lets connections in and data through again. */
  restore(): void
  close(): Promise<void>
}

/** A TCP proxy in front of the shared broker, so that a test can take the broker away from its own clients only. */
export const brokerProxy = async (target = new URL(amqpUrl)): Promise<BrokerProxy> => {
  let mode: 'open' | 'cut' | 'stalled' = 'open'
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; flush: () => void }>()
  const server = net.createServer((client) => {
    client.on('error', () => undefined)
    if (mode === 'cut') {
      client.destroy()
      return
    }
    const upstream = net.connect(Number(target.port || 5672), target.hostname)
    upstream.on('error', () => undefined)
    const pair = { client, upstream, flush: () => {} }
    pairs.add(pair)
    // While stalled, bytes are held back (as an unplugged cable would), and delivered when the link comes back.
    const held: { to: net.Socket; data: Buffer }[] = []
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on('data', (data: Buffer) => {
        if (mode === 'open' && held.length === 0) to.write(data)
        else held.push({ to, data })
      })
    pair.flush = () => {
      for (const h of held.splice(0)) h.to.write(h.data)
    }
    forward(client, upstream)
    forward(upstream, client)
    const end = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end)
    upstream.on('close', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as net.AddressInfo).port
  const url = new URL(amqpUrl)
  url.hostname = '127.0.0.1'
  url.port = String(port)
  return {
    url: url.toString(),
    cut: () => {
      mode = 'cut'
      for (const p of pairs) {
        p.client.destroy()
        p.upstream.destroy()
      }
    },
    stall: () => {
      mode = 'stalled'
    },
    restore: () => {
      mode = 'open'
      for (const p of pairs) p.flush()
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const p of pairs) {
          p.client.destroy()
          p.upstream.destroy()
        }
        server.close(() => resolve())
      }),
  }
}
