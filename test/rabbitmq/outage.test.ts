import { describe, expect, it } from 'vitest'
import type { DeliveryError } from '../../src/brokers/public.js'
import type { SubscriptionStore } from '../../src/eventstore/index.js'
import { memoryStore } from '../../src/memory/index.js'
import { rabbitMqForwarder } from '../../src/rabbitmq/index.js'
import { checkAll, expectedMessages, right, sleep, until, writeLog } from '../nats/fixtures.js'
import { brokerProxy, drainQueue, rabbitAvailable, topology } from './support.js'

/**
 * Issue 20: the broker goes away mid-run. Stopping the shared RabbitMQ would disturb every other suite on the machine
 * (and a restart takes several seconds), so the forwarder reaches it through a TCP proxy of this test's own: once every
 * connection is cut and new ones refused for 1.5 s (the broker is down), once the connection hangs, holding every byte
 * back for longer than the forwarder's confirm timeout (the broker is unresponsive). The forwarder waits and retries;
 * afterwards the queue holds every event at least once, the repeats only from the batches in flight at each outage.
 */
const up = await rabbitAvailable()
const figure = (what: string, value: number | string) => console.log(`figure: rabbitmq forwarder (broker cut off mid-run): ${what} = ${value}`)

describe.skipIf(!up)('rabbitmq forwarder while the broker goes away', () => {
  it('waits, resumes, and leaves every event in the queue, repeating only the batches in flight', async () => {
    const proxy = await brokerProxy()
    const store = memoryStore()
    right(await store.initialize())
    await writeLog(store, { commits: 2_000, eventsPerCommit: 2, streams: 40 })
    const t = await topology('outage')
    const errors: DeliveryError[] = []
    const saves: number[] = []
    try {
      const ss = store.subscriptions
      const slow: SubscriptionStore = {
        ...ss,
        saveCheckpoint: async (lease, checkpoint) => {
          await sleep(8)
          const r = await ss.saveCheckpoint(lease, checkpoint)
          if (r._tag === 'Right') saves.push(checkpoint.positions['0'] ?? 0)
          return r
        },
      }
      const f = right(
        rabbitMqForwarder({
          name: 'outage',
          store: { ...store, subscriptions: slow },
          connection: proxy.url,
          socketOptions: { timeout: 1_000 },
          exchange: t.exchange,
          routingKey: (m) => `events.${m.topic}`,
          batchSize: 10,
          confirmTimeoutMs: 1_000,
          pollMs: 20,
          brokerRetry: { initialDelayMs: 50, maxDelayMs: 300 },
          onBrokerError: (e) => errors.push(e),
        }),
      )
      const position = () => saves.at(-1) ?? 0
      const ranges: { from: number; to: number }[] = []
      const outages: string[] = []
      for (const [at, how] of [
        [600, 'cut'],
        [1_400, 'stall'],
      ] as const) {
        await until(`the forwarder passed token ${at}`, () => position() >= at, 30_000)
        const before = errors.length
        const t0 = Date.now()
        if (how === 'cut') proxy.cut()
        else proxy.stall()
        await until('the forwarder met the outage', () => errors.length > before, 10_000)
        // Read only now: a batch confirmed just before the outage may still have been saving its checkpoint.
        const from = position()
        await sleep(how === 'cut' ? 1_500 : 500)
        expect(right(await f.status()).waitingForBroker).toBe(true)
        expect(position()).toBe(from)
        proxy.restore()
        await until('the forwarder moved on', () => position() > from, 20_000)
        ranges.push({ from, to: saves.find((p) => p > from) ?? from })
        outages.push(`${how}: ${((Date.now() - t0) / 1000).toFixed(1)} s without progress, forwarder at token ${from} of 2000`)
      }
      right(await f.caughtUp())
      const status = right(await f.status())
      await f.stop()

      const { received } = await drainQueue(t)
      const check = checkAll(await expectedMessages(store), received)
      expect(check.missing).toEqual([])
      expect(check.unknown).toEqual([])
      expect(check.orderBroken).toEqual([])
      const stray = check.repeats.filter((r) => !ranges.some((g) => r.token > g.from && r.token <= g.to))
      expect(stray).toEqual([])
      for (const o of outages) figure('outage', o)
      figure('broker failures met (each waited for and retried)', `${status.brokerFailures} (${[...new Set(errors.map((e) => (e._tag === 'BrokerError' ? e.operation : e._tag)))].join(', ')})`)
      figure('messages in the queue', `${received.length} for 4000 events (${check.repeats.length} repeats, all from the batches in flight)`)
    } finally {
      await t.dispose()
      await store.close()
      await proxy.close()
    }
  }, 60_000)
})
