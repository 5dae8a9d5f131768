import { fc, test } from '@fast-check/vitest'
import { describe, expect } from 'vitest'
import { combine, fold, replay, replaySaga, runSaga, type SagaDefinition } from '../../src/decider/index.js'
import { account, evolveAccount, initialAccount, type AccountCommand, type AccountEvent, type AccountState } from '../decider/account.js'

const amount = fc.integer({ min: 1, max: 1_000 })
const accountEvent: fc.Arbitrary<AccountEvent> = fc.oneof(
  fc.record({ type: fc.constant('Opened' as const), owner: fc.string({ maxLength: 8 }) }),
  fc.record({ type: fc.constant('Deposited' as const), amount }),
  fc.record({ type: fc.constant('Withdrawn' as const), amount }),
  fc.constant({ type: 'Closed' as const }),
)
const events = fc.array(accountEvent, { maxLength: 40 })
const state: fc.Arbitrary<AccountState> = events.map((es) => fold(evolveAccount)(initialAccount, es))

describe('folding', () => {
  test.prop([events])('is deterministic: the same events give the same state', (es) => {
    // given the same events twice (the second a copy), when folding each, then the states are equal
    expect(replay(account, es)).toEqual(replay(account, structuredClone(es)))
  })

  test.prop([state, events, events])('over a concatenation equals the fold of a fold', (s, a, b) => {
    const f = fold(evolveAccount)
    expect(f(s, [...a, ...b])).toEqual(f(f(s, a), b))
  })

  test.prop([events])('over no events after some is the same as over those events', (es) => {
    const f = fold(evolveAccount)
    expect(f(f(initialAccount, es), [])).toEqual(f(initialAccount, es))
  })

  test.prop([events])('does not change the events or the initial state', (es) => {
    const before = structuredClone(es)
    replay(account, es)
    expect(es).toEqual(before)
    expect(account.initialState).toEqual({ status: 'new', owner: '', balance: 0, movements: 0 })
  })
})

describe('deciding', () => {
  const command: fc.Arbitrary<AccountCommand> = fc.oneof(
    fc.record({ kind: fc.constant('open' as const), owner: fc.string({ maxLength: 8 }) }),
    fc.record({ kind: fc.constant('deposit' as const), amount: fc.integer({ min: -5, max: 500 }) }),
    fc.record({ kind: fc.constant('withdraw' as const), amount: fc.integer({ min: -5, max: 500 }) }),
    fc.constant({ kind: 'close' as const }),
  )

  test.prop([fc.array(command, { maxLength: 30 })])('never lets an account built by its own decisions go below zero', (commands) => {
    // given any sequence of commands run through decide and evolve
    let s = account.initialState
    for (const c of commands) {
      const r = account.decide(c, s)
      if (r._tag === 'Right') s = fold(account.evolve)(s, r.right)
    }
    // then the balance is never negative
    expect(s.balance).toBeGreaterThanOrEqual(0)
  })

  test.prop([events, fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 20 })])(
    'combine keeps each side equal to running it alone',
    (accountEvents, points) => {
      type Earned = { readonly type: 'PointsEarned'; readonly points: number }
      const loyalty = { initialState: 0, evolve: (n: number, e: Earned) => n + e.points, decide: () => ({ _tag: 'Right', right: [] }) as never }
      const both = combine(account, loyalty, {
        isLeftCommand: (c): c is AccountCommand => typeof c === 'object' && c !== null && 'kind' in c,
        isLeftEvent: (e): e is AccountEvent => e.type !== 'PointsEarned',
      })
      const earned: Earned[] = points.map((p) => ({ type: 'PointsEarned', points: p }))
      // interleave the two histories
      const mixed: (AccountEvent | Earned)[] = []
      for (let i = 0; i < Math.max(accountEvents.length, earned.length); i++) {
        const a = accountEvents[i]
        const b = earned[i]
        if (a !== undefined) mixed.push(a)
        if (b !== undefined) mixed.push(b)
      }
      expect(replay(both, mixed)).toEqual([replay(account, accountEvents), replay(loyalty, earned)])
    },
  )
})

describe('sagas', () => {
  const saga: SagaDefinition<number, AccountEvent, string> = {
    initialState: 0,
    evolve: (n, e) => (e.type === 'Deposited' ? n + e.amount : n),
    react: (n, e) => (e.type === 'Deposited' && n > 500 ? [`alert ${n}`] : []),
  }

  test.prop([events, events])('running in two steps equals running once, and replay agrees with run', (a, b) => {
    const once = runSaga(saga, saga.initialState, [...a, ...b])
    const first = runSaga(saga, saga.initialState, a)
    const second = runSaga(saga, first.state, b)
    expect(second.state).toEqual(once.state)
    expect([...first.commands, ...second.commands]).toEqual(once.commands)
    expect(replaySaga(saga, [...a, ...b])).toEqual(once.state)
  })
})
