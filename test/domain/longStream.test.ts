import { describe, expect, it } from 'vitest'
import { AggregateRepository, deciderRepository } from '../../src/domain/index.js'
import { account, Account, topics } from './fixtures.js'
import { CountingStore } from './stores.js'

describe('a 1,000-event aggregate', () => {
  it('loads the same with and without a snapshot, reading only what follows the snapshot', async () => {
    // given an account with 1,000 deposits in commits of 10
    const store = new CountingStore()
    const repository = new AggregateRepository(store, topics)
    const a = await repository.get(Account, 'big')
    for (let i = 1; i <= 1000; i++) {
      a.deposit(i)
      if (i % 10 === 0) await repository.save(a)
    }
    // when it is loaded without a snapshot, then with one at 990
    store.eventsRead = 0
    const whole = await repository.get(Account, 'big')
    const readWhole = store.eventsRead
    await repository.snapshot(Account, 'big', 990)
    store.eventsRead = 0
    const fromSnapshot = await repository.get(Account, 'big')
    const readAfterSnapshot = store.eventsRead
    // then both give the same state, and the second read only the last 10 events
    expect([whole.balance, whole.version, whole.commitSequence]).toEqual([500_500, 1000, 100])
    expect([fromSnapshot.balance, fromSnapshot.version, fromSnapshot.commitSequence]).toEqual([500_500, 1000, 100])
    expect(readWhole).toBe(1000)
    expect(readAfterSnapshot).toBe(10)
  })

  it('loads through a decider the same with and without a snapshot', async () => {
    // given 1,000 deposits, saved in commits of 10 (the class face writes the same stream)
    const store = new CountingStore()
    const writer = new AggregateRepository(store, topics)
    const a = await writer.get(Account, 'big')
    for (let i = 1; i <= 1000; i++) {
      a.deposit(1)
      if (i % 10 === 0) await writer.save(a)
    }
    const accounts = deciderRepository({ decider: account, topics, store })
    // when it is loaded, snapshotted at 500 and loaded again
    const before = await accounts.load('big')()
    await accounts.snapshot('big', 500)()
    store.eventsRead = 0
    const after = await accounts.load('big')()
    // then the states agree and only 500 events were read
    expect(before).toEqual(after)
    expect(after).toMatchObject({ _tag: 'Right', right: { state: { balance: 1000 }, version: 1000 } })
    expect(store.eventsRead).toBe(500)
  })
})
