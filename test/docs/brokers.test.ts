import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/brokers.js'
import { natsAvailable, natsServers } from '../nats/support.js'
import { amqpUrl, rabbitAvailable } from '../rabbitmq/support.js'
import { uniqueName } from '../support/services.js'
import { docsPage, exampleCode } from './pages.js'

const up = (await natsAvailable()) && (await rabbitAvailable())

describe('docs/brokers.md example', () => {
  it.skipIf(!up)('forwards the events to JetStream, takes commands in over both brokers, and delivers a saga command over RabbitMQ', async () => {
    const r = await main({ nats: natsServers, amqp: amqpUrl, prefix: uniqueName('aett_docs') })
    if (!('forwarded' in r)) return expect.fail(`the example failed: ${JSON.stringify(r)}`)
    // opened twice, the deposit (once, though sent twice), the withdrawal the saga asked for
    expect(r.forwarded).toBe(4)
    expect(r.fromNats).toEqual({ handled: 1, duplicates: 1, deadLettered: 1 })
    expect(r.fromRabbit).toEqual({ handled: 1 })
    expect(r.balance).toEqual(E.right(75))
  })

  it('is shown whole in docs/brokers.md, so the page cannot drift from the code that runs', () => {
    expect(docsPage('brokers.md')).toContain(exampleCode('brokers.ts'))
  })
})
