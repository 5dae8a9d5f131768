import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import type { Decider } from '../../src/decider/index.js'
import {
  AggregateRepository,
  deciderRepository,
  DomainFailure,
  sagaRepository,
  SagaRepository,
  SnapshotPolicy,
  stateFromCodec,
} from '../../src/domain/index.js'
import { DateFromISOString } from '../../src/eventstore/index.js'
import { memoryStore } from '../../src/memory/index.js'
import { Account, account, at, BigDepositSaga, bigDeposits, commitsOf, topics, type AccountCommand, type AccountError, type AccountEvent, type AccountState, type Deposited } from './fixtures.js'

// Issue 10 item 8: an event (or a state, or a saga's command) that its codec cannot encode used to escape as a
// thrown `RangeError: Invalid time value`. Every repository face answers a typed `InvalidAttempt` naming the event
// and the field instead, and stores nothing.

const invalidDate = new Date(Number.NaN)
const badDeposit: Deposited = { type: 'Deposited', id: '', version: 0, timestamp: invalidDate, amount: 5 }

/** The account decider, except that a deposit of 13 decides an event stamped with an Invalid Date. */
const careless: Decider<AccountCommand, AccountState, AccountEvent, AccountError> = {
  ...account,
  decide: (c, s) => (c.type === 'Deposit' && c.amount === 13 ? E.right([badDeposit]) : account.decide(c, s)),
}

const left = <L, A>(r: E.Either<L, A>): L => {
  if (E.isRight(r)) throw new Error(`expected Left, got ${JSON.stringify(r.right)}`)
  return r.left
}

describe('encoding never throws out of a repository face', () => {
  it('deciderRepository: an event whose timestamp is an Invalid Date is an InvalidAttempt naming it, and nothing is stored', async () => {
    // given a decider that returns an event stamped new Date(NaN)
    const store = memoryStore()
    const accounts = deciderRepository({ decider: careless, topics, store })
    await accounts.handle('acc-1', { type: 'Deposit', amount: 1 })()
    // when that command is handled
    const error = left(await accounts.handle('acc-1', { type: 'Deposit', amount: 13 })())
    // then it is a typed refusal naming the event and the field, the promise did not reject, and nothing was stored
    expect(error).toMatchObject({ _tag: 'InvalidAttempt', tenantId: 'default', streamId: 'acc-1' })
    expect(error._tag === 'InvalidAttempt' && error.reason).toMatch(/Deposited.*timestamp/)
    expect(await commitsOf(store, 'acc-1')).toHaveLength(1)
    // and the stream still takes commands
    expect(E.isRight(await accounts.handle('acc-1', { type: 'Deposit', amount: 2 })())).toBe(true)
  })

  it('deciderRepository: a body that is not JSON (amount NaN) is refused as an InvalidAttempt before anything is stored', async () => {
    // given an account repository
    const store = memoryStore()
    const accounts = deciderRepository({ decider: account, topics, store })
    // when a deposit of NaN is handled
    const error = left(await accounts.handle('acc-1', { type: 'Deposit', amount: Number.NaN })())
    // then it is refused with the path of the bad value, and the stream is not poisoned
    expect(error._tag === 'InvalidAttempt' && error.reason).toMatch(/amount/)
    expect(await commitsOf(store, 'acc-1')).toEqual([])
  })

  it('deciderRepository: a state its codec cannot encode is an InvalidAttempt from snapshot, and a snapshotFailure beside a save', async () => {
    // given a decider whose state holds a Date that becomes invalid, kept through an io-ts codec
    type S = { readonly at: Date }
    const dated: Decider<{ readonly type: 'Touch'; readonly at: Date }, S, AccountEvent, never> = {
      initialState: { at },
      evolve: (s, e) => (e.type === 'Renamed' ? { at: new Date(e.owner === 'never' ? Number.NaN : at.getTime()) } : s),
      decide: () => E.right([{ type: 'Renamed', id: '', version: 0, timestamp: at, owner: 'never' }]),
    }
    const store = memoryStore()
    const codec = stateFromCodec(t.type({ at: DateFromISOString }))
    const repo = deciderRepository({ decider: dated, topics, store, stateCodec: codec, snapshotPolicy: SnapshotPolicy.everyNEvents(1) })
    // when a command is handled (the policy snapshots after it) and a snapshot is asked for
    const handled = await repo.handle('d-1', { type: 'Touch', at })()
    const snapshot = await repo.snapshot('d-1')()
    // then the events are stored, the failed automatic snapshot is reported beside them, and the asked one is refused
    expect(E.isRight(handled) && handled.right._tag === 'Appended' && handled.right.snapshotFailure?._tag).toBe('InvalidAttempt')
    expect(left(snapshot)).toMatchObject({ _tag: 'InvalidAttempt', streamId: 'd-1' })
    expect(await commitsOf(store, 'd-1')).toHaveLength(1)
    const stored = await store.getSnapshot('default', 'd-1')
    expect(E.isRight(stored) && stored.right._tag).toBe('None')
  })

  it('sagaRepository: an event it cannot encode, and a command encodeCommand throws on, are InvalidAttempts', async () => {
    // given a functional saga repository whose command encoder throws on big amounts
    const store = memoryStore()
    const sagas = sagaRepository({
      saga: bigDeposits,
      topics,
      store,
      encodeCommand: (c) => {
        if (c.amount > 1000) throw new TypeError('too big to say')
        return c
      },
    })
    // when it is fed an event stamped new Date(NaN), and one whose command cannot be encoded
    const badEvent = left(await sagas.handle('saga-1', { ...badDeposit, amount: 500 })())
    const badCommand = left(await sagas.handle('saga-1', { type: 'Deposited', id: 'acc-1', version: 1, timestamp: at, amount: 5000 })())
    // then both are typed refusals and nothing was stored
    expect(badEvent._tag === 'InvalidAttempt' && badEvent.reason).toMatch(/Deposited.*timestamp/)
    expect(badCommand._tag === 'InvalidAttempt' && badCommand.reason).toMatch(/command 1 of 1 cannot be encoded.*too big to say/)
    expect(await commitsOf(store, 'saga-1')).toEqual([])
  })

  it('AggregateRepository: saving an Invalid Date throws a DomainFailure carrying InvalidAttempt (and `either` returns it)', async () => {
    // given an account that raised an event stamped new Date(NaN)
    const store = memoryStore()
    const repository = new AggregateRepository(store, topics)
    const a = await repository.get(Account, 'acc-1')
    a.raiseEvent(badDeposit)
    // when it is saved through both doors
    const asValue = await repository.either.save(a)
    const thrown = await repository.save(a).then(
      () => undefined,
      (e: unknown) => e,
    )
    // then each answers the typed error, never the RangeError, and nothing was stored
    expect(E.isLeft(asValue) && asValue.left).toMatchObject({ _tag: 'InvalidAttempt', streamId: 'acc-1' })
    expect(thrown).toBeInstanceOf(DomainFailure)
    expect((thrown as DomainFailure).error._tag).toBe('InvalidAttempt')
    expect(await commitsOf(store, 'acc-1')).toEqual([])
  })

  it('AggregateRepository: a memento that is not JSON is an InvalidAttempt from snapshot', async () => {
    // given an account whose memento payload holds a Date (not JSON)
    class Dated extends Account {
      override getMemento() {
        return { id: this.id, version: this.version, payload: { owner: this.owner, balance: this.balance, at: invalidDate } as never }
      }
    }
    const store = memoryStore()
    const repository = new AggregateRepository(store, topics)
    const a = await repository.get(Dated, 'acc-1')
    a.deposit(1)
    await repository.save(a)
    // when a snapshot is taken
    const snapshot = await repository.either.snapshot(Dated, 'acc-1')
    // then it is refused as given
    expect(E.isLeft(snapshot) && snapshot.left._tag).toBe('InvalidAttempt')
  })

  it('SagaRepository: a transition on an Invalid Date is an InvalidAttempt, and nothing is stored', async () => {
    // given a saga that followed an event stamped new Date(NaN)
    const store = memoryStore()
    const sagas = new SagaRepository(store, topics)
    const saga = await sagas.get(BigDepositSaga, 'saga-1')
    saga.transition({ ...badDeposit, amount: 500 })
    // when it is saved
    const saved = await sagas.either.save(saga)
    // then the refusal is typed and nothing was stored
    expect(E.isLeft(saved) && saved.left._tag === 'InvalidAttempt' && saved.left.reason).toMatch(/Deposited.*timestamp/)
    expect(await commitsOf(store, 'saga-1')).toEqual([])
  })
})
