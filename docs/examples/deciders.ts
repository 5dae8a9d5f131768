import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { combine, evolveWith, fold, mapCommand, mapError, replay, type Decider, type NewEvent } from 'aett/decider'
import { AccountOpened, Deposited, Withdrawn, type AccountEvent } from './events.js'

// ----- the account as a decider: commands in, events (or a typed refusal) out -----

export type AccountCommand =
  | { readonly kind: 'open'; readonly accountId: string; readonly owner: string; readonly at: Date }
  | { readonly kind: 'deposit'; readonly amount: number; readonly at: Date }
  | { readonly kind: 'withdraw'; readonly amount: number; readonly at: Date }

export interface Account {
  readonly id: string
  readonly version: number
  readonly open: boolean
  readonly balance: number
}

export type AccountRefusal =
  | { readonly _tag: 'AlreadyOpen' }
  | { readonly _tag: 'NotOpen' }
  | { readonly _tag: 'InsufficientFunds'; readonly balance: number; readonly requested: number }

// evolve written as edits of a draft (immer); it returns a new, frozen state
const evolve = evolveWith<Account, AccountEvent>({
  AccountOpened: (draft, e) => {
    draft.id = e.id
    draft.open = true
    draft.version = e.version
  },
  Deposited: (draft, e) => {
    draft.balance += e.amount
    draft.version = e.version
  },
  Withdrawn: (draft, e) => {
    draft.balance -= e.amount
    draft.version = e.version
  },
})

const decide = (c: AccountCommand, s: Account): E.Either<AccountRefusal, readonly AccountEvent[]> => {
  // the commands carry the time, so that deciding stays a pure function
  const meta = { id: s.id, version: s.version + 1, timestamp: c.at }
  switch (c.kind) {
    case 'open':
      return s.open
        ? E.left({ _tag: 'AlreadyOpen' })
        : E.right([AccountOpened.create({ ...meta, id: c.accountId, owner: c.owner, openedOn: c.at })])
    case 'deposit':
      return s.open ? E.right([Deposited.create({ ...meta, amount: c.amount })]) : E.left({ _tag: 'NotOpen' })
    case 'withdraw':
      if (!s.open) return E.left({ _tag: 'NotOpen' })
      return c.amount > s.balance
        ? E.left({ _tag: 'InsufficientFunds', balance: s.balance, requested: c.amount })
        : E.right([Withdrawn.create({ ...meta, amount: c.amount })])
  }
}

// `satisfies` keeps this decide's own type: it writes `id` and `version` itself, so its events are complete
// (`Decider` alone would type them as `NewEvent`s, which a repository stamps)
export const account = {
  initialState: { id: '', version: 0, open: false, balance: 0 },
  evolve,
  decide,
} satisfies Decider<AccountCommand, Account, AccountEvent, AccountRefusal>

// ----- a second decider, combined with the first over a pair of states -----

export type RewardCommand = { readonly kind: 'reward'; readonly points: number }
export type RewardEvent = { readonly type: 'PointsAwarded'; readonly points: number }

export const rewards: Decider<RewardCommand, number, RewardEvent, never> = {
  initialState: 0,
  evolve: (points, e) => points + e.points,
  decide: (c) => E.right([{ type: 'PointsAwarded', points: c.points }]),
}

export const accountWithRewards = combine(account, rewards, {
  isLeftCommand: (c): c is AccountCommand => c.kind !== 'reward',
  isLeftEvent: (e): e is AccountEvent => e.type !== 'PointsAwarded',
})

// ----- adapting a decider: accept form input, speak in messages -----

export interface DepositForm {
  readonly amountInCents: string
}

export const depositForms = pipe(
  mapCommand(account, (form: DepositForm): AccountCommand => ({ kind: 'deposit', amount: Number(form.amountInCents) / 100, at: new Date(0) })),
  (d) => mapError(d, (r: AccountRefusal) => `refused: ${r._tag}`),
)

/** Runs a command against a state: the loop a command handler runs, minus the store. */
export const handle = (state: Account, command: AccountCommand): E.Either<AccountRefusal, Account> =>
  E.map((events: readonly AccountEvent[]) => fold(account.evolve)(state, events))(account.decide(command, state))

export async function main() {
  const at = new Date('2026-03-01T09:00:00.000Z')

  // decide, then evolve with what was decided
  const opened = account.decide({ kind: 'open', accountId: 'acc-1', owner: 'Ada', at }, account.initialState)
  const history = E.isRight(opened) ? [...opened.right] : []
  let state = replay(account, history)
  for (const command of [
    { kind: 'deposit', amount: 100, at },
    { kind: 'withdraw', amount: 30, at },
  ] as const) {
    const next = handle(state, command)
    if (E.isRight(next)) state = next.right
  }

  // a refusal is a value, and the state is unchanged
  const refused = account.decide({ kind: 'withdraw', amount: 500, at }, state)

  // the combined decider keeps both states side by side
  const mixed: readonly (AccountEvent | RewardEvent)[] = [...history, { type: 'PointsAwarded', points: 10 }]
  const [combinedAccount, points] = replay(accountWithRewards, mixed)

  // the adapted decider takes a form and answers with a message
  const fromForm = E.map((events: readonly NewEvent<AccountEvent>[]) => events.map((e) => e.type === 'Deposited' && e.amount))(
    depositForms.decide({ amountInCents: '2550' }, state),
  )
  const formRefused = depositForms.decide({ amountInCents: '2550' }, account.initialState)

  return { state, refused, combined: { open: combinedAccount.open, points }, fromForm, formRefused }
}
