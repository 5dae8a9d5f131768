import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { combine, mapCommand, mapError, mapEvent, mapState, replay, type Decider } from '../../src/decider/index.js'
import { account, initialAccount, type AccountCommand, type AccountEvent, type AccountState } from './account.js'

// A second, independent decider: loyalty points earned per purchase.
type LoyaltyCommand = { readonly kind: 'earn'; readonly points: number }
type LoyaltyEvent = { readonly type: 'PointsEarned'; readonly points: number }
const loyalty: Decider<LoyaltyCommand, number, LoyaltyEvent, 'TooMany'> = {
  initialState: 0,
  evolve: (s, e) => s + e.points,
  decide: (c, s) => (s + c.points > 100 ? E.left('TooMany') : E.right([{ type: 'PointsEarned', points: c.points }])),
}

const both = combine(account, loyalty, {
  isLeftCommand: (c): c is AccountCommand => c.kind !== 'earn',
  isLeftEvent: (e): e is AccountEvent => e.type !== 'PointsEarned',
})

describe('combine', () => {
  it('starts from the pair of initial states', () => {
    expect(both.initialState).toEqual([initialAccount, 0])
  })

  it('routes events to their side and leaves the other untouched', () => {
    const [s1, s2] = replay(both, [
      { type: 'Opened', owner: 'Ada' },
      { type: 'PointsEarned', points: 5 },
      { type: 'Deposited', amount: 10 },
      { type: 'PointsEarned', points: 7 },
    ])
    expect(s1).toEqual({ status: 'open', owner: 'Ada', balance: 10, movements: 1 })
    expect(s2).toBe(12)
  })

  it('routes commands to their side, with the union of both error types', () => {
    const s = replay(both, [{ type: 'Opened', owner: 'Ada' }])
    expect(both.decide({ kind: 'deposit', amount: 3 }, s)).toEqual(E.right([{ type: 'Deposited', amount: 3 }]))
    expect(both.decide({ kind: 'earn', points: 3 }, s)).toEqual(E.right([{ type: 'PointsEarned', points: 3 }]))
    expect(both.decide({ kind: 'earn', points: 300 }, s)).toEqual(E.left('TooMany'))
    expect(both.decide({ kind: 'withdraw', amount: 3 }, s)).toEqual(E.left({ _tag: 'InsufficientFunds', balance: 0, amount: 3 }))
  })
})

describe('mapCommand', () => {
  it('accepts another command type', () => {
    // given commands as strings such as "deposit:10"
    const fromText = mapCommand(account, (text: string): AccountCommand => {
      const [kind, arg] = text.split(':')
      return kind === 'open' ? { kind: 'open', owner: arg ?? '' } : { kind: 'deposit', amount: Number(arg) }
    })
    const s = replay(fromText, [{ type: 'Opened', owner: 'Ada' }])
    expect(fromText.decide('deposit:10', s)).toEqual(E.right([{ type: 'Deposited', amount: 10 }]))
    expect(fromText.initialState).toBe(account.initialState)
  })
})

describe('mapEvent', () => {
  it('speaks another event type both ways', () => {
    // given events wrapped in an envelope
    type Envelope = { readonly v: 1; readonly event: AccountEvent }
    const wrapped = mapEvent(account, { to: (event: AccountEvent): Envelope => ({ v: 1, event }), from: (e: Envelope) => e.event })
    const s = replay(wrapped, [{ v: 1, event: { type: 'Opened', owner: 'Ada' } }, { v: 1, event: { type: 'Deposited', amount: 4 } }])
    expect(s.balance).toBe(4)
    expect(wrapped.decide({ kind: 'deposit', amount: 2 }, s)).toEqual(E.right([{ v: 1, event: { type: 'Deposited', amount: 2 } }]))
  })
})

describe('mapState', () => {
  it('keeps another state type both ways', () => {
    // given the state kept as a tuple [balance, status]
    type Compact = readonly [number, AccountState['status'], string, number]
    const compact = mapState(account, {
      to: (s: AccountState): Compact => [s.balance, s.status, s.owner, s.movements],
      from: ([balance, status, owner, movements]: Compact): AccountState => ({ balance, status, owner, movements }),
    })
    expect(compact.initialState).toEqual([0, 'new', '', 0])
    const s = replay(compact, [{ type: 'Opened', owner: 'Ada' }, { type: 'Deposited', amount: 9 }])
    expect(s).toEqual([9, 'open', 'Ada', 1])
    expect(compact.decide({ kind: 'withdraw', amount: 10 }, s)).toEqual(E.left({ _tag: 'InsufficientFunds', balance: 9, amount: 10 }))
  })
})

describe('mapError', () => {
  it('maps the rejection and leaves accepted decisions alone', () => {
    const messages = mapError(account, (e) => `refused: ${e._tag}`)
    expect(messages.decide({ kind: 'deposit', amount: 1 }, initialAccount)).toEqual(E.left('refused: NotOpen'))
    expect(messages.decide({ kind: 'open', owner: 'Ada' }, initialAccount)).toEqual(E.right([{ type: 'Opened', owner: 'Ada' }]))
  })
})

describe('laws', () => {
  it('mapping with identities changes nothing', () => {
    const id = <A>(a: A) => a
    const events1 = mapEvent(mapCommand(account, id<AccountCommand>), { to: id<AccountEvent>, from: id<AccountEvent> })
    const same = mapError(mapState(events1, { to: id<AccountState>, from: id<AccountState> }), id)
    const events: AccountEvent[] = [{ type: 'Opened', owner: 'Ada' }, { type: 'Deposited', amount: 3 }]
    expect(replay(same, events)).toEqual(replay(account, events))
    const s = replay(account, events)
    for (const c of [{ kind: 'withdraw', amount: 5 }, { kind: 'deposit', amount: 1 }, { kind: 'close' }] as const) {
      expect(same.decide(c, s)).toEqual(account.decide(c, s))
    }
  })
})
