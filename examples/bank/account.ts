import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import type { Decider } from 'aett/decider'
import { defineEvent, topicMap, type EventOf } from 'aett/eventstore'

// ----- events: what happened to an account; `correlationId` names the transfer that caused a move -----

export const AccountOpened = defineEvent('AccountOpened', { owner: t.string })
export const Deposited = defineEvent('Deposited', { amount: t.number })
export const Withdrawn = defineEvent('Withdrawn', { amount: t.number })
export type AccountEvent = EventOf<typeof AccountOpened> | EventOf<typeof Deposited> | EventOf<typeof Withdrawn>
export const accountTopics = topicMap(AccountOpened, Deposited, Withdrawn)

// ----- commands: plain JSON (a saga stores them in commit headers), so they get a codec too -----

const move = <K extends string>(kind: K) =>
  t.intersection([
    t.type({ kind: t.literal(kind), accountId: t.string, amount: t.number, at: t.string }),
    t.partial({ transferId: t.string }),
  ])
export const AccountCommand = t.union([
  t.type({ kind: t.literal('open'), accountId: t.string, owner: t.string, at: t.string }),
  move('deposit'),
  move('withdraw'),
])
export type AccountCommand = t.TypeOf<typeof AccountCommand>

// ----- the rules, as a decider: the class aggregate runs the very same functions -----

/** Plain JSON, so that it is also the snapshot payload of both faces. */
export interface AccountState {
  readonly open: boolean
  readonly owner: string
  readonly balance: number
}

export type AccountRefusal =
  | { readonly _tag: 'AlreadyOpen' }
  | { readonly _tag: 'NotOpen' }
  | { readonly _tag: 'InsufficientFunds'; readonly balance: number; readonly requested: number }

const evolve = (s: AccountState, e: AccountEvent): AccountState => {
  switch (e.type) {
    case 'AccountOpened':
      return { ...s, open: true, owner: e.owner }
    case 'Deposited':
      return { ...s, balance: s.balance + e.amount }
    case 'Withdrawn':
      return { ...s, balance: s.balance - e.amount }
  }
}

const decide = (c: AccountCommand, s: AccountState): E.Either<AccountRefusal, readonly AccountEvent[]> => {
  // `id` and `version` are stamped by the repository on append; the time comes with the command (pure).
  const transfer = c.kind !== 'open' && c.transferId !== undefined ? { correlationId: c.transferId } : {}
  const meta = { id: '', version: 0, timestamp: new Date(c.at), ...transfer }
  switch (c.kind) {
    case 'open':
      return s.open ? E.left({ _tag: 'AlreadyOpen' }) : E.right([AccountOpened.create({ ...meta, owner: c.owner })])
    case 'deposit':
      return s.open ? E.right([Deposited.create({ ...meta, amount: c.amount })]) : E.left({ _tag: 'NotOpen' })
    case 'withdraw':
      if (!s.open) return E.left({ _tag: 'NotOpen' })
      if (c.amount > s.balance) return E.left({ _tag: 'InsufficientFunds', balance: s.balance, requested: c.amount })
      return E.right([Withdrawn.create({ ...meta, amount: c.amount })])
  }
}

export const account: Decider<AccountCommand, AccountState, AccountEvent, AccountRefusal> = {
  initialState: { open: false, owner: '', balance: 0 },
  evolve,
  decide,
}
