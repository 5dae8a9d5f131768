import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Decider } from '../../src/decider/index.js'
import {
  AggregateRepository,
  conflictDetector,
  deciderRepository,
  DomainFailure,
  sagaRepository,
  SagaRepository,
  type ConflictDetector,
} from '../../src/domain/index.js'
import { memoryStore } from '../../src/memory/index.js'
import {
  Account,
  account,
  at,
  BigDepositSaga,
  bigDeposits,
  bodiesOf,
  commitsOf,
  Deposited,
  topics,
  type AccountCommand,
  type AccountError,
  type AccountEvent,
  type AccountState,
} from './fixtures.js'
import { racingStore } from './stores.js'

// Issue 12 item 5: `handle(id, command, { expectedVersion })` on every face. A stream at another revision is
// `WrongExpectedVersion` before deciding; the append is conditioned on it, so a concurrent writer makes it
// `WrongExpectedVersion` too: never a rebase, never a retry, and the conflict detector is not asked.

const right = <L, A>(r: E.Either<L, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected Right, got ${JSON.stringify(r.left)}`)
  return r.right
}
const left = <L, A>(r: E.Either<L, A>): L => {
  if (E.isRight(r)) throw new Error(`expected Left, got ${JSON.stringify(r.right)}`)
  return r.left
}

/** The account decider, counting its decisions. */
const counted = () => {
  const calls = { decide: 0 }
  const decider: Decider<AccountCommand, AccountState, AccountEvent, AccountError> = {
    ...account,
    decide: (c, s) => {
      calls.decide += 1
      return account.decide(c, s)
    },
  }
  return { decider, calls }
}

/** A detector that says nothing conflicts and counts how often it is asked. */
const askedDetector = () => {
  const asked = { count: 0 }
  let detector: ConflictDetector<AccountEvent> = conflictDetector<AccountEvent>()
  for (const p of ['Opened', 'Deposited', 'Withdrawn', 'Renamed'] as const) {
    for (const c of ['Opened', 'Deposited', 'Withdrawn', 'Renamed'] as const) {
      detector = detector.register(p, c, () => {
        asked.count += 1
        return false
      })
    }
  }
  return { detector, asked }
}

/** Another writer renames the account just before each of our first `times` commits. */
const renamingStore = (times: number) =>
  racingStore('acc-1', times, (head) => ({
    tenantId: 'default',
    streamId: 'acc-1',
    streamRevision: head.revision + 1,
    commitId: `rename-${head.sequence}`,
    commitSequence: head.sequence + 1,
    commitStamp: at,
    headers: {},
    events: [{ body: { type: 'Renamed', id: 'acc-1', version: head.revision + 1, timestamp: at.toISOString(), owner: 'bo' }, headers: {} }],
  }))

describe('deciderRepository: handle with an expected version', () => {
  it('appends when the stream is at the expected version, and refuses before deciding when it is not', async () => {
    // given an account at revision 2
    const store = memoryStore()
    const { decider, calls } = counted()
    const accounts = deciderRepository({ decider, topics, store })
    right(await accounts.handle('acc-1', { type: 'Open', owner: 'ann' }, { expectedVersion: 0 })())
    right(await accounts.handle('acc-1', { type: 'Deposit', amount: 10 })())
    const before = calls.decide
    // when a deposit expects revision 1, then one expects revision 2
    const stale = left(await accounts.handle('acc-1', { type: 'Deposit', amount: 5 }, { expectedVersion: 1 })())
    const decidedOnStale = calls.decide - before
    const fresh = right(await accounts.handle('acc-1', { type: 'Deposit', amount: 5 }, { expectedVersion: 2 })())
    // then the stale one is WrongExpectedVersion with both versions, never decided, and nothing written for it
    expect(stale).toEqual({ _tag: 'WrongExpectedVersion', tenantId: 'default', streamId: 'acc-1', expected: 1, actual: 2 })
    expect(decidedOnStale).toBe(0)
    expect(fresh).toMatchObject({ _tag: 'Appended', revision: 3 })
    expect((await bodiesOf(store, 'acc-1')).map((b) => b.type)).toEqual(['Opened', 'Deposited', 'Deposited'])
  })

  it('reads expectedVersion 0 as "no events yet"', async () => {
    // given an opened account
    const store = memoryStore()
    const accounts = deciderRepository({ decider: account, topics, store })
    right(await accounts.handle('acc-1', { type: 'Open', owner: 'ann' }, { expectedVersion: 0 })())
    // when it is opened again expecting a new stream
    const again = left(await accounts.handle('acc-1', { type: 'Open', owner: 'bo' }, { expectedVersion: 0 })())
    // then it is refused
    expect(again).toMatchObject({ _tag: 'WrongExpectedVersion', expected: 0, actual: 1 })
  })

  it('never rebases or retries: a concurrent writer makes the conditioned append WrongExpectedVersion', async () => {
    // given another writer that renames the account just before our commit, and a detector that allows anything
    const store = renamingStore(5)
    const { detector, asked } = askedDetector()
    const accounts = deciderRepository({ decider: account, topics, store, conflictDetector: detector })
    // when a deposit expecting the empty stream is handled
    const error = left(await accounts.handle('acc-1', { type: 'Deposit', amount: 2 }, { expectedVersion: 0 })())
    // then it answers where the head is, tried once, asked no detector, and wrote nothing of ours
    expect(error).toEqual({ _tag: 'WrongExpectedVersion', tenantId: 'default', streamId: 'acc-1', expected: 0, actual: 1 })
    expect(store.intrusions).toBe(1)
    expect(asked.count).toBe(0)
    expect((await bodiesOf(store, 'acc-1')).map((b) => b.type)).toEqual(['Renamed'])
  })

  it('lets exactly one of 10 concurrent commands with the same expected version append', async () => {
    // given an account at revision 1
    const store = memoryStore()
    const accounts = deciderRepository({
      decider: account,
      topics,
      store,
      // deposits commute: without an expected version all ten would land
      conflictDetector: conflictDetector<AccountEvent>().register('Deposited', 'Deposited', () => false),
    })
    right(await accounts.handle('acc-1', { type: 'Open', owner: 'ann' })())
    // when ten deposits expecting revision 1 run at once
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => accounts.handle('acc-1', { type: 'Deposit', amount: i + 1 }, { expectedVersion: 1 })()),
    )
    // then one appended and nine were told the stream moved on to revision 2
    const appended = outcomes.filter((o) => E.isRight(o) && o.right._tag === 'Appended')
    const refused = outcomes.flatMap((o) => (E.isLeft(o) ? [o.left] : []))
    expect(appended).toHaveLength(1)
    expect(refused).toHaveLength(9)
    for (const r of refused) expect(r).toMatchObject({ _tag: 'WrongExpectedVersion', expected: 1, actual: 2 })
    expect(await commitsOf(store, 'acc-1')).toHaveLength(2)
  })

  it('answers AlreadyCommitted for a repeat whose expected version is now stale (a retried request that had succeeded)', async () => {
    // given a deposit handled under a commit id, expecting revision 1
    const store = memoryStore()
    const accounts = deciderRepository({ decider: account, topics, store })
    right(await accounts.handle('acc-1', { type: 'Open', owner: 'ann' })())
    const request = { commitId: 'req-7', expectedVersion: 1 }
    right(await accounts.handle('acc-1', { type: 'Deposit', amount: 5 }, request)())
    // when the same request arrives again
    const again = right(await accounts.handle('acc-1', { type: 'Deposit', amount: 5 }, request)())
    // then it is recognised, not refused
    expect(again).toEqual({ _tag: 'AlreadyCommitted', commitId: 'req-7' })
    expect(await commitsOf(store, 'acc-1')).toHaveLength(2)
  })

  it('refuses an expected version that means nothing as InvalidArgument, before any work', async () => {
    // given an account repository
    const store = memoryStore()
    const { decider, calls } = counted()
    const accounts = deciderRepository({ decider, topics, store })
    // when commands carry a negative, fractional and NaN expected version
    const errors = await Promise.all([-1, 1.5, Number.NaN].map(async (v) => left(await accounts.handle('acc-1', { type: 'Open', owner: 'x' }, { expectedVersion: v })())))
    // then each is an InvalidArgument and nothing was decided or written
    expect(errors.map((e) => e._tag)).toEqual(['InvalidArgument', 'InvalidArgument', 'InvalidArgument'])
    expect(calls.decide).toBe(0)
    expect(await commitsOf(store, 'acc-1')).toEqual([])
  })
})

describe('sagaRepository: handle with an expected version', () => {
  it('refuses a stale expected version and lets one of 10 concurrent events append', async () => {
    // given a saga stream at revision 1
    const store = memoryStore()
    const sagas = sagaRepository({ saga: bigDeposits, topics, store })
    const deposit = (version: number, amount: number) => Deposited.create({ id: 'acc-1', version, timestamp: at, amount })
    right(await sagas.handle('saga-1', deposit(1, 500), { expectedVersion: 0 })())
    // when an event expecting revision 0 is handled, then ten expecting revision 1 at once
    const stale = left(await sagas.handle('saga-1', deposit(2, 5), { expectedVersion: 0 })())
    const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => sagas.handle('saga-1', deposit(2 + i, 5), { expectedVersion: 1 })()))
    // then the stale one is refused, and exactly one of the ten landed
    expect(stale).toMatchObject({ _tag: 'WrongExpectedVersion', expected: 0, actual: 1 })
    expect(outcomes.filter(E.isRight)).toHaveLength(1)
    for (const o of outcomes.filter(E.isLeft)) expect(o.left).toMatchObject({ _tag: 'WrongExpectedVersion', expected: 1, actual: 2 })
    expect(await commitsOf(store, 'saga-1')).toHaveLength(2)
  })
})

describe('class repositories: save with an expected version', () => {
  it('saves an aggregate that stands on the expected version, and refuses one that does not, keeping its events', async () => {
    // given an account at revision 1, and an instance of it loaded at revision 1
    const store = memoryStore()
    const repository = new AggregateRepository(store, topics)
    const a = await repository.get(Account, 'acc-1')
    a.deposit(1)
    await repository.save(a, { expectedVersion: 0 })
    const b = await repository.get(Account, 'acc-1')
    b.deposit(2)
    // when it is saved expecting revision 0, and then expecting revision 1
    const stale = await repository.either.save(b, { expectedVersion: 0 })
    const keptAfterStale = b.uncommittedEvents.length
    const saved = await repository.save(b, { expectedVersion: 1 })
    // then the stale save is refused with both versions, the instance kept its event, and the right one saved
    expect(E.isLeft(stale) && stale.left).toEqual({ _tag: 'WrongExpectedVersion', tenantId: 'default', streamId: 'acc-1', expected: 0, actual: 1 })
    expect(keptAfterStale).toBe(1)
    expect(saved).toMatchObject({ _tag: 'Appended', revision: 2, commitSequence: 2 })
  })

  it('never rebases: of two aggregates saved on the same expected version, the second is WrongExpectedVersion', async () => {
    // given two instances loaded at revision 1, whose changes would otherwise rebase (different topics)
    const store = memoryStore()
    const { detector, asked } = askedDetector()
    const repository = new AggregateRepository(store, topics, { conflictDetector: detector })
    const seed = await repository.get(Account, 'acc-1')
    seed.deposit(1)
    await repository.save(seed)
    const alice = await repository.get(Account, 'acc-1')
    const bob = await repository.get(Account, 'acc-1')
    alice.rename('alice')
    bob.deposit(7)
    // when both save expecting revision 1
    await repository.save(alice, { expectedVersion: 1 })
    const thrown = await repository.save(bob, { expectedVersion: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    )
    // then bob is told where the head is, keeps his event, no detector was asked, and nothing of his was written
    expect(thrown).toBeInstanceOf(DomainFailure)
    expect((thrown as DomainFailure).error).toMatchObject({ _tag: 'WrongExpectedVersion', expected: 1, actual: 2 })
    expect(bob.uncommittedEvents.map((e) => e.type)).toEqual(['Deposited'])
    expect([bob.version, bob.commitSequence]).toEqual([2, 1])
    expect(asked.count).toBe(0)
    expect((await bodiesOf(store, 'acc-1')).map((b) => b.type)).toEqual(['Deposited', 'Renamed'])
  })

  it('lets exactly one of 10 concurrent aggregate saves on the same expected version append', async () => {
    // given ten instances of one account loaded at revision 0
    const store = memoryStore()
    const repository = new AggregateRepository(store, topics)
    const instances = await Promise.all(Array.from({ length: 10 }, () => repository.get(Account, 'acc-1')))
    instances.forEach((a, i) => a.deposit(i + 1))
    // when all save at once expecting revision 0
    const outcomes = await Promise.all(instances.map((a) => repository.either.save(a, { expectedVersion: 0 })))
    // then one landed and nine were refused
    expect(outcomes.filter(E.isRight)).toHaveLength(1)
    expect(outcomes.filter((o) => E.isLeft(o) && o.left._tag === 'WrongExpectedVersion')).toHaveLength(9)
    expect(await commitsOf(store, 'acc-1')).toHaveLength(1)
  })

  it('conditions a saga save on the expected version too', async () => {
    // given two saga instances loaded at revision 0
    const store = memoryStore()
    const sagas = new SagaRepository(store, topics)
    const one = await sagas.get(BigDepositSaga, 'saga-1')
    const two = await sagas.get(BigDepositSaga, 'saga-1')
    one.transition(Deposited.create({ id: 'acc-1', version: 1, timestamp: at, amount: 500 }))
    two.transition(Deposited.create({ id: 'acc-2', version: 1, timestamp: at, amount: 500 }))
    // when both save expecting revision 0
    const first = await sagas.either.save(one, { expectedVersion: 0 })
    const second = await sagas.either.save(two, { expectedVersion: 0 })
    // then only the first landed, and the second still holds its event and its command
    expect(E.isRight(first)).toBe(true)
    expect(E.isLeft(second) && second.left).toMatchObject({ _tag: 'WrongExpectedVersion', expected: 0, actual: 1 })
    expect([two.uncommittedEvents.length, two.undispatchedCommands.length]).toEqual([1, 1])
    expect(await commitsOf(store, 'saga-1')).toHaveLength(1)
  })
})
