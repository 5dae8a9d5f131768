import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { commitIdOfMessage, HEADER, type InboundReport } from '../../src/brokers/public.js'
import { memoryStore } from '../../src/memory/index.js'
import { rabbitMqCommandConsumer, type RabbitMqCommandConsumerOptions } from '../../src/rabbitmq/index.js'
import { right, sleep, TENANT, until } from '../nats/fixtures.js'
import { counters, envelope, route, type CounterCommand, type CounterRefusal } from '../nats/inboundFixtures.js'
import { amqpUrl, brokerProxy, drainQueue, rabbitAvailable, topology } from './support.js'

const up = await rabbitAvailable()

describe('rabbitMqCommandConsumer options', () => {
  it('answers a bad option as an InvalidArgument', () => {
    const { handle } = counters(memoryStore())
    const base: RabbitMqCommandConsumerOptions<CounterCommand, CounterRefusal> = { connection: amqpUrl, queue: 'q', deadLetter: { exchange: '', routingKey: 'dead' }, route, handle }
    for (const o of [
      { ...base, queue: '' },
      { ...base, prefetch: 0 },
      { ...base, deadLetter: { exchange: '' } as unknown as RabbitMqCommandConsumerOptions<CounterCommand, CounterRefusal>['deadLetter'] },
      { ...base, handle: 1 as unknown as typeof handle },
    ]) {
      const r = rabbitMqCommandConsumer(o)
      expect(E.isLeft(r) && r.left._tag).toBe('InvalidArgument')
    }
  })
})

describe.skipIf(!up)('rabbitMqCommandConsumer on RabbitMQ', () => {
  it('handles a message delivered twice once, acknowledges Rejected, requeues after a StorageError, and dead-letters what it cannot decode', async () => {
    const store = memoryStore()
    right(await store.initialize())
    const { handle, state, repository } = counters(store)
    const t = await topology('in')
    const dead = `${t.queue}.dead`
    await t.channel.assertQueue(dead, { durable: true, autoDelete: false })
    const reports: InboundReport<CounterRefusal>[] = []
    const c = right(
      rabbitMqCommandConsumer({
        connection: amqpUrl,
        queue: t.queue,
        deadLetter: { exchange: '', routingKey: dead },
        route,
        handle,
        retry: { initialDelayMs: 20, maxDelayMs: 100 },
        onReport: (r) => reports.push(r),
      }),
    )
    try {
      right(await c.started())
      const send = (body: string, messageId?: string) =>
        t.channel.publish(t.exchange, 'commands.counter', Buffer.from(body), { persistent: true, contentType: 'application/json', ...(messageId === undefined ? {} : { messageId }) })
      send(envelope('counter-1', { type: 'Add', amount: 5 }), 'm-1')
      send(envelope('counter-1', { type: 'Add', amount: 5 }), 'm-1') // delivered twice
      send(envelope('counter-1', { type: 'Take', amount: 50 }), 'm-2') // refused by the decider
      state.failAfterStoring.add(commitIdOfMessage('m-3'))
      send(envelope('counter-1', { type: 'Add', amount: 2 }), 'm-3') // stored, but the answer is lost
      send('{ not json', 'm-4') // undecodable
      send(envelope('counter-1', { type: 'Add', amount: 100 })) // no message id: cannot be handled idempotently
      await until('every message was dealt with', () => reports.filter((r) => r._tag !== 'Retrying').length >= 6, 15_000)

      const loaded = right(await repository.load('counter-1')())
      expect(loaded.state.total).toBe(7)
      const seen = reports.map((r) => `${r._tag} ${r.messageId.startsWith(t.queue) ? 'no id' : r.messageId}`)
      // m-3 is requeued after its back-off, behind the messages already delivered.
      expect(seen.filter((r) => r !== 'Duplicate m-3')).toEqual(['Handled m-1', 'Duplicate m-1', 'Rejected m-2', 'Retrying m-3', 'DeadLettered m-4', 'DeadLettered no id'])
      expect(seen.indexOf('Duplicate m-3')).toBeGreaterThan(seen.indexOf('Retrying m-3'))
      expect(reports[3]).toMatchObject({ _tag: 'Retrying', attempt: 1, reason: { _tag: 'StorageError' } })
      const commits = []
      for await (const r of store.get(TENANT, 'counter-1')) commits.push(right(r))
      expect(commits.map((x) => x.commitId)).toEqual([commitIdOfMessage('m-1'), commitIdOfMessage('m-3')])

      const { messages } = await drainQueue(t, dead)
      expect(messages.map((m) => m.content.toString('utf8'))).toEqual(['{ not json', envelope('counter-1', { type: 'Add', amount: 100 })])
      const h = messages[0]?.properties.headers as Record<string, unknown>
      expect(h[HEADER.deadLetterReason]).toMatch(/^the body is not JSON/)
      expect(h[HEADER.deadLetterMessageId]).toBe('m-4')
      expect(String((messages[1]?.properties.headers as Record<string, unknown>)[HEADER.deadLetterReason])).toMatch(/no message id/)
      expect(c.status()).toMatchObject({ state: 'consuming', handled: 1, duplicates: 2, rejected: 1, deadLettered: 2, retries: 1 })
      await until('the queue is empty and nothing is unacknowledged', async () => (await t.channel.checkQueue(t.queue)).messageCount === 0, 10_000)
    } finally {
      await c.stop()
      expect(c.status().state).toBe('stopped')
      await t.channel.deleteQueue(dead).catch(() => undefined)
      await t.dispose()
      await store.close()
    }
  })

  it('reconnects after the connection is cut mid-message: what was delivered and not acknowledged comes again, and is stored once', async () => {
    const proxy = await brokerProxy()
    const store = memoryStore()
    right(await store.initialize())
    const { handle, repository } = counters(store)
    const t = await topology('cut')
    const reports: InboundReport<CounterRefusal>[] = []
    const slow: typeof handle = (id, command, options) => async () => {
      await sleep(15)
      return handle(id, command, options)()
    }
    const c = right(
      rabbitMqCommandConsumer({
        connection: proxy.url,
        queue: t.queue,
        prefetch: 5,
        deadLetter: { exchange: '', routingKey: `${t.queue}.dead` },
        route,
        handle: slow,
        retry: { initialDelayMs: 50, maxDelayMs: 200 },
        onReport: (r) => reports.push(r),
      }),
    )
    try {
      right(await c.started())
      for (let i = 0; i < 40; i++) t.channel.publish(t.exchange, 'commands', Buffer.from(envelope('counter-1', { type: 'Add', amount: 1 })), { messageId: `m-${i}` })
      await until('a few were handled', () => c.status().handled >= 8, 10_000)
      proxy.cut()
      await until('the consumer noticed', () => c.status().state === 'reconnecting', 10_000)
      await sleep(300)
      proxy.restore()
      await until('every message was handled', () => new Set(reports.filter((r) => r._tag === 'Handled' || r._tag === 'Duplicate').map((r) => r.messageId)).size >= 40, 20_000)
      expect(right(await repository.load('counter-1')()).state.total).toBe(40)
      expect(reports.filter((r) => r._tag === 'Handled')).toHaveLength(40)
      console.log(`figure: rabbitmq command consumer (connection cut mid-run): 40 messages stored once each, ${c.status().duplicates} redelivered and found already handled`)
    } finally {
      await c.stop()
      await t.dispose()
      await store.close()
      await proxy.close()
    }
  })
})
