import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { HEADER, messageId, type DeliveryError } from '../../src/brokers/public.js'
import { undispatchedHeaders } from '../../src/domain/index.js'
import { memoryStore } from '../../src/memory/index.js'
import { rabbitMqForwarder, type RabbitMqForwarderOptions } from '../../src/rabbitmq/index.js'
import { checkAll, expectedMessages, right, sleep, TENANT, until, writeLog } from '../nats/fixtures.js'
import { amqpUrl, drainQueue, rabbitAvailable, topology } from './support.js'

const up = await rabbitAvailable()

const fresh = async (commits = 30) => {
  const store = memoryStore()
  right(await store.initialize())
  await writeLog(store, { commits, eventsPerCommit: 2, streams: 3 })
  return store
}

const quick = { pollMs: 20, idleBackoff: { maxMs: 50 }, leaseTtlMs: 1_000, standbyPollMs: 20, brokerRetry: { initialDelayMs: 20, maxDelayMs: 200 } } as const

describe('rabbitMqForwarder options', () => {
  it('answers a bad option as an InvalidArgument, before connecting', () => {
    const store = memoryStore()
    const base: RabbitMqForwarderOptions = { name: 'f', store, connection: amqpUrl, exchange: 'x', routingKey: () => 'k' }
    for (const o of [
      { ...base, exchange: 'x'.repeat(256) },
      { ...base, routingKey: 'k' as unknown as RabbitMqForwarderOptions['routingKey'] },
      { ...base, confirmTimeoutMs: 0 },
      { ...base, persistent: 'yes' as unknown as boolean },
      { ...base, brokerRetry: { initialDelayMs: 0 } },
      { ...base, connection: 7 as unknown as string },
      { ...base, name: 7 as unknown as string },
    ]) {
      const r = rabbitMqForwarder(o)
      expect(E.isLeft(r) && r.left._tag).toBe('InvalidArgument')
    }
  })
})

describe.skipIf(!up)('rabbitMqForwarder on RabbitMQ', () => {
  it('publishes each event with its id, topic, correlation id and headers, persistent and mandatory, and saves the checkpoint after the confirms', async () => {
    const store = await fresh()
    const t = await topology('fw')
    try {
      const f = right(rabbitMqForwarder({ ...quick, name: 'orders', store, connection: amqpUrl, exchange: t.exchange, routingKey: (m) => `accounts.${m.topic}`, batchSize: 7 }))
      const checkpoint = right(await f.caughtUp())
      const status = right(await f.status())
      await f.stop()
      expect(checkpoint.positions['0']).toBe(30)
      expect(status).toMatchObject({ broker: 'rabbitmq', published: 60, brokerFailures: 0 })

      const { received, messages } = await drainQueue(t)
      const expected = await expectedMessages(store)
      expect(checkAll(expected, received)).toEqual({ missing: [], unknown: [], orderBroken: [], repeats: [] })
      const first = messages[0]
      expect(first?.fields.routingKey).toBe('accounts.Deposited')
      expect(JSON.parse(first?.content.toString('utf8') ?? '')).toEqual(expected[0]?.body)
      expect(first?.properties).toMatchObject({
        messageId: messageId({ tenantId: TENANT, streamId: 'acc-0', commitSequence: 1, commitId: 'commit-0' }, 'event', 0),
        type: 'Deposited',
        correlationId: 'corr-0',
        contentType: 'application/json',
        deliveryMode: 2,
        appId: 'aett',
      })
      expect(first?.properties.headers).toMatchObject({
        [HEADER.topic]: 'Deposited',
        [HEADER.tenant]: TENANT,
        [HEADER.stream]: 'acc-0',
        [HEADER.revision]: '1',
        [HEADER.token]: '1',
        [HEADER.forwarder]: 'orders',
      })
    } finally {
      await t.dispose()
      await store.close()
    }
  })

  it('treats a returned (unroutable) message as a failure: the checkpoint waits until a queue is bound, then everything goes', async () => {
    const store = await fresh(10)
    const t = await topology('unroutable', { bind: false })
    const errors: DeliveryError[] = []
    try {
      const f = right(rabbitMqForwarder({ ...quick, name: 'unroutable', store, connection: amqpUrl, exchange: t.exchange, routingKey: (m) => `accounts.${m.topic}`, onBrokerError: (e) => errors.push(e) }))
      await until('the forwarder met a returned message', () => errors.length >= 3, 10_000)
      const waiting = right(await f.status())
      expect(waiting.subscription.position).toBe(0)
      expect(waiting.waitingForBroker).toBe(true)
      expect(errors[0]).toMatchObject({ _tag: 'Unroutable', exchange: t.exchange, routingKey: 'accounts.Deposited', replyCode: 312 })
      await t.channel.bindQueue(t.queue, t.exchange, 'accounts.*')
      right(await f.caughtUp())
      await f.stop()
      const { received } = await drainQueue(t)
      expect(checkAll(await expectedMessages(store), received)).toEqual({ missing: [], unknown: [], orderBroken: [], repeats: [] })
    } finally {
      await t.dispose()
      await store.close()
    }
  })

  it("publishes a saga's commands with messages: 'command'", async () => {
    const store = memoryStore()
    right(await store.initialize())
    const commands = [{ type: 'ReserveSeat', seat: '12A' }, { type: 'ChargeCard', amount: 30 }]
    right(
      await store.commit({
        tenantId: TENANT,
        streamId: 'booking-1',
        streamRevision: 1,
        commitId: 'b-1',
        commitSequence: 1,
        commitStamp: new Date(),
        headers: undispatchedHeaders(commands),
        events: [{ body: { type: 'BookingRequested', correlationId: 'trip-1' }, headers: {} }],
      }),
    )
    const t = await topology('cmd')
    try {
      const f = right(rabbitMqForwarder({ ...quick, name: 'dispatch', store, messages: 'command', connection: amqpUrl, exchange: t.exchange, routingKey: (m) => `commands.${m.topic}` }))
      right(await f.caughtUp())
      await f.stop()
      const { messages } = await drainQueue(t)
      expect(messages.map((m) => [m.fields.routingKey, m.properties.type, m.properties.correlationId])).toEqual([
        ['commands.ReserveSeat', 'ReserveSeat', 'trip-1'],
        ['commands.ChargeCard', 'ChargeCard', 'trip-1'],
      ])
      expect(messages.map((m) => JSON.parse(m.content.toString('utf8')) as unknown)).toEqual(commands)
    } finally {
      await t.dispose()
      await store.close()
    }
  })

  it('stops with a MessageError when the routing key function answers something unusable', async () => {
    const store = await fresh(6)
    const t = await topology('badkey')
    try {
      const f = right(
        rabbitMqForwarder({ ...quick, name: 'bad-key', store, connection: amqpUrl, exchange: t.exchange, batchSize: 1, routingKey: (m) => (m.checkpointToken === 3 ? 'k'.repeat(300) : 'events') }),
      )
      const r = await f.caughtUp()
      await f.stop()
      expect(E.isLeft(r) && r.left._tag === 'HandlerFailed' && r.left.error._tag === 'Left' && r.left.error.left._tag).toBe('MessageError')
      expect(right(await f.status()).subscription.position).toBe(2)
      await sleep(50)
      expect((await t.channel.checkQueue(t.queue)).messageCount).toBe(4)
    } finally {
      await t.dispose()
      await store.close()
    }
  })
})
