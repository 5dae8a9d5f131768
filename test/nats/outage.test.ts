import { describe, expect, it } from 'vitest'
import type { SubscriptionStore } from '../../src/eventstore/index.js'
import { memoryStore } from '../../src/memory/index.js'
import { natsForwarder } from '../../src/nats/index.js'
import { checkAll, expectedMessages, right, sleep, until, writeLog } from './fixtures.js'
import { createStream, natsAvailable, privateServer, readStream, streamName } from './support.js'

/**
 * Issue 20: the broker is stopped and started mid-run. The server is a private nats-server (its own port and store
 * directory, started by this test), so stopping it disturbs nobody; it is stopped twice while the forwarder sends
 * 4,000 events, once cleanly (SIGTERM) and once with SIGKILL, each time for longer than the stream's duplicate window.
 * The forwarder waits and retries; afterwards the stream holds every event exactly once, in per-stream order.
 */
const up = await natsAvailable()
const figure = (what: string, value: number | string) => console.log(`figure: nats forwarder (server stopped mid-run): ${what} = ${value}`)

describe.skipIf(!up)('nats forwarder while its server stops and starts', () => {
  it('waits, resumes, and leaves every event in the stream exactly once', async () => {
    const server = await privateServer()
    const store = memoryStore()
    right(await store.initialize())
    await writeLog(store, { commits: 2_000, eventsPerCommit: 2, streams: 40 })
    const name = streamName('outage')
    let stream = await createStream(name, { duplicateWindowMs: 200, servers: server.servers })
    const errors: string[] = []
    try {
      // A little pause per checkpoint, so that the run lasts long enough to stop the server twice in the middle of it.
      const ss = store.subscriptions
      const slow: SubscriptionStore = {
        ...ss,
        saveCheckpoint: async (lease, checkpoint) => {
          await sleep(8)
          return ss.saveCheckpoint(lease, checkpoint)
        },
      }
      const f = right(
        natsForwarder({
          name: 'outage',
          store: { ...store, subscriptions: slow },
          connection: { servers: server.servers, timeout: 1_000 },
          stream: name,
          subject: (m) => `${name}.${m.topic}`,
          batchSize: 10,
          ackTimeoutMs: 1_000,
          pollMs: 20,
          brokerRetry: { initialDelayMs: 50, maxDelayMs: 300 },
          onBrokerError: (e) => errors.push(e._tag === 'BrokerError' ? e.message : e._tag),
        }),
      )
      const position = async () => right(await f.status()).subscription.position
      const outages: { at: number; waited: number; signal: string }[] = []
      for (const [at, signal] of [
        [600, 'SIGTERM'],
        [1_400, 'SIGKILL'],
      ] as const) {
        await until(`the forwarder passed token ${at}`, async () => (await position()) >= at, 30_000)
        await stream.nc.close() // the test's own connection to the server that is about to go
        if (signal === 'SIGKILL') await server.kill()
        else await server.stop()
        const t = Date.now()
        const before = errors.length
        await until('the forwarder met the outage', () => errors.length > before, 10_000)
        await sleep(1_000)
        const stuck = right(await f.status())
        expect(stuck.waitingForBroker).toBe(true)
        await server.start()
        stream = await createStream(name, { servers: server.servers, existing: true })
        outages.push({ at: await position(), waited: Date.now() - t, signal })
      }
      right(await f.caughtUp())
      const status = right(await f.status())
      await f.stop()
      const { received } = await readStream(stream)
      const check = checkAll(await expectedMessages(store), received)
      expect(check.missing).toEqual([])
      expect(check.unknown).toEqual([])
      expect(check.orderBroken).toEqual([])
      expect(check.repeats).toEqual([])
      expect(received).toHaveLength(4_000)
      for (const o of outages) figure(`server stopped with ${o.signal}`, `${(o.waited / 1000).toFixed(1)} s, forwarder at token ${o.at} of 2000`)
      figure('broker failures met (each waited for and retried)', status.brokerFailures)
      figure('messages found already in the stream after reconnecting (not sent again)', status.recovered)
      figure('events in the stream', `${received.length} (expected 4000, each once)`)
    } finally {
      await stream.dispose()
      await store.close()
      await server.dispose()
    }
  }, 60_000)
})
