import * as E from 'fp-ts/lib/Either.js'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, headers } from '@nats-io/transport-node'
import amqp from 'amqplib'
import { deciderRepository, sagaRepository } from 'aett/domain'
import { memoryStore } from 'aett/memory'
import { HEADER, jsonBody, natsCommandConsumer, natsForwarder, subjectToken, type Route } from 'aett/nats'
import { rabbitMqCommandConsumer, rabbitMqForwarder } from 'aett/rabbitmq'
import { account, type AccountCommand } from './deciders.js'
import { accountTopics } from './events.js'
import { AddressedCodec, transfer, transferTopics, TransferRequested } from './sagas.js'

/** Where the brokers are, and a prefix for this run's streams, exchange and queues. */
export interface Brokers {
  readonly nats: string
  readonly amqp: string
  readonly prefix: string
}

/** A message carrying `{ accountId, command }` (as the transfer saga writes its commands) is a command for that account. */
const addressed: Route<AccountCommand> = (message) => {
  const body = jsonBody(message)
  if (E.isLeft(body)) return body
  const decoded = AddressedCodec.decode(body.right)
  return E.isRight(decoded) ? E.right({ streamId: decoded.right.accountId, command: decoded.right.command }) : E.left('not an addressed account command')
}

const settled = async (done: () => boolean) => {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 20))
}

export async function main({ nats, amqp: amqpUrl, prefix }: Brokers) {
  // ----- the broker side, as an operator sets it up: a JetStream stream per purpose, an exchange and its queues -----
  const nc = await connect({ servers: nats })
  const jsm = await jetstreamManager(nc)
  await jsm.streams.add({ name: `${prefix}_accounts`, subjects: [`${prefix}.accounts.>`] })
  await jsm.streams.add({ name: `${prefix}_commands`, subjects: [`${prefix}.commands.>`] })
  const rabbit = await amqp.connect(amqpUrl)
  const channel = await rabbit.createChannel()
  const exchange = `${prefix}.transfers`
  const queue = `${prefix}.account-commands`
  await channel.assertExchange(exchange, 'topic', { durable: true })
  await channel.assertQueue(queue, { durable: true })
  await channel.assertQueue(`${queue}.dead`, { durable: true })
  await channel.bindQueue(queue, exchange, 'commands.#')

  // ----- the accounts service: its own store, its events forwarded to JetStream, commands taken in -----
  const bank = memoryStore() // any store that keeps subscriptions: SQLite, PostgreSQL, MySQL, DynamoDB, memory
  await bank.initialize()
  const accounts = deciderRepository({ decider: account, topics: accountTopics, store: bank })
  const at = new Date('2026-03-02T10:00:00.000Z')
  for (const id of ['acc-1', 'acc-2']) await accounts.handle(id, { kind: 'open', accountId: id, owner: id, at })()

  // Every account event, once in the stream whatever crashes: the checkpoint moves after the PubAcks, and a restart
  // reads back what it sent past it. Subjects name the account and the topic.
  const toNats = natsForwarder({
    name: 'accounts-to-nats',
    store: bank,
    connection: { servers: nats },
    stream: `${prefix}_accounts`,
    subject: (m) => `${prefix}.accounts.${subjectToken(m.streamId)}.${m.topic}`,
  })

  // Commands from other services, over JetStream: the commit id comes from the message id, so a message sent twice
  // is stored once; one that does not decode goes to the dead-letter subject with the reason.
  const fromNats = natsCommandConsumer({
    connection: { servers: nats },
    stream: `${prefix}_commands`,
    consumer: 'accounts',
    filterSubject: `${prefix}.commands.accounts`,
    deadLetter: { subject: `${prefix}.commands.dead` },
    route: addressed,
    handle: accounts.handle,
  })

  // The same over RabbitMQ, for the transfer service's commands.
  const fromRabbit = rabbitMqCommandConsumer({ connection: amqpUrl, queue, deadLetter: { exchange: '', routingKey: `${queue}.dead` }, route: addressed, handle: accounts.handle })
  if (E.isLeft(toNats) || E.isLeft(fromNats) || E.isLeft(fromRabbit)) return { error: 'bad options' }

  // ----- a gateway sends a deposit over JetStream, and (a client's retry) the same message again -----
  await fromNats.right.started()
  const js = jetstream(nc)
  const deposit = JSON.stringify(AddressedCodec.encode({ accountId: 'acc-1', command: { kind: 'deposit', amount: 100, at } }))
  for (let i = 0; i < 2; i++) {
    const h = headers()
    h.set(HEADER.messageId, 'gateway-request-1')
    await js.publish(`${prefix}.commands.accounts`, deposit, { headers: h })
  }
  await js.publish(`${prefix}.commands.accounts`, 'not a command', { msgID: 'gateway-request-2' })
  await settled(() => fromNats.right.status().deadLettered + fromNats.right.status().duplicates >= 2)

  // ----- the transfer service: a saga in its own store; its commands delivered to the accounts service -----
  const payments = memoryStore()
  await payments.initialize()
  const transfers = sagaRepository({ saga: transfer, topics: transferTopics, store: payments, encodeCommand: AddressedCodec.encode })
  const commands = rabbitMqForwarder({
    name: 'transfer-commands',
    store: payments,
    messages: 'command', // the commands each saga commit carries, not its events
    connection: amqpUrl,
    exchange,
    routingKey: () => 'commands.accounts',
  })
  if (E.isLeft(commands)) return { error: 'bad options' }
  await transfers.handle('transfer-7', TransferRequested.create({ id: 'transfer-7', version: 1, timestamp: at, from: 'acc-1', to: 'acc-2', amount: 25 }))()
  await commands.right.caughtUp() // the withdrawal is at the broker, confirmed and routed
  await settled(() => fromRabbit.right.status().handled >= 1)

  await toNats.right.caughtUp()
  const forwarded = (await jsm.streams.info(`${prefix}_accounts`)).state.messages
  const nats_ = fromNats.right.status()
  const rabbit_ = fromRabbit.right.status()
  await Promise.all([toNats.right.stop(), fromNats.right.stop(), fromRabbit.right.stop(), commands.right.stop()])
  const balance = E.map((s: { state: { balance: number } }) => s.state.balance)(await accounts.load('acc-1')())

  // ----- (this run's own names: a real deployment keeps them) -----
  for (const s of [`${prefix}_accounts`, `${prefix}_commands`]) await jsm.streams.delete(s)
  for (const q of [queue, `${queue}.dead`]) await channel.deleteQueue(q)
  await channel.deleteExchange(exchange)
  await Promise.all([nc.close(), rabbit.close(), bank.close(), payments.close()])

  return {
    forwarded,
    fromNats: { handled: nats_.handled, duplicates: nats_.duplicates, deadLettered: nats_.deadLettered },
    fromRabbit: { handled: rabbit_.handled },
    balance,
  }
}
