import { describe, expect, it } from 'vitest'
import { deciderScenario, given as givenDecider, givenSaga, sagaScenario, ScenarioFailure } from '../../src/testing/index.js'
import { account, at, bigDeposits, Deposited, Opened, Withdrawn } from '../domain/fixtures.js'

const opened = Opened.create({ id: '', version: 0, timestamp: at, owner: 'ann' })
const deposited = (amount: number) => Deposited.create({ id: '', version: 0, timestamp: at, amount })
const withdrawn = (amount: number) => Withdrawn.create({ id: '', version: 0, timestamp: at, amount })

const failure = (f: () => void): ScenarioFailure => {
  try {
    f()
  } catch (e) {
    if (e instanceof ScenarioFailure) return e
    throw e
  }
  throw new Error('expected the scenario to fail')
}

describe('deciderScenario', () => {
  const { given } = deciderScenario(account)

  it('passes when decide returns the expected events, a rejection, or nothing', () => {
    given([opened]).when({ type: 'Deposit', amount: 5 }).then([deposited(5)])
    given([opened, deposited(5)]).when({ type: 'Withdraw', amount: 5 }).then([withdrawn(5)])
    given([]).when({ type: 'Withdraw', amount: 1 }).thenFails('InsufficientFunds')
    given([]).when({ type: 'Withdraw', amount: 1 }).thenFails((e) => e.balance === 0)
    given([]).when({ type: 'Withdraw', amount: 1 }).thenFails()
    given().when({ type: 'Deposit', amount: 0 }).thenNothing()
  })

  it('throws a descriptive failure with expected and actual when events differ', () => {
    // when the expected amount is wrong
    const f = failure(() => given([opened]).when({ type: 'Deposit', amount: 5 }).then([deposited(6)]))
    // then the message shows both sides and the runner gets a diff
    expect(f.message).toContain('"amount": 6')
    expect(f.message).toContain('"amount": 5')
    expect(f.expected).toEqual([deposited(6)])
    expect(f.actual).toEqual([deposited(5)])
  })

  it('fails when the command is rejected but events were expected, and the other way round', () => {
    expect(failure(() => given([]).when({ type: 'Withdraw', amount: 1 }).then([])).message).toContain('InsufficientFunds')
    expect(failure(() => given([]).when({ type: 'Deposit', amount: 1 }).thenFails()).message).toContain('expected a rejection')
    expect(failure(() => given([]).when({ type: 'Withdraw', amount: 1 }).thenFails('Other')).message).toContain('expected a rejection Other')
    expect(failure(() => given([]).when({ type: 'Deposit', amount: 1 }).thenNothing()).message).toContain('expected no events')
  })

  it('has a one-line form taking the decider', () => {
    givenDecider(account, [opened]).when({ type: 'Deposit', amount: 5 }).then([deposited(5)])
    givenDecider(account).when({ type: 'Deposit', amount: 0 }).thenNothing()
  })

  it('compares dates by time', () => {
    given([]).when({ type: 'Deposit', amount: 1 }).then([{ ...deposited(1), timestamp: new Date(at.getTime()) }])
  })

  it('refuses to be awaited', async () => {
    const scenario = given([]).when({ type: 'Deposit', amount: 1 })
    await expect(async () => {
      await (scenario as unknown as PromiseLike<void>)
    }).rejects.toThrow(/not a promise/)
  })
})

describe('sagaScenario', () => {
  const { given } = sagaScenario(bigDeposits)
  const big = Deposited.create({ id: 'acc-1', version: 2, timestamp: at, amount: 500 })

  it('checks the commands one more event sends', () => {
    given([{ ...opened, id: 'acc-1', version: 1 }]).when(big).then([{ type: 'Notify', owner: 'ann', amount: 500 }])
    given([]).when({ ...big, amount: 5 }).thenNothing()
  })

  it('has a one-line form taking the saga', () => {
    givenSaga(bigDeposits).when(big).then([{ type: 'Notify', owner: '', amount: 500 }])
  })

  it('replays the history without counting its commands', () => {
    given([big, big]).when({ ...big, amount: 1 }).thenNothing()
  })

  it('fails with the commands that were sent', () => {
    const f = failure(() => given([]).when(big).thenNothing())
    expect(f.message).toContain('Notify')
    expect(failure(() => given([]).when(big).then([])).actual).toEqual([{ type: 'Notify', owner: '', amount: 500 }])
  })
})
