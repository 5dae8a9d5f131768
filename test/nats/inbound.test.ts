import * as E from 'fp-ts/lib/Either.js'
import { headers as natsHeaders } from '@nats-io/transport-node'
import { jetstream } from '@nats-io/jetstream'
import { describe, expect, it } from 'vitest'
import { commitIdOfMessage, HEADER, type InboundReport } from '../../src/brokers/public.js'
import { memoryStore } from '../../src/memory/index.js'
import { natsCommandConsumer, type NatsCommandConsumerOptions } from '../../src/nats/index.js'
import { right, TENANT, until } from './fixtures.js'
import { counters, envelope, route, type CounterCommand, type CounterRefusal } from './inboundFixtures.js'
import { createStream, natsAvailable, natsServers, readStream, streamName } from './support.js'

const up = await natsAvailable()

describe('natsCommandConsumer options', () => {
  it('answers a bad option as an InvalidArgument', () => {
    const store = memoryStore()
    const { handle } = counters(store)
    const base: NatsCommandConsumerOptions<CounterCommand, CounterRefusal> = {
      connection: { servers: natsServers },
      stream: 's',
      consumer: 'c',
      deadLetter: { subject: 's.dead' },
      route,
      handle,
    }
    for (const o of [{ ...base, consumer: 'a b' }, { ...base, deadLetter: { subject: 'a.>' } }, { ...base, route: undefined as unknown as typeof route }, { ...base, retry: { initialDelayMs: -1 } }]) {
      const r = natsCommandConsumer(o)
      expect(E.isLeft(r) && r.left._tag).toBe('InvalidArgument')
    }
  })
})

describe.skipIf(!up)('natsCommandConsumer on JetStream', () => {
  it('handles a message delivered twice once, acknowledges Rejected, redelivers after a StorageError, and dead-letters what it cannot decode', async () => {
    const store = memoryStore()
    right(await store.initialize())
    const { handle, state, repository } = counters(store)
    const name = streamName('in')
    const stream = await createStream(name)
    const reports: InboundReport<CounterRefusal>[] = []
    const c = right(
      natsCommandConsumer({
        connection: { servers: natsServers },
        stream: name,
        consumer: 'counters',
        filterSubject: `${name}.commands.>`,
        deadLetter: { subject: `${name}.dead` },
        route,
        handle,
        retry: { initialDelayMs: 20, maxDelayMs: 100 },
        onReport: (r) => reports.push(r),
      }),
    )
    try {
      right(await c.started())
      const js = jetstream(stream.nc)
      const publish = async (body: string, id: string) => {
        const h = natsHeaders()
        h.set(HEADER.messageId, id)
        await js.publish(`${name}.commands.counter`, body, { headers: h })
      }
      // The same message twice (two stream messages with one message id: a producer that sent it again).
      await publish(envelope('counter-1', { type: 'Add', amount: 5 }), 'm-1')
      await publish(envelope('counter-1', { type: 'Add', amount: 5 }), 'm-1')
      // Refused by the decider: acknowledged and reported.
      await publish(envelope('counter-1', { type: 'Take', amount: 50 }), 'm-2')
      // Stored, but the answer is lost (a StorageError): redelivered, and then found already handled.
      state.failAfterStoring.add(commitIdOfMessage('m-3'))
      await publish(envelope('counter-1', { type: 'Add', amount: 2 }), 'm-3')
      // Not a command at all.
      await publish('{ not json', 'm-4')
      await until('every message was dealt with', () => reports.filter((r) => r._tag !== 'Retrying').length >= 5, 15_000)

      const loaded = right(await repository.load('counter-1')())
      expect(loaded.state.total).toBe(7)
      expect(loaded.version).toBe(2)
      const seen = reports.map((r) => `${r._tag} ${r.messageId}`)
      // The redelivery of m-3 comes after its back-off, so m-4 may be dealt with before it.
      expect(seen.filter((r) => r !== 'Duplicate m-3')).toEqual(['Handled m-1', 'Duplicate m-1', 'Rejected m-2', 'Retrying m-3', 'DeadLettered m-4'])
      expect(seen.indexOf('Duplicate m-3')).toBeGreaterThan(seen.indexOf('Retrying m-3'))
      expect(reports[2]).toMatchObject({ _tag: 'Rejected', error: { _tag: 'NotEnough', total: 5 } })
      expect(reports[3]).toMatchObject({ _tag: 'Retrying', attempt: 1, reason: { _tag: 'StorageError' } })
      // The commit carries the id derived from the message id.
      const commits = []
      for await (const r of store.get(TENANT, 'counter-1')) commits.push(right(r))
      expect(commits.map((x) => x.commitId)).toEqual([commitIdOfMessage('m-1'), commitIdOfMessage('m-3')])
      expect(commits[0]?.headers['aett.message.id']).toBe('m-1')

      const dead = await readStream(stream, `${name}.dead`)
      expect(dead.bodies).toEqual(['{ not json'])
      expect(dead.headers[0]?.[HEADER.deadLetterReason]).toMatch(/^the body is not JSON/)
      expect(dead.headers[0]?.[HEADER.deadLetterMessageId]).toBe('m-4')
      const status = c.status()
      expect(status).toMatchObject({ state: 'consuming', handled: 1, duplicates: 2, rejected: 1, deadLettered: 1, retries: 1 })
      // Everything was acknowledged: nothing is pending on the consumer.
      await until('the consumer has nothing pending', async () => {
        const info = await stream.jsm.consumers.info(name, 'counters')
        return info.num_ack_pending === 0 && info.num_pending === 0
      }, 10_000)
    } finally {
      await c.stop()
      expect(c.status().state).toBe('stopped')
      await stream.dispose()
      await store.close()
    }
  })
})
