import * as E from 'fp-ts/lib/Either.js'
import {
  Aggregate,
  AggregateRepository,
  commitIdFrom,
  conflictDetector,
  deciderRepository,
  DomainFailure,
  SnapshotPolicy,
  type Handlers,
  type Memento,
} from 'aett/domain'
import { memoryStore } from 'aett/memory'
import { account } from './deciders.js'
import { AccountOpened, accountTopics, Deposited, type AccountEvent } from './events.js'

// ----- the class face: an aggregate written as a class -----

type BankMemento = { readonly owner: string; readonly balance: number }

export class BankAccount extends Aggregate<BankMemento, AccountEvent> {
  owner = ''
  balance = 0

  // one handler per event type: forgetting one does not compile
  protected readonly handlers: Handlers<AccountEvent> = {
    AccountOpened: (e) => {
      this.owner = e.owner
    },
    Deposited: (e) => {
      this.balance += e.amount
    },
    Withdrawn: (e) => {
      this.balance -= e.amount
    },
  }

  getMemento(): Memento<BankMemento> {
    return { id: this.id, version: this.version, payload: { owner: this.owner, balance: this.balance } }
  }

  applyMemento(memento: Memento<BankMemento>): void {
    this.owner = memento.payload.owner
    this.balance = memento.payload.balance
  }

  open(owner: string, at: Date): void {
    this.raiseEvent(AccountOpened.create({ id: this.id, version: this.version + 1, timestamp: at, owner, openedOn: at }))
  }

  deposit(amount: number, at: Date): void {
    this.raiseEvent(Deposited.create({ id: this.id, version: this.version + 1, timestamp: at, amount }))
  }
}

export async function main() {
  const store = memoryStore()
  const at = new Date('2026-03-01T09:00:00.000Z')

  // class face: Promises, and a thrown DomainFailure carrying the tagged error
  const accounts = new AggregateRepository(store, accountTopics, { snapshotPolicy: SnapshotPolicy.everyNEvents(100) })
  const ada = await accounts.get(BankAccount, 'acc-1')
  ada.open('Ada', at)
  ada.deposit(100, at)
  await accounts.save(ada, { headers: { 'user.id': 'ada' } })
  ada.deposit(50, at)
  await accounts.save(ada) // the same instance saves again: its version advanced

  const one = await accounts.get(BankAccount, 'acc-1')
  const two = await accounts.get(BankAccount, 'acc-1')
  one.deposit(1, at)
  two.deposit(2, at)
  await accounts.save(one)
  let conflict = 'none'
  try {
    await accounts.save(two) // two deposits on the same version: the same topic conflicts by default
  } catch (e) {
    if (e instanceof DomainFailure) conflict = e.error._tag
  }

  // functional face: a decider, TaskEither results, the same machinery underneath
  const bank = deciderRepository({
    decider: account,
    topics: accountTopics,
    store,
    // deposits commute: a concurrent deposit is not a conflict, so the handler rebases and retries
    conflictDetector: conflictDetector<AccountEvent>().register('Deposited', 'Deposited', () => false),
  })
  await bank.handle('acc-2', { kind: 'open', accountId: 'acc-2', owner: 'Bo', at })()
  const deposit = { kind: 'deposit', amount: 20, at } as const
  const once = await bank.handle('acc-2', deposit, { commitId: commitIdFrom('command-17') })()
  const twice = await bank.handle('acc-2', deposit, { commitId: commitIdFrom('command-17') })()
  const refused = await bank.handle('acc-2', { kind: 'withdraw', amount: 1000, at })()
  const loaded = await bank.load('acc-2')()

  // both faces read the same streams
  const boAsClass = await accounts.get(BankAccount, 'acc-2')

  return {
    ada: { balance: (await accounts.get(BankAccount, 'acc-1')).balance, version: ada.version },
    conflict,
    once: E.isRight(once) ? once.right._tag : once.left._tag,
    twice: E.isRight(twice) ? twice.right._tag : twice.left._tag,
    refused: E.isLeft(refused) && refused.left._tag === 'Rejected' ? refused.left.error._tag : 'accepted',
    bo: E.isRight(loaded) ? { balance: loaded.right.state.balance, version: loaded.right.version } : null,
    boAsClass: { owner: boAsClass.owner, balance: boAsClass.balance },
  }
}
