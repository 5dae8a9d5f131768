import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { Aggregate, defineEvent, Saga, topicMap, type Decider, type EventOf, type Handlers, type Memento } from 'aett'

// A small account domain for the telemetry tests, in the functional and class faces.

export const Opened = defineEvent('Opened', { owner: t.string })
export const Deposited = defineEvent('Deposited', { amount: t.number })
export const Withdrawn = defineEvent('Withdrawn', { amount: t.number })
export const Renamed = defineEvent('Renamed', { owner: t.string })
export type Opened = EventOf<typeof Opened>
export type Deposited = EventOf<typeof Deposited>
export type Withdrawn = EventOf<typeof Withdrawn>
export type Renamed = EventOf<typeof Renamed>
export type AccountEvent = Opened | Deposited | Withdrawn | Renamed
export const topics = topicMap(Opened, Deposited, Withdrawn, Renamed)

export const at = new Date('2026-03-01T12:00:00.000Z')
const meta = { id: '', version: 0, timestamp: at }

export interface AccountState {
  readonly owner: string
  readonly balance: number
}

export type AccountCommand =
  | { readonly type: 'Open'; readonly owner: string }
  | { readonly type: 'Deposit'; readonly amount: number }
  | { readonly type: 'Withdraw'; readonly amount: number }
  | { readonly type: 'Rename'; readonly owner: string }

export type AccountError = { readonly _tag: 'InsufficientFunds'; readonly balance: number }

export const account: Decider<AccountCommand, AccountState, AccountEvent, AccountError> = {
  initialState: { owner: '', balance: 0 },
  evolve: (s, e) => {
    switch (e.type) {
      case 'Opened':
      case 'Renamed':
        return { ...s, owner: e.owner }
      case 'Deposited':
        return { ...s, balance: s.balance + e.amount }
      case 'Withdrawn':
        return { ...s, balance: s.balance - e.amount }
    }
  },
  decide: (c, s) => {
    switch (c.type) {
      case 'Open':
        return E.right([Opened.create({ ...meta, owner: c.owner })])
      case 'Deposit':
        return E.right(c.amount === 0 ? [] : [Deposited.create({ ...meta, amount: c.amount })])
      case 'Withdraw':
        return c.amount > s.balance ? E.left({ _tag: 'InsufficientFunds', balance: s.balance }) : E.right([Withdrawn.create({ ...meta, amount: c.amount })])
      case 'Rename':
        return E.right([Renamed.create({ ...meta, owner: c.owner })])
    }
  },
}

type AccountMemento = { readonly owner: string; readonly balance: number }

export class Account extends Aggregate<AccountMemento, AccountEvent> {
  owner = ''
  balance = 0

  protected readonly handlers: Handlers<AccountEvent> = {
    Opened: (e) => {
      this.owner = e.owner
    },
    Renamed: (e) => {
      this.owner = e.owner
    },
    Deposited: (e) => {
      this.balance += e.amount
    },
    Withdrawn: (e) => {
      this.balance -= e.amount
    },
  }

  getMemento(): Memento<AccountMemento> {
    return { id: this.id, version: this.version, payload: { owner: this.owner, balance: this.balance } }
  }

  applyMemento(memento: Memento<AccountMemento>): void {
    this.owner = memento.payload.owner
    this.balance = memento.payload.balance
  }

  deposit(amount: number): void {
    this.raiseEvent(Deposited.create({ id: this.id, version: this.version + 1, timestamp: at, amount }))
  }
}

export type Notify = { readonly type: 'Notify'; readonly owner: string; readonly amount: number }

/** Follows deposits and asks for a notification for each one of 100 or more. */
export class BigDepositSaga extends Saga<Opened | Deposited, Notify> {
  owner = ''

  protected readonly handlers: Handlers<Opened | Deposited> = {
    Opened: (e) => {
      this.owner = e.owner
    },
    Deposited: (e) => {
      if (e.amount >= 100) this.dispatch({ type: 'Notify', owner: this.owner, amount: e.amount })
    },
  }
}

/** The same saga as functions. */
export const bigDeposits = {
  initialState: { owner: '', seen: 0 },
  evolve: (s: { owner: string; seen: number }, e: AccountEvent) =>
    e.type === 'Opened' ? { ...s, owner: e.owner } : e.type === 'Deposited' ? { ...s, seen: s.seen + 1 } : s,
  react: (s: { owner: string; seen: number }, e: AccountEvent): readonly Notify[] =>
    e.type === 'Deposited' && e.amount >= 100 ? [{ type: 'Notify', owner: s.owner, amount: e.amount }] : [],
}
