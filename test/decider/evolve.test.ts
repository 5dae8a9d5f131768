import { describe, expect, it } from 'vitest'
import { evolveWith, replay, type Decider } from '../../src/decider/index.js'
import * as E from 'fp-ts/lib/Either.js'
import { evolveAccount, initialAccount, type AccountEvent, type AccountState } from './account.js'

interface Ledger {
  readonly account: AccountState
  readonly entries: readonly { readonly amount: number }[]
  readonly untouched: { readonly note: string }
}

const initialLedger: Ledger = { account: initialAccount, entries: [], untouched: { note: 'shared' } }

const evolveLedger = evolveWith<Ledger, AccountEvent>({
  Opened: (draft, e) => {
    draft.account.status = 'open'
    draft.account.owner = e.owner
  },
  Deposited: (draft, e) => {
    draft.account.balance += e.amount
    draft.account.movements += 1
    draft.entries.push({ amount: e.amount })
  },
  Withdrawn: (draft, e) => {
    draft.account.balance -= e.amount
    draft.account.movements += 1
    draft.entries.push({ amount: -e.amount })
  },
  // a handler may also return a whole new state
  Closed: (draft) => ({ ...(draft as Ledger), account: { ...(draft as Ledger).account, status: 'closed' } }),
})

const history: AccountEvent[] = [
  { type: 'Opened', owner: 'Ada' },
  { type: 'Deposited', amount: 10 },
  { type: 'Withdrawn', amount: 4 },
]

describe('evolveWith (immer)', () => {
  it('turns in-place edits of a draft into a new state', () => {
    const s = history.reduce(evolveLedger, initialLedger)
    expect(s.account).toEqual({ status: 'open', owner: 'Ada', balance: 6, movements: 2 })
    expect(s.entries).toEqual([{ amount: 10 }, { amount: -4 }])
  })

  it('never changes the state it was given, and freezes what it returns', () => {
    const before = structuredClone(initialLedger)
    const s = evolveLedger(initialLedger, { type: 'Deposited', amount: 1 })
    expect(initialLedger).toEqual(before)
    expect(Object.isFrozen(s)).toBe(true)
  })

  it('shares unchanged branches with the previous state', () => {
    const s = evolveLedger(initialLedger, { type: 'Deposited', amount: 1 })
    expect(s.untouched).toBe(initialLedger.untouched)
  })

  it('accepts a handler that returns a replacement state', () => {
    const s = [...history, { type: 'Closed' } as const].reduce(evolveLedger, initialLedger)
    expect(s.account.status).toBe('closed')
    expect(s.account.balance).toBe(6)
  })

  it('agrees with a hand-written reducer', () => {
    const d: Decider<never, Ledger, AccountEvent, never> = { initialState: initialLedger, evolve: evolveLedger, decide: () => E.right([]) }
    expect(replay(d, history).account).toEqual(history.reduce(evolveAccount, initialAccount))
  })
})
