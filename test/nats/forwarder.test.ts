import * as E from 'fp-ts/lib/Either.js'
import { headers as natsHeaders } from '@nats-io/transport-node'
import { jetstream } from '@nats-io/jetstream'
import { describe, expect, it } from 'vitest'
import { HEADER, messageId } from '../../src/brokers/messages.js'
import type { SubscriptionStore } from '../../src/eventstore/index.js'
import { memoryStore } from '../../src/memory/index.js'
import { natsForwarder, type NatsForwarderOptions } from '../../src/nats/index.js'
import { undispatchedHeaders } from '../../src/domain/index.js'
import { checkAll, expectedMessages, right, sleep, TENANT, until, writeLog } from './fixtures.js'
import { createStream, natsAvailable, natsServers, readStream, streamName } from './support.js'

const up = await natsAvailable()

const fresh = async (commits = 30) => {
  const store = memoryStore()
  right(await store.initialize())
  await writeLog(store, { commits, eventsPerCommit: 2, streams: 3 })
  return store
}

const quick = { pollMs: 20, idleBackoff: { maxMs: 50 }, leaseTtlMs: 1_000, standbyPollMs: 20, brokerRetry: { initialDelayMs: 20, maxDelayMs: 200 } } as const

describe('natsForwarder options', () => {
  it('answers a bad option as an InvalidArgument, before connecting', () => {
    const store = memoryStore()
    const base: NatsForwarderOptions = { name: 'f', store, connection: { servers: natsServers }, stream: 's', subject: () => 's.x' }
    const bad = [
      { ...base, stream: 'a.b' },
      { ...base, subject: 'x' as unknown as NatsForwarderOptions['subject'] },
      { ...base, messages: 'all' as unknown as 'event' },
      { ...base, ackTimeoutMs: 0 },
      { ...base, maxInFlight: 1.5 },
      { ...base, name: '' },
      { ...base, batchSize: 0 },
      { ...base, connection: null as unknown as NatsForwarderOptions['connection'] },
    ]
    for (const o of bad) {
      const r = natsForwarder(o)
      expect(E.isLeft(r) && r.left._tag, JSON.stringify(o.stream)).toBe('InvalidArgument')
    }
  })
})

describe.skipIf(!up)('natsForwarder on JetStream', () => {
  it('sends each event once with its stable id and headers, on the subject its function chooses, and saves the checkpoint after the PubAcks', async () => {
    const store = await fresh()
    await store.commit({
      tenantId: TENANT,
      streamId: 'traced',
      streamRevision: 1,
      commitId: 'traced-1',
      commitSequence: 1,
      commitStamp: new Date('2026-01-02T00:00:00.000Z'),
      headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      events: [{ body: { type: 'Deposited', id: 'traced', version: 1, amount: 1, correlationId: 'from the body' }, headers: {} }],
    })
    const stream = await createStream(streamName('fw'))
    try {
      const f = right(natsForwarder({ ...quick, name: 'orders', store, connection: { servers: natsServers }, stream: stream.name, subject: (m) => `${stream.name}.${m.topic}`, batchSize: 7 }))
      const checkpoint = right(await f.caughtUp())
      const status = right(await f.status())
      await f.stop()
      expect(checkpoint.positions['0']).toBe(31)
      expect(status.published).toBe(61)
      expect(status.subscription.position).toBe(31)

      const { received, headers, subjects, bodies } = await readStream(stream)
      const expected = await expectedMessages(store)
      const check = checkAll(expected, received)
      expect(check).toEqual({ missing: [], unknown: [], orderBroken: [], repeats: [] })
      expect(subjects.slice(0, 2)).toEqual([`${stream.name}.Deposited`, `${stream.name}.Withdrawn`])
      expect(JSON.parse(bodies[0] ?? '')).toEqual(expected[0]?.body)
      expect(headers[0]).toMatchObject({
        'Nats-Msg-Id': messageId({ tenantId: TENANT, streamId: 'acc-0', commitSequence: 1, commitId: 'commit-0' }, 'event', 0),
        [HEADER.kind]: 'event',
        [HEADER.topic]: 'Deposited',
        [HEADER.tenant]: TENANT,
        [HEADER.stream]: 'acc-0',
        [HEADER.revision]: '1',
        [HEADER.commitId]: 'commit-0',
        [HEADER.commitSequence]: '1',
        [HEADER.token]: '1',
        [HEADER.index]: '0',
        [HEADER.correlationId]: 'corr-0',
        [HEADER.forwarder]: 'orders',
      })
      expect(headers[1]?.[HEADER.revision]).toBe('2')
      expect(headers.at(-1)).toMatchObject({ [HEADER.correlationId]: 'from the body', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' })
    } finally {
      await stream.dispose()
      await store.close()
    }
  })

  it("sends a saga's commands with messages: 'command', one message per command, in dispatch order", async () => {
    const store = memoryStore()
    right(await store.initialize())
    const commands = [
      { type: 'ReserveSeat', seat: '12A', correlationId: 'trip-1' },
      { type: 'ChargeCard', amount: 30 },
    ]
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
    // A commit without commands gives no message.
    right(await store.commit({ tenantId: TENANT, streamId: 'booking-1', streamRevision: 2, commitId: 'b-2', commitSequence: 2, commitStamp: new Date(), headers: {}, events: [{ body: { type: 'Noted' }, headers: {} }] }))
    const stream = await createStream(streamName('cmd'))
    try {
      const f = right(natsForwarder({ ...quick, name: 'dispatch', store, messages: 'command', connection: { servers: natsServers }, stream: stream.name, subject: (m) => `${stream.name}.commands.${m.topic}` }))
      right(await f.caughtUp())
      await f.stop()
      const { headers, subjects, bodies } = await readStream(stream)
      expect(subjects).toEqual([`${stream.name}.commands.ReserveSeat`, `${stream.name}.commands.ChargeCard`])
      expect(bodies.map((b) => JSON.parse(b) as unknown)).toEqual(commands)
      expect(headers.map((h) => [h[HEADER.kind], h[HEADER.index], h[HEADER.correlationId], h[HEADER.revision]])).toEqual([
        ['command', '0', 'trip-1', '1'],
        ['command', '1', 'trip-1', '1'],
      ])
    } finally {
      await stream.dispose()
      await store.close()
    }
  })

  it('does not send again, after a restart longer than the duplicate window, what it sent past its checkpoint, even among other publishers', async () => {
    const store = await fresh(40)
    const stream = await createStream(streamName('rescan'), { duplicateWindowMs: 300 })
    try {
      // The first instance sends everything, but its checkpoint writes are lost (as if it died after each PubAck).
      const ss = store.subscriptions
      const forgetful: SubscriptionStore = { ...ss, saveCheckpoint: async () => E.right(undefined) }
      const options = { ...quick, name: 'rescan', connection: { servers: natsServers }, stream: stream.name, subject: (m: { topic: string }) => `${stream.name}.${m.topic}`, batchSize: 10 }
      const first = right(natsForwarder({ ...options, store: { ...store, subscriptions: forgetful } }))
      right(await first.caughtUp())
      await first.stop()
      expect(right(await first.status()).subscription.position).toBe(0)
      // Another publisher writes to the same stream meanwhile.
      const js = jetstream(stream.nc)
      for (let i = 0; i < 25; i++) {
        const h = natsHeaders()
        h.set(HEADER.forwarder, 'someone-else')
        h.set(HEADER.token, '1')
        await js.publish(`${stream.name}.foreign`, 'x', { headers: h })
      }
      await sleep(500) // past the duplicate window: JetStream would take the same ids again

      const second = right(natsForwarder({ ...options, store }))
      right(await second.caughtUp())
      const status = right(await second.status())
      await second.stop()
      expect(status.recovered).toBe(80)
      expect(status.published).toBe(0)
      const info = await stream.jsm.streams.info(stream.name)
      expect(info.state.messages).toBe(80 + 25)
      const { received } = await readStream(stream, `${stream.name}.Deposited`)
      expect(received).toHaveLength(40)
    } finally {
      await stream.dispose()
      await store.close()
    }
  })

  it('stops with a MessageError when the subject function throws, its checkpoint before that commit', async () => {
    const store = await fresh(10)
    const stream = await createStream(streamName('bad'))
    try {
      const f = right(
        natsForwarder({
          ...quick,
          name: 'bad-subject',
          store,
          connection: { servers: natsServers },
          stream: stream.name,
          batchSize: 1,
          subject: (m) => {
            if (m.checkpointToken === 4) throw new Error('no subject for this one')
            return `${stream.name}.${m.topic}`
          },
        }),
      )
      const r = await f.caughtUp()
      await f.stop()
      expect(E.isLeft(r) && r.left._tag === 'HandlerFailed' && r.left.error._tag === 'Left' && r.left.error.left._tag).toBe('MessageError')
      expect(right(await f.status()).subscription.position).toBe(3)
      expect((await stream.jsm.streams.info(stream.name)).state.messages).toBe(6)
    } finally {
      await stream.dispose()
      await store.close()
    }
  })

  it('waits for a stream that does not exist yet, then sends everything, skipping nothing', async () => {
    const store = await fresh(10)
    const name = streamName('late')
    const errors: string[] = []
    const f = right(natsForwarder({ ...quick, name: 'late', store, connection: { servers: natsServers }, stream: name, subject: (m) => `${name}.${m.topic}`, onBrokerError: (e) => errors.push(e._tag) }))
    await until('the forwarder met the missing stream', () => errors.length >= 2, 10_000)
    const waiting = right(await f.status())
    expect(waiting.waitingForBroker).toBe(true)
    expect(waiting.lastBrokerError?._tag).toBe('BrokerError')
    expect(waiting.subscription.position).toBe(0)
    const stream = await createStream(name)
    try {
      right(await f.caughtUp())
      await f.stop()
      const { received } = await readStream(stream)
      expect(checkAll(await expectedMessages(store), received)).toEqual({ missing: [], unknown: [], orderBroken: [], repeats: [] })
    } finally {
      await stream.dispose()
      await store.close()
    }
  })
})
