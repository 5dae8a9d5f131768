import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { replaySaga, runSaga, type SagaDefinition } from 'aett/decider'
import { deciderRepository, sagaRepository } from 'aett/domain'
import { DateFromISOString, defineEvent, topicMap, type EventOf } from 'aett/eventstore'
import { memoryStore } from 'aett/memory'
import { allCaughtUp, dispatchCommands, routeEvents, sagaFeed } from 'aett/sagas'
import { resetSubscription } from 'aett/subscriptions'
import { account, type AccountCommand } from './deciders.js'
import { accountTopics, Deposited, Withdrawn } from './events.js'

// ----- a transfer between two accounts, as a process manager -----

export const TransferRequested = defineEvent('TransferRequested', { from: t.string, to: t.string, amount: t.number })
export type TransferRequested = EventOf<typeof TransferRequested>

/** What the saga follows: the request, and the account events tagged with the transfer's correlation id. */
export type TransferEvent = TransferRequested | Withdrawn | Deposited

/** Commands for the account decider, addressed to one account. */
export interface Addressed {
  readonly accountId: string
  readonly command: AccountCommand
}

export interface Transfer {
  readonly step: 'idle' | 'debiting' | 'crediting' | 'completed'
  readonly from: string
  readonly to: string
  readonly amount: number
}

export const transfer: SagaDefinition<Transfer, TransferEvent, Addressed> = {
  initialState: { step: 'idle', from: '', to: '', amount: 0 },
  evolve: (s, e) => {
    switch (e.type) {
      case 'TransferRequested':
        return { step: 'debiting', from: e.from, to: e.to, amount: e.amount }
      case 'Withdrawn':
        return s.step === 'debiting' ? { ...s, step: 'crediting' } : s
      case 'Deposited':
        return s.step === 'crediting' ? { ...s, step: 'completed' } : s
    }
  },
  // react sees the state after the event, so the amount and accounts are known here
  react: (s, e) => {
    switch (e.type) {
      case 'TransferRequested':
        return [{ accountId: s.from, command: { kind: 'withdraw', amount: s.amount, at: e.timestamp } }]
      case 'Withdrawn':
        return s.step === 'crediting' ? [{ accountId: s.to, command: { kind: 'deposit', amount: s.amount, at: e.timestamp } }] : []
      case 'Deposited':
        return []
    }
  },
}

export async function main() {
  const timestamp = new Date('2026-03-02T10:00:00.000Z')
  const meta = { version: 1, timestamp, correlationId: 'transfer-7' }
  const requested = TransferRequested.create({ ...meta, id: 'transfer-7', from: 'acc-1', to: 'acc-2', amount: 25 })
  const debited = Withdrawn.create({ ...meta, id: 'acc-1', amount: 25 })
  const credited = Deposited.create({ ...meta, id: 'acc-2', amount: 25 })

  // Step by step: each event may trigger commands.
  const first = runSaga(transfer, transfer.initialState, [requested])
  const second = runSaga(transfer, first.state, [debited])
  const third = runSaga(transfer, second.state, [credited])

  // After a restart: rebuild the state from history without sending anything again.
  const rebuilt = replaySaga(transfer, [requested, debited, credited])

  return {
    afterRequest: first.commands,
    afterDebit: second.commands,
    afterCredit: third.commands,
    finalStep: third.state.step,
    rebuiltStep: rebuilt.step,
  }
}

// ----- delivering the commands and routing the events back, on a store (aett/sagas) -----

/** The commands travel as JSON in the saga's commits; this codec writes them there and reads them back, typed. */
export const AddressedCodec = t.type({
  accountId: t.string,
  command: t.union([
    t.type({ kind: t.literal('open'), accountId: t.string, owner: t.string, at: DateFromISOString }),
    t.type({ kind: t.literal('deposit'), amount: t.number, at: DateFromISOString }),
    t.type({ kind: t.literal('withdraw'), amount: t.number, at: DateFromISOString }),
  ]),
})

export const transferTopics = topicMap(TransferRequested, Withdrawn, Deposited)

export async function delivery() {
  const store = memoryStore() // any store that keeps subscriptions: SQLite, PostgreSQL, MySQL, DynamoDB, memory
  await store.initialize()
  const accounts = deciderRepository({ decider: account, topics: accountTopics, store })
  const transfers = sagaRepository({ saga: transfer, topics: transferTopics, store, encodeCommand: AddressedCodec.encode })
  const at = new Date('2026-03-02T10:00:00.000Z')
  for (const id of ['acc-1', 'acc-2']) await accounts.handle(id, { kind: 'open', accountId: id, owner: id, at })()
  await accounts.handle('acc-1', { kind: 'deposit', amount: 100, at })()

  // The dispatcher hands each command a saga stored to the account's command handler, decoded, under the commit id
  // its key gives (tenant, stream, commit sequence, index): a redelivery is AlreadyCommitted, exactly once in effect.
  const answers: string[] = []
  const dispatch = () =>
    dispatchCommands({
      name: 'transfer-commands',
      store,
      commands: AddressedCodec,
      handler: async ({ command: { accountId, command }, commitId, commit }) => {
        // the account's commit names the saga that asked, so that the router can feed its events back to it
        const handled = await accounts.handle(accountId, command, { commitId, headers: { transfer: commit.streamId } })()
        answers.push(E.isRight(handled) ? handled.right._tag : handled.left._tag)
        return E.isLeft(handled) && handled.left._tag !== 'Rejected' ? handled : E.right(undefined) // a refusal is delivered
      },
    })
  const dispatcher = dispatch()
  // The router feeds each account event to the saga its commit names (by `correlationId` when no `to` is given),
  // never a saga's own commits, under a commit id derived from the event: a redelivery never advances it twice.
  const router = routeEvents({
    name: 'transfer-events',
    store,
    topics: transferTopics,
    to: (_event, commit) => (typeof commit.headers['transfer'] === 'string' ? [commit.headers['transfer']] : []),
    feed: sagaFeed(transfers),
  })
  if (E.isLeft(dispatcher) || E.isLeft(router)) return { error: 'bad options' }

  const requested = TransferRequested.create({ id: 'transfer-7', version: 1, timestamp: at, from: 'acc-1', to: 'acc-2', amount: 25 })
  await transfers.handle('transfer-7', requested)()
  // the withdrawal, its event fed back, the deposit the saga then asks for, and its event
  await allCaughtUp([dispatcher.right, router.right])
  const delivered = await dispatcher.right.status() // "delivered" is the dispatcher's checkpoint, nothing else
  await Promise.all([dispatcher.right.stop(), router.right.stop()])

  // Deliver everything again (its checkpoint moved back to the beginning): nothing is written twice.
  await resetSubscription({ store, name: 'transfer-commands', to: 'beginning' })
  const again = dispatch()
  if (E.isLeft(again)) return { error: 'bad options' }
  await again.right.caughtUp()
  await again.right.stop()

  const [saga, from, to] = [await transfers.load('transfer-7')(), await accounts.load('acc-1')(), await accounts.load('acc-2')()]
  return {
    answers,
    position: E.isRight(delivered) ? delivered.right.position : -1,
    step: E.isRight(saga) ? saga.right.state.step : 'unknown',
    balances: E.isRight(from) && E.isRight(to) ? [from.right.state.balance, to.right.state.balance] : [],
  }
}

