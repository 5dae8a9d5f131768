import * as E from 'fp-ts/lib/Either.js'
import type { Decider } from '../../src/decider/index.js'

// A small bank account, as plain data and pure functions, for the decider and property tests.

export type AccountEvent =
  | { readonly type: 'Opened'; readonly owner: string }
  | { readonly type: 'Deposited'; readonly amount: number }
  | { readonly type: 'Withdrawn'; readonly amount: number }
  | { readonly type: 'Closed' }

export type AccountCommand =
  | { readonly kind: 'open'; readonly owner: string }
  | { readonly kind: 'deposit'; readonly amount: number }
  | { readonly kind: 'withdraw'; readonly amount: number }
  | { readonly kind: 'close' }

export interface AccountState {
  readonly status: 'new' | 'open' | 'closed'
  readonly owner: string
  readonly balance: number
  readonly movements: number
}

export type AccountError =
  | { readonly _tag: 'NotOpen' }
  | { readonly _tag: 'AlreadyOpen' }
  | { readonly _tag: 'InsufficientFunds'; readonly balance: number; readonly amount: number }
  | { readonly _tag: 'InvalidAmount'; readonly amount: number }

export const initialAccount: AccountState = { status: 'new', owner: '', balance: 0, movements: 0 }

export const evolveAccount = (s: AccountState, e: AccountEvent): AccountState => {
  switch (e.type) {
    case 'Opened':
      return { ...s, status: 'open', owner: e.owner }
    case 'Deposited':
      return { ...s, balance: s.balance + e.amount, movements: s.movements + 1 }
    case 'Withdrawn':
      return { ...s, balance: s.balance - e.amount, movements: s.movements + 1 }
    case 'Closed':
      return { ...s, status: 'closed' }
  }
}

const positive = (amount: number): E.Either<AccountError, number> =>
  Number.isFinite(amount) && amount > 0 ? E.right(amount) : E.left({ _tag: 'InvalidAmount', amount })

export const decideAccount = (c: AccountCommand, s: AccountState): E.Either<AccountError, readonly AccountEvent[]> => {
  if (c.kind === 'open') return s.status === 'new' ? E.right([{ type: 'Opened', owner: c.owner }]) : E.left({ _tag: 'AlreadyOpen' })
  if (s.status !== 'open') return E.left({ _tag: 'NotOpen' })
  switch (c.kind) {
    case 'deposit':
      return E.map((amount: number): readonly AccountEvent[] => [{ type: 'Deposited', amount }])(positive(c.amount))
    case 'withdraw':
      return E.flatMap((amount: number): E.Either<AccountError, readonly AccountEvent[]> =>
        amount > s.balance ? E.left({ _tag: 'InsufficientFunds', balance: s.balance, amount }) : E.right([{ type: 'Withdrawn', amount }]),
      )(positive(c.amount))
    case 'close':
      return E.right([{ type: 'Closed' }])
  }
}

export const account: Decider<AccountCommand, AccountState, AccountEvent, AccountError> = {
  initialState: initialAccount,
  evolve: evolveAccount,
  decide: decideAccount,
}
