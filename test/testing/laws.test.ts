import * as E from 'fp-ts/lib/Either.js'
import * as fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Decider } from '../../src/decider/index.js'
import { ScenarioFailure } from 'aett/testing'
import { assertDeciderLaws, arbitraryEvent, checkDeciderLaws } from 'aett/testing/properties'
import { account, Deposited, Opened, Renamed, Withdrawn, type AccountCommand, type AccountEvent } from '../domain/fixtures.js'

const events = arbitraryEvent(Opened, Deposited, Withdrawn, Renamed)
if (E.isLeft(events)) throw new Error('fixture events must be supported')
const commands: fc.Arbitrary<AccountCommand> = fc.oneof(
  fc.record({ type: fc.constant('Open' as const), owner: fc.string() }),
  fc.record({ type: fc.constant('Deposit' as const), amount: fc.integer({ min: 0, max: 100 }) }),
  fc.record({ type: fc.constant('Withdraw' as const), amount: fc.integer({ min: 0, max: 100 }) }),
  fc.record({ type: fc.constant('Rename' as const), owner: fc.string() }),
)
const config = { events: events.right, commands, parameters: { numRuns: 50, seed: 42 } }

describe('decider laws', () => {
  it('hold for a well-behaved decider', () => {
    expect(checkDeciderLaws(account, config)).toEqual(E.right(undefined))
    assertDeciderLaws(account, config)
  })

  it('catch an evolve that throws on some event', () => {
    const partial: typeof account = {
      ...account,
      evolve: (s, e) => {
        if (e.type === 'Withdrawn' && e.amount > s.balance) throw new Error('overdrawn')
        return account.evolve(s, e)
      },
    }
    const r = checkDeciderLaws(partial, config)
    expect(E.isLeft(r) && r.left.law).toBe('evolveIsTotal')
  })

  it('catch a decide that is not deterministic', () => {
    let calls = 0
    const flaky: typeof account = { ...account, decide: (c, s) => (calls++ % 2 === 0 ? account.decide(c, s) : E.right([])) }
    const r = checkDeciderLaws(flaky, config)
    expect(E.isLeft(r) && r.left.law).toBe('decideIsDeterministic')
  })

  it('catch a state that does not survive a snapshot', () => {
    // given a state holding a Date, kept in snapshots as plain JSON
    const dated: Decider<AccountCommand, { last: Date | null }, AccountEvent, never> = {
      initialState: { last: null },
      evolve: (_, e) => ({ last: e.timestamp }),
      decide: () => E.right([]),
    }
    // then the snapshot law fails, and the thrown failure names it
    const r = checkDeciderLaws(dated, config)
    expect(E.isLeft(r) && r.left.law).toBe('snapshotThenRestEqualsReplay')
    expect(() => assertDeciderLaws(dated, config)).toThrow(ScenarioFailure)
  })
})
