import * as E from 'fp-ts/lib/Either.js'
import * as fc from 'fast-check'
import { deciderScenario, sagaScenario } from 'aett/testing'
import { arbitraryEvent, arbitraryFromCodec, checkDeciderLaws } from 'aett/testing/properties'
import { account, type AccountCommand } from './deciders.js'
import { AccountOpened, Deposited, Withdrawn } from './events.js'
import { transfer, TransferRequested } from './sagas.js'

const at = new Date('2026-03-01T09:00:00.000Z')
const opened = AccountOpened.create({ id: 'acc-1', version: 1, timestamp: at, owner: 'Ada', openedOn: at })

// ----- given / when / then for a decider: assertions throw a descriptive ScenarioFailure -----

export const accountScenarios = () => {
  const { given } = deciderScenario(account)
  given([opened])
    .when({ kind: 'deposit', amount: 10, at })
    .then([Deposited.create({ id: 'acc-1', version: 2, timestamp: at, amount: 10 })])
  given([opened]).when({ kind: 'withdraw', amount: 10, at }).thenFails('InsufficientFunds')
  given([]).when({ kind: 'deposit', amount: 10, at }).thenFails((refusal) => refusal._tag === 'NotOpen')
}

// ----- the same for a saga: which commands does one more event send? -----

export const transferScenarios = () => {
  const { given } = sagaScenario(transfer)
  const requested = TransferRequested.create({ id: 't-1', version: 1, timestamp: at, from: 'acc-1', to: 'acc-2', amount: 25 })
  const debited = Withdrawn.create({ id: 'acc-1', version: 3, timestamp: at, amount: 25 })
  given([]).when(requested).then([{ accountId: 'acc-1', command: { kind: 'withdraw', amount: 25, at } }])
  given([requested]).when(debited).then([{ accountId: 'acc-2', command: { kind: 'deposit', amount: 25, at } }])
  given([]).when(debited).thenNothing()
}

// ----- property helpers: arbitraries from the event codecs, and the decider laws -----

export const commands: fc.Arbitrary<AccountCommand> = fc.oneof(
  fc.record({ kind: fc.constant('open' as const), accountId: fc.string(), owner: fc.string(), at: fc.date({ noInvalidDate: true }) }),
  fc.record({ kind: fc.constant('deposit' as const), amount: fc.nat(), at: fc.date({ noInvalidDate: true }) }),
  fc.record({ kind: fc.constant('withdraw' as const), amount: fc.nat(), at: fc.date({ noInvalidDate: true }) }),
)

export async function main() {
  accountScenarios()
  transferScenarios()

  // a failing scenario says what it expected and what it got
  let failure = ''
  try {
    deciderScenario(account).given([opened]).when({ kind: 'withdraw', amount: 10, at }).then([])
  } catch (e) {
    failure = e instanceof Error ? e.message : String(e)
  }

  // one event's arbitrary, and the union of the account's events
  const deposits = arbitraryFromCodec(Deposited.codec)
  const sample = E.isRight(deposits) ? fc.sample(deposits.right, { numRuns: 3, seed: 7 }).map((e) => e.type) : []
  const events = arbitraryEvent(AccountOpened, Deposited, Withdrawn)
  const laws = E.isRight(events)
    ? checkDeciderLaws(account, { events: events.right, commands, parameters: { numRuns: 100, seed: 1 } })
    : E.left(events.left)

  return { failure, sample, laws: E.isRight(laws) ? 'all laws hold' : laws.left }
}
