/**
 * Forwarding throughput (issue 20): aett's forwarders against a hand-written loop that publishes the same messages
 * (same ids, headers and bodies) with the same acknowledgements (JetStream PubAcks; RabbitMQ publisher confirms with
 * `mandatory`), a batch of 100 commits at a time, from the same store. Target: aett ≥ 0.8x the loop.
 *
 *   ../node_modules/.bin/tsx src/brokers.ts [--events 20000] [--rounds 5]   (in bench/)
 *
 * It needs the brokers (NATS with JetStream on AETT_NATS_URL or 127.0.0.1:4222, RabbitMQ on AETT_AMQP_URL or
 * amqp://guest:guest@127.0.0.1:5672), so it is not part of `npm run bench`: a broker that does not answer is reported
 * on one line and its scenario skipped. Every stream, exchange and queue it makes has a name of its own and is deleted.
 */
import { parseArgs } from 'node:util'
import * as E from 'fp-ts/lib/Either.js'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, headers } from '@nats-io/transport-node'
import amqp from 'amqplib'
import { bodyBytes, encodeHeaderValue, messagesOf, wireHeaders, type OutboundMessage } from '../../src/brokers/messages.js'
import type { Commit } from '../../src/eventstore/Commit.js'
import { memoryStore } from '../../src/memory/index.js'
import { natsForwarder } from '../../src/nats/index.js'
import { rabbitMqForwarder } from '../../src/rabbitmq/index.js'
import { summarize } from './harness/stats.js'

const { values } = parseArgs({ options: { events: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' } } })
const events = Number(values.events)
const rounds = Number(values.rounds)
const natsServers = process.env['AETT_NATS_URL'] ?? '127.0.0.1:4222'
const amqpUrl = process.env['AETT_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672'
const BATCH = 100
const log = (line: string) => process.stderr.write(`${line}\n`)
const unique = (what: string) => `aett_bench_${what}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`

const orThrow = <A>(what: string, r: E.Either<unknown, A>): A => {
  if (E.isLeft(r)) throw new Error(`${what}: ${JSON.stringify(r.left, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`)
  return r.right
}

// ----- the log: `events` events, two per commit, over 100 streams -----

const store = memoryStore()
orThrow('initialize', await store.initialize())
for (let i = 0; i < events / 2; i++) {
  const streamId = `acc-${i % 100}`
  const seq = Math.floor(i / 100) + 1
  orThrow(
    'commit',
    await store.commit({
      tenantId: 'bench',
      streamId,
      streamRevision: seq * 2,
      commitId: `c-${i}`,
      commitSequence: seq,
      commitStamp: new Date(),
      headers: { correlationId: `corr-${i}` },
      events: [
        { body: { type: 'Deposited', amount: i }, headers: {} },
        { body: { type: 'Withdrawn', amount: 1 }, headers: {} },
      ],
    }),
  )
}

/** The hand-written loop's reads: 100 commits at a time from `getFrom`, as messages. */
const batches = async function* (): AsyncGenerator<OutboundMessage[]> {
  let batch: Commit[] = []
  for await (const r of store.getFrom(0)) {
    batch.push(orThrow('read', r))
    if (batch.length === BATCH) {
      yield batch.flatMap((c) => messagesOf(c, 'event'))
      batch = []
    }
  }
  if (batch.length > 0) yield batch.flatMap((c) => messagesOf(c, 'event'))
}

// ----- contenders -----

interface Scenario {
  readonly name: string
  readonly aett: () => Promise<number>
  readonly loop: () => Promise<number>
  readonly dispose: () => Promise<void>
}

const timed = async (run: () => Promise<void>): Promise<number> => {
  const t0 = performance.now()
  await run()
  return performance.now() - t0
}

const natsScenario = async (): Promise<Scenario | string> => {
  let nc
  try {
    nc = await connect({ servers: natsServers, timeout: 2_000, reconnect: false })
  } catch (e) {
    return `NATS JetStream does not answer on ${natsServers} (${e instanceof Error ? e.message : String(e)})`
  }
  const jsm = await jetstreamManager(nc)
  const js = jetstream(nc)
  const made: string[] = []
  const fresh = async () => {
    const name = unique('nats')
    made.push(name)
    await jsm.streams.add({ name, subjects: [`${name}.>`] })
    return name
  }
  return {
    name: 'NATS JetStream (PubAck per message, batches of 100 commits)',
    aett: async () => {
      const stream = await fresh()
      const name = unique('fw')
      return timed(async () => {
        const f = orThrow('natsForwarder', natsForwarder({ name, store, connection: { servers: natsServers }, stream, subject: (m) => `${stream}.${m.topic}`, batchSize: BATCH }))
        orThrow('caughtUp', await f.caughtUp())
        await f.stop()
      })
    },
    loop: async () => {
      const stream = await fresh()
      return timed(async () => {
        for await (const messages of batches()) {
          await Promise.all(
            messages.map((m) => {
              const h = headers()
              for (const [k, v] of Object.entries(wireHeaders(m, 'loop'))) h.set(k, encodeHeaderValue(v))
              return js.publish(`${stream}.${m.topic}`, bodyBytes(m), { msgID: m.id, headers: h, expect: { streamName: stream } })
            }),
          )
        }
      })
    },
    dispose: async () => {
      for (const s of made) await jsm.streams.delete(s).catch(() => undefined)
      await nc.close()
    },
  }
}

const rabbitScenario = async (): Promise<Scenario | string> => {
  let model
  try {
    model = await amqp.connect(amqpUrl, { timeout: 2_000 })
  } catch (e) {
    return `RabbitMQ does not answer on ${amqpUrl} (${e instanceof Error ? e.message : String(e)})`
  }
  const admin = await model.createChannel()
  const exchange = unique('x')
  const queue = unique('q')
  await admin.assertExchange(exchange, 'topic', { durable: true })
  await admin.assertQueue(queue, { durable: true })
  await admin.bindQueue(queue, exchange, '#')
  const confirm = await model.createConfirmChannel()
  return {
    name: 'RabbitMQ (publisher confirms, mandatory, persistent, batches of 100 commits)',
    aett: async () => {
      await admin.purgeQueue(queue)
      return timed(async () => {
        const f = orThrow('rabbitMqForwarder', rabbitMqForwarder({ name: unique('fw'), store, connection: amqpUrl, exchange, routingKey: (m) => `events.${m.topic}`, batchSize: BATCH }))
        orThrow('caughtUp', await f.caughtUp())
        await f.stop()
      })
    },
    loop: async () => {
      await admin.purgeQueue(queue)
      return timed(async () => {
        for await (const messages of batches()) {
          const returned = new Set<string>()
          const onReturn = (m: amqp.Message) => returned.add(String(m.properties.messageId))
          confirm.on('return', onReturn)
          await Promise.all(
            messages.map(
              (m) =>
                new Promise<void>((resolve, reject) => {
                  confirm.publish(
                    exchange,
                    `events.${m.topic}`,
                    bodyBytes(m),
                    { mandatory: true, persistent: true, messageId: m.id, type: m.topic, contentType: 'application/json', headers: wireHeaders(m, 'loop'), ...(m.correlationId === undefined ? {} : { correlationId: m.correlationId }) },
                    (err: unknown) => (err ? reject(err) : resolve()),
                  )
                }),
            ),
          )
          confirm.off('return', onReturn)
          if (returned.size > 0) throw new Error('returned')
        }
      })
    },
    dispose: async () => {
      await admin.deleteQueue(queue).catch(() => undefined)
      await admin.deleteExchange(exchange).catch(() => undefined)
      await model.close()
    },
  }
}

// ----- run: interleaved rounds, medians -----

log(`brokers: ${events} events (${events / 2} commits of 2 events, 100 streams), ${rounds} rounds after one warm-up, batches of ${BATCH} commits`)
const rows: string[] = []
for (const make of [natsScenario, rabbitScenario]) {
  const s = await make()
  if (typeof s === 'string') {
    log(`brokers: SKIPPED: ${s}`)
    rows.push(`| ${s} | skipped | | |`)
    continue
  }
  try {
    await s.aett()
    await s.loop()
    const a: number[] = []
    const l: number[] = []
    for (let r = 0; r < rounds; r++) {
      a.push(await s.aett())
      l.push(await s.loop())
    }
    const am = summarize(a).median
    const lm = summarize(l).median
    const rate = (ms: number) => Math.round((events / ms) * 1000)
    const line = `| ${s.name} | ${rate(am).toLocaleString('en')} | ${rate(lm).toLocaleString('en')} | ${(lm / am).toFixed(2)}x |`
    log(`brokers: ${line}`)
    rows.push(line)
  } finally {
    await s.dispose()
  }
}
process.stdout.write(['| scenario | aett events/s | hand-written loop events/s | aett / loop |', '| --- | --- | --- | --- |', ...rows].join('\n') + '\n')
await store.close()
