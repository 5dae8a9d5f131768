import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { AggregateRepository, conflictDetector, DomainFailure, isDomainFailure, SnapshotPolicy } from '../../src/domain/index.js'
import { MemoryStore } from '../../src/memory/index.js'
import { Account, bodiesOf, commitsOf, topics, type AccountEvent } from './fixtures.js'

const caught = async (p: Promise<unknown>): Promise<DomainFailure> => {
  try {
    await p
  } catch (e) {
    if (e instanceof DomainFailure) return e
    throw e
  }
  throw new Error('expected a DomainFailure')
}

describe('AggregateRepository (class face)', () => {
  it('saves, reloads, and advances version and sequence so the same instance saves again', async () => {
    // given a new account with two pending events
    const store = new MemoryStore()
    const repository = new AggregateRepository(store, topics)
    const a = await repository.get(Account, 'acc-1')
    a.deposit(10)
    a.rename('ann')
    // when it is saved, changed and saved again
    const first = await repository.save(a)
    a.deposit(5)
    const second = await repository.save(a)
    // then both saves landed, one after the other
    expect(first).toMatchObject({ _tag: 'Appended', revision: 2, commitSequence: 1 })
    expect(second).toMatchObject({ _tag: 'Appended', revision: 3, commitSequence: 2 })
    expect([a.version, a.commitSequence, a.uncommittedEvents.length]).toEqual([3, 2, 0])
    const reloaded = await repository.get(Account, 'acc-1')
    expect([reloaded.balance, reloaded.owner, reloaded.version, reloaded.commitSequence]).toEqual([15, 'ann', 3, 2])
  })

  it('stamps stored events with the stream id and their revision', async () => {
    // given an account whose events were raised with made-up versions
    const store = new MemoryStore()
    const repository = new AggregateRepository(store, topics)
    const a = await repository.get(Account, 'acc-1')
    a.raiseEvent({ type: 'Deposited', id: 'wrong', version: 99, timestamp: new Date(0), amount: 1 })
    a.deposit(2)
    // when it is saved
    await repository.save(a)
    // then each stored event carries the stream id and its own revision
    expect((await bodiesOf(store, 'acc-1')).map((b) => [b['id'], b['version']])).toEqual([
      ['acc-1', 1],
      ['acc-1', 2],
    ])
  })

  it('reports a conflict when two writers change the same thing, losing nothing', async () => {
    // given two writers that loaded the same version
    const store = new MemoryStore()
    const repository = new AggregateRepository(store, topics)
    const seed = await repository.get(Account, 'acc-1')
    seed.deposit(100)
    await repository.save(seed)
    const alice = await repository.get(Account, 'acc-1')
    const bob = await repository.get(Account, 'acc-1')
    // when both deposit (the same topic conflicts by default)
    alice.deposit(1)
    bob.deposit(2)
    await repository.save(alice)
    const failure = await caught(repository.save(bob))
    // then bob is told, alice's deposit is stored, and bob still holds his own
    expect(failure.error._tag).toBe('ConflictDetected')
    if (failure.error._tag === 'ConflictDetected') {
      expect(failure.error.pending.map((b) => b['amount'])).toEqual([2])
      expect(failure.error.missed.flatMap((c) => c.events.map((m) => m.body['amount']))).toEqual([1])
    }
    expect(isDomainFailure(failure)).toBe(true)
    expect(bob.uncommittedEvents.map((e) => e.type)).toEqual(['Deposited'])
    expect((await bodiesOf(store, 'acc-1')).map((b) => b['amount'])).toEqual([100, 1])
    // and the same conflict comes back as a value through `either`
    const asValue = await repository.either.save(bob)
    expect(E.isLeft(asValue) && asValue.left._tag).toBe('ConflictDetected')
  })

  it('retries non-conflicting concurrent changes so that both land', async () => {
    // given two writers that loaded the same version
    const store = new MemoryStore()
    const repository = new AggregateRepository(store, topics)
    const alice = await repository.get(Account, 'acc-1')
    const bob = await repository.get(Account, 'acc-1')
    // when one renames and the other deposits (different topics do not conflict)
    alice.rename('alice')
    bob.deposit(7)
    await repository.save(alice)
    const saved = await repository.save(bob)
    // then both are stored and bob's instance knows the other's change too
    expect(saved).toMatchObject({ _tag: 'Appended', revision: 2, commitSequence: 2 })
    expect((await bodiesOf(store, 'acc-1')).map((b) => b.type)).toEqual(['Renamed', 'Deposited'])
    expect([bob.owner, bob.balance, bob.version]).toEqual(['alice', 7, 2])
    const reloaded = await repository.get(Account, 'acc-1')
    expect([reloaded.owner, reloaded.balance]).toEqual(['alice', 7])
  })

  it('lets a registered rule declare same-topic changes independent', async () => {
    // given a detector that says deposits commute
    const store = new MemoryStore()
    const detector = conflictDetector<AccountEvent>().register('Deposited', 'Deposited', () => false)
    const repository = new AggregateRepository(store, topics, { conflictDetector: detector })
    const alice = await repository.get(Account, 'acc-1')
    const bob = await repository.get(Account, 'acc-1')
    // when both deposit concurrently
    alice.deposit(1)
    bob.deposit(2)
    await repository.save(alice)
    await repository.save(bob)
    // then both deposits land
    expect((await repository.get(Account, 'acc-1')).balance).toBe(3)
  })

  it('writes a commit id once, however often it is saved', async () => {
    // given two instances carrying the same change under one commit id
    const store = new MemoryStore()
    const repository = new AggregateRepository(store, topics)
    const first = await repository.get(Account, 'acc-1')
    const retry = await repository.get(Account, 'acc-1')
    first.deposit(10)
    retry.deposit(10)
    // when both are saved with that commit id
    const a = await repository.save(first, { commitId: 'cmd-1' })
    const b = await repository.save(retry, { commitId: 'cmd-1' })
    // then it was written once and the repeat says so
    expect(a._tag).toBe('Appended')
    expect(b).toEqual({ _tag: 'AlreadyCommitted', commitId: 'cmd-1' })
    expect(await commitsOf(store, 'acc-1')).toHaveLength(1)
    // and the repeat no longer holds the events as pending, so saving it again writes nothing either
    expect(retry.uncommittedEvents).toEqual([])
    expect(await repository.save(retry)).toEqual({ _tag: 'NothingToDo' })
    expect((await repository.get(Account, 'acc-1')).balance).toBe(10)
  })

  it('answers NothingToDo when nothing is pending', async () => {
    // given a freshly loaded account
    const repository = new AggregateRepository(new MemoryStore(), topics)
    const a = await repository.get(Account, 'acc-1')
    // when it is saved unchanged
    // then nothing happens
    expect(await repository.save(a)).toEqual({ _tag: 'NothingToDo' })
  })

  it('stores commit headers given to save', async () => {
    // given an account with a pending deposit
    const store = new MemoryStore()
    const repository = new AggregateRepository(store, topics)
    const a = await repository.get(Account, 'acc-1')
    a.deposit(1)
    // when it is saved with headers
    await repository.save(a, { headers: { 'user.id': 'u-1' } })
    // then the commit carries them
    expect((await commitsOf(store, 'acc-1'))[0]?.headers).toEqual({ 'user.id': 'u-1' })
  })

  it('refuses to save an aggregate loaded at a version inside a commit', async () => {
    // given a commit of two events
    const store = new MemoryStore()
    const repository = new AggregateRepository(store, topics)
    const a = await repository.get(Account, 'acc-1')
    a.deposit(1)
    a.deposit(2)
    await repository.save(a)
    // when it is loaded at version 1 (inside that commit), changed and saved
    const old = await repository.get(Account, 'acc-1', 1)
    old.deposit(3)
    const failure = await caught(repository.save(old))
    // then it is refused as partial, and nothing was written
    expect(old.balance).toBe(4)
    expect(failure.error).toEqual({ _tag: 'PartialStream', tenantId: 'default', streamId: 'acc-1', maxRevision: 1 })
    expect(await commitsOf(store, 'acc-1')).toHaveLength(1)
  })

  it('loads at a version and at a time', async () => {
    // given three deposits committed a minute apart
    const store = new MemoryStore()
    let now = new Date('2026-01-01T00:00:00.000Z')
    const repository = new AggregateRepository(store, topics, { clock: () => now })
    const a = await repository.get(Account, 'acc-1')
    for (const amount of [1, 10, 100]) {
      a.deposit(amount)
      await repository.save(a)
      now = new Date(now.getTime() + 60_000)
    }
    // when it is loaded at version 2 and as it was 90 seconds in
    const atVersion = await repository.get(Account, 'acc-1', 2)
    const atTime = await repository.getTo(Account, 'acc-1', new Date('2026-01-01T00:01:30.000Z'))
    // then both see the first two deposits
    expect([atVersion.balance, atVersion.version]).toEqual([11, 2])
    expect([atTime.balance, atTime.version]).toEqual([11, 2])
  })

  it('loads from a snapshot and replays the events after it', async () => {
    // given three deposits, a snapshot at version 2, then a fourth deposit
    const store = new MemoryStore()
    const repository = new AggregateRepository(store, topics)
    const a = await repository.get(Account, 'acc-1')
    for (const amount of [1, 10, 100]) {
      a.deposit(amount)
      await repository.save(a)
    }
    const snapshot = await repository.snapshot(Account, 'acc-1', 2)
    a.deposit(1000)
    await repository.save(a)
    // when it is loaded, at the head and at version 3
    const head = await repository.get(Account, 'acc-1')
    const at3 = await repository.get(Account, 'acc-1', 3)
    // then the snapshot's memento and the later events add up
    expect(snapshot).toMatchObject({ streamRevision: 2, commitSequence: 2, payload: { owner: '', balance: 11 } })
    expect([head.balance, head.version, head.commitSequence]).toEqual([1111, 4, 4])
    expect([at3.balance, at3.version]).toEqual([111, 3])
    // and the loaded instance saves again
    head.deposit(1)
    expect(await repository.save(head)).toMatchObject({ revision: 5, commitSequence: 5 })
  })

  it('takes a snapshot of the state at a time', async () => {
    // given two deposits a minute apart
    const store = new MemoryStore()
    let now = new Date('2026-01-01T00:00:00.000Z')
    const repository = new AggregateRepository(store, topics, { clock: () => now })
    const a = await repository.get(Account, 'acc-1')
    a.deposit(1)
    await repository.save(a)
    now = new Date('2026-01-01T00:01:00.000Z')
    a.deposit(2)
    await repository.save(a)
    // when a snapshot is taken as of 30 seconds in
    const snapshot = await repository.snapshotAt(Account, 'acc-1', new Date('2026-01-01T00:00:30.000Z'))
    // then it pictures the first deposit only
    expect(snapshot).toMatchObject({ streamRevision: 1, payload: { balance: 1 } })
  })

  it('refuses to snapshot a stream with no events', async () => {
    // given an empty store
    const repository = new AggregateRepository(new MemoryStore(), topics)
    // when a snapshot is asked for
    const failure = await caught(repository.snapshot(Account, 'nobody'))
    // then the stream is not found
    expect(failure.error._tag).toBe('StreamNotFound')
  })

  it('snapshots on its own every N events when a policy says so', async () => {
    // given a repository that snapshots every 3 events
    const store = new MemoryStore()
    const repository = new AggregateRepository(store, topics, { snapshotPolicy: SnapshotPolicy.everyNEvents(3) })
    const a = await repository.get(Account, 'acc-1')
    // when 7 events are saved in saves of 2
    for (let i = 0; i < 4; i++) {
      a.deposit(1)
      if (i < 3) a.deposit(1)
      await repository.save(a)
    }
    // then snapshots were taken when the saves crossed 3 and 6
    const newest = await store.getSnapshot('default', 'acc-1')
    expect(E.isRight(newest) && newest.right._tag === 'Some' && newest.right.value.streamRevision).toBe(6)
    const older = await store.getSnapshot('default', 'acc-1', 5)
    expect(E.isRight(older) && older.right._tag === 'Some' && older.right.value.streamRevision).toBe(4)
  })

  it('keeps tenants apart', async () => {
    // given the same account id in two tenants
    const store = new MemoryStore()
    const red = new AggregateRepository(store, topics, { tenantId: 'red' })
    const blue = new AggregateRepository(store, topics, { tenantId: 'blue' })
    const a = await red.get(Account, 'acc-1')
    a.deposit(5)
    await red.save(a)
    // when each tenant loads it
    // then only red sees the deposit
    expect((await red.get(Account, 'acc-1')).balance).toBe(5)
    expect((await blue.get(Account, 'acc-1')).version).toBe(0)
  })

  it('reports stored events the aggregate has no handler for', async () => {
    // given a stream holding an event of a topic the map knows but a narrower aggregate does not handle
    const store = new MemoryStore()
    const repository = new AggregateRepository(store, topics)
    const a = await repository.get(Account, 'acc-1')
    a.deposit(1)
    await repository.save(a)
    const { Aggregate } = await import('../../src/domain/index.js')
    class DepositsOnly extends Aggregate<null, never> {
      protected readonly handlers = {}
      getMemento() {
        return { id: this.id, version: this.version, payload: null }
      }
      applyMemento() {}
    }
    // when the narrower aggregate loads it
    const loaded = await repository.either.get(DepositsOnly, 'acc-1')
    // then the unknown event is reported
    expect(E.isLeft(loaded) && loaded.left).toEqual({ _tag: 'UnknownTopic', topic: 'Deposited' })
  })
})
