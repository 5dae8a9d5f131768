import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { AggregateRepository, deciderRepository } from '../../src/domain/index.js'
import { account, Account, topics, type AccountState } from './fixtures.js'
import { CountingStore } from './stores.js'

describe('a load folds while it reads', () => {
  it('evolves the first events before the last ones are read, and ends in the same state', async () => {
    // given 1,000 deposits of 1, one commit each (more commits than one batch of the fold)
    const store = new CountingStore()
    const writer = new AggregateRepository(store, topics)
    const a = await writer.get(Account, 'long')
    for (let i = 1; i <= 1000; i++) {
      a.deposit(1)
      await writer.save(a)
    }
    // when a decider whose evolve notes how much had been read at its first call loads the stream
    let readAtFirstEvolve: number | undefined
    const watched = {
      ...account,
      evolve: (s: AccountState, e: Parameters<typeof account.evolve>[1]) => {
        readAtFirstEvolve ??= store.eventsRead
        return account.evolve(s, e)
      },
    }
    store.eventsRead = 0
    const loaded = await deciderRepository({ decider: watched, topics, store }).load('long')()
    // then the state is the whole stream's, and folding began after one batch, not after the whole stream
    expect(loaded).toMatchObject({ _tag: 'Right', right: { state: { balance: 1000 }, version: 1000 } })
    expect(store.eventsRead).toBe(1000)
    expect(readAtFirstEvolve).toBeGreaterThan(0)
    expect(readAtFirstEvolve).toBeLessThan(1000)
  })

  it('stops at an event it cannot decode, wherever it is in the stream', async () => {
    // given 600 good deposits, then one event of a type the topics do not know
    const store = new CountingStore()
    const writer = new AggregateRepository(store, topics)
    const a = await writer.get(Account, 'broken')
    for (let i = 1; i <= 600; i++) {
      a.deposit(1)
      await writer.save(a)
    }
    const stored = await store.commit({
      tenantId: 'default',
      streamId: 'broken',
      streamRevision: 601,
      commitId: 'c-601',
      commitSequence: 601,
      commitStamp: new Date(),
      headers: {},
      events: [{ body: { type: 'NoSuchEvent' }, headers: {} }],
    })
    expect(E.isRight(stored)).toBe(true)
    // when it is loaded, then the load fails instead of returning a state folded up to the bad event
    const loaded = await deciderRepository({ decider: account, topics, store }).load('broken')()
    expect(E.isLeft(loaded)).toBe(true)
  })
})
