import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  commitIdFrom,
  conflictDetector,
  conflictsWith,
  DomainFailure,
  hasConflict,
  isDomainFailure,
  jsonState,
  shouldSnapshot,
  SnapshotPolicy,
} from '../../src/domain/index.js'
import { Account, at, Deposited, Renamed, Withdrawn, type AccountEvent } from './fixtures.js'

const deposit = (amount: number) => Deposited.create({ id: 'a', version: 1, timestamp: at, amount })
const withdraw = (amount: number) => Withdrawn.create({ id: 'a', version: 1, timestamp: at, amount })
const rename = (owner: string) => Renamed.create({ id: 'a', version: 1, timestamp: at, owner })

describe('ConflictDetector', () => {
  it('conflicts on a shared topic and not otherwise when no pair is registered', () => {
    // given an empty detector
    const d = conflictDetector<AccountEvent>()
    // then same topics conflict, different ones do not
    expect(conflictsWith(d, deposit(1), deposit(2))).toBe(true)
    expect(conflictsWith(d, deposit(1), rename('x'))).toBe(false)
  })

  it('answers a registered pair with its predicate, in that direction only', () => {
    // given a rule: a withdrawal conflicts with a committed withdrawal only when both are large
    const d = conflictDetector<AccountEvent>()
      .register('Withdrawn', 'Withdrawn', (p, c) => p.amount + c.amount > 100)
      .register('Withdrawn', 'Deposited', () => true)
    // then the predicate decides for its pairs and the default for the reverse direction
    expect(conflictsWith(d, withdraw(10), withdraw(20))).toBe(false)
    expect(conflictsWith(d, withdraw(60), withdraw(50))).toBe(true)
    expect(conflictsWith(d, withdraw(1), deposit(1))).toBe(true)
    expect(conflictsWith(d, deposit(1), withdraw(1))).toBe(false)
  })

  it('is immutable: registering returns a new detector', () => {
    // given a detector and one derived from it
    const base = conflictDetector<AccountEvent>()
    const relaxed = base.register('Deposited', 'Deposited', () => false)
    // then the first is unchanged
    expect(conflictsWith(base, deposit(1), deposit(1))).toBe(true)
    expect(conflictsWith(relaxed, deposit(1), deposit(1))).toBe(false)
  })

  it('looks at every pending/committed pair', () => {
    // given pending and committed lists where only one pair shares a topic
    const d = conflictDetector<AccountEvent>()
    // then a single conflicting pair is enough
    expect(hasConflict(d, [rename('a'), deposit(1)], [withdraw(1), deposit(2)])).toBe(true)
    expect(hasConflict(d, [rename('a')], [withdraw(1), deposit(2)])).toBe(false)
    expect(hasConflict(d, [], [deposit(1)])).toBe(false)
  })
})

describe('SnapshotPolicy', () => {
  it('asks for a snapshot when a save crosses a multiple of n', () => {
    const every3 = SnapshotPolicy.everyNEvents(3)
    expect([shouldSnapshot(every3, 0, 2), shouldSnapshot(every3, 2, 3), shouldSnapshot(every3, 3, 5), shouldSnapshot(every3, 5, 10)]).toEqual([
      false,
      true,
      false,
      true,
    ])
  })

  it('never asks when told never, or when n is not a positive integer', () => {
    expect(shouldSnapshot(SnapshotPolicy.never, 0, 1000)).toBe(false)
    expect(SnapshotPolicy.everyNEvents(0)).toEqual(SnapshotPolicy.never)
    expect(SnapshotPolicy.everyNEvents(2.5)).toEqual(SnapshotPolicy.never)
  })
})

describe('commitIdFrom', () => {
  it('derives the same UUID from the same key and different ones from different keys', () => {
    const a = commitIdFrom('cmd-1')
    expect(a).toBe(commitIdFrom('cmd-1'))
    expect(a).not.toBe(commitIdFrom('cmd-2'))
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })
})

describe('mementos and failures', () => {
  it('refuses a memento of another aggregate', () => {
    // given an account and a memento of another one
    const a = new Account('acc-1')
    // when it is restored from it
    const r = a.restore({ id: 'acc-2', version: 3, payload: { owner: 'x', balance: 1 } })
    // then it refuses, and stays as it was
    expect(E.isLeft(r) && r.left._tag).toBe('DecodeError')
    expect([a.version, a.balance]).toEqual([0, 0])
  })

  it('restores a memento of its own', () => {
    const a = new Account('acc-1')
    expect(E.isRight(a.restore({ id: 'acc-1', version: 3, payload: { owner: 'x', balance: 7 } }, 2))).toBe(true)
    expect([a.version, a.commitSequence, a.balance, a.owner]).toEqual([3, 2, 7, 'x'])
    expect(a.getMemento()).toEqual({ id: 'acc-1', version: 3, payload: { owner: 'x', balance: 7 } })
  })

  it('carries the tagged error in a DomainFailure', () => {
    const f = new DomainFailure({ _tag: 'StreamNotFound', tenantId: 't', streamId: 's' })
    expect(f).toBeInstanceOf(Error)
    expect(f.message).toBe('StreamNotFound: stream "s"')
    expect(isDomainFailure(f)).toBe(true)
    expect(isDomainFailure(new Error('x'))).toBe(false)
  })

  it('keeps JSON states as they are', () => {
    const codec = jsonState<{ n: number }>()
    expect(codec.decode(codec.encode({ n: 1 }))).toEqual(E.right({ n: 1 }))
  })
})
