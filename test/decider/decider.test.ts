import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { fold, replay, type Decider } from '../../src/decider/index.js'
import { account, evolveAccount, initialAccount, type AccountEvent } from './account.js'

const history: readonly AccountEvent[] = [
  { type: 'Opened', owner: 'Ada' },
  { type: 'Deposited', amount: 100 },
  { type: 'Withdrawn', amount: 30 },
]

describe('fold and replay', () => {
  it('fold applies events in order from a given state', () => {
    // given an open account, when folding a deposit and a withdrawal
    const s = fold(evolveAccount)({ ...initialAccount, status: 'open' }, [
      { type: 'Deposited', amount: 5 },
      { type: 'Withdrawn', amount: 2 },
    ])
    // then both are applied
    expect(s).toEqual({ status: 'open', owner: '', balance: 3, movements: 2 })
  })

  it('fold over no events is the state itself', () => {
    expect(fold(evolveAccount)(initialAccount, [])).toBe(initialAccount)
  })

  it('fold accepts any iterable, such as a generator', () => {
    function* events(): Generator<AccountEvent> {
      yield { type: 'Opened', owner: 'Ada' }
      yield { type: 'Deposited', amount: 7 }
    }
    expect(fold(evolveAccount)(initialAccount, events()).balance).toBe(7)
  })

  it('replay starts from the decider\'s initial state', () => {
    expect(replay(account, history)).toEqual({ status: 'open', owner: 'Ada', balance: 70, movements: 2 })
  })

  it('order matters: an evolve that is not commutative gives a different state', () => {
    const last: Decider<never, string, string, never> = {
      initialState: '',
      evolve: (_, e) => e,
      decide: () => E.right([]),
    }
    expect(replay(last, ['a', 'b'])).toBe('b')
    expect(replay(last, ['b', 'a'])).toBe('a')
  })
})

describe('decide', () => {
  it('yields events for an accepted command and a typed error for a refused one', () => {
    const s = replay(account, history)
    expect(account.decide({ kind: 'withdraw', amount: 70 }, s)).toEqual(E.right([{ type: 'Withdrawn', amount: 70 }]))
    expect(account.decide({ kind: 'withdraw', amount: 71 }, s)).toEqual(E.left({ _tag: 'InsufficientFunds', balance: 70, amount: 71 }))
    expect(account.decide({ kind: 'deposit', amount: -1 }, s)).toEqual(E.left({ _tag: 'InvalidAmount', amount: -1 }))
    expect(account.decide({ kind: 'deposit', amount: 1 }, initialAccount)).toEqual(E.left({ _tag: 'NotOpen' }))
  })

  it('deciding and evolving with the result is the usual command loop', () => {
    const run = (s: typeof initialAccount, ...commands: Parameters<typeof account.decide>[0][]) =>
      commands.reduce((st, c) => E.match(() => st, (es: readonly AccountEvent[]) => fold(account.evolve)(st, es))(account.decide(c, st)), s)
    const s = run(initialAccount, { kind: 'open', owner: 'Ada' }, { kind: 'deposit', amount: 10 }, { kind: 'withdraw', amount: 50 }, { kind: 'withdraw', amount: 4 })
    expect(s.balance).toBe(6)
  })
})
