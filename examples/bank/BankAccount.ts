import * as E from 'fp-ts/lib/Either.js'
import type { NewEvent } from 'aett/decider'
import { Aggregate, type Handlers, type Memento } from 'aett/domain'
import { account, type AccountCommand, type AccountEvent, type AccountRefusal, type AccountState } from './account.js'

/**
 * The account as a class, for OO callers: methods raise events, handlers apply them. It runs the decider's own
 * `decide` and `evolve`, so the rules exist once, and it reads and writes the same streams as the decider.
 */
export class BankAccount extends Aggregate<AccountState, AccountEvent> {
  state: AccountState = account.initialState

  private readonly apply = (e: AccountEvent): void => {
    this.state = account.evolve(this.state, e)
  }

  // one handler per event type: forgetting one does not compile
  protected readonly handlers: Handlers<AccountEvent> = { AccountOpened: this.apply, Deposited: this.apply, Withdrawn: this.apply }

  get balance(): number {
    return this.state.balance
  }

  getMemento(): Memento<AccountState> {
    return { id: this.id, version: this.version, payload: this.state }
  }

  applyMemento(memento: Memento<AccountState>): void {
    this.state = memento.payload
  }

  open(owner: string, at = new Date()): E.Either<AccountRefusal, void> {
    return this.run({ kind: 'open', accountId: this.id, owner, at: at.toISOString() })
  }

  deposit(amount: number, at = new Date()): E.Either<AccountRefusal, void> {
    return this.run({ kind: 'deposit', accountId: this.id, amount, at: at.toISOString() })
  }

  withdraw(amount: number, at = new Date()): E.Either<AccountRefusal, void> {
    return this.run({ kind: 'withdraw', accountId: this.id, amount, at: at.toISOString() })
  }

  private run(command: AccountCommand): E.Either<AccountRefusal, void> {
    // `decide` may leave `id` and `version` out (the repository stamps them); a raised event is complete
    return E.map((events: readonly NewEvent<AccountEvent>[]) => events.forEach((e) => this.raiseEvent({ ...e, id: this.id, version: this.version + 1 })))(
      account.decide(command, this.state),
    )
  }
}
