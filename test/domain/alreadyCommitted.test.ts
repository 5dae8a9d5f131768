import { describe, expect, it } from 'vitest'
import { AggregateRepository, SagaRepository } from '../../src/domain/index.js'
import { memoryStore } from '../../src/memory/index.js'
import { Account, at, BigDepositSaga, bodiesOf, commitsOf, Deposited, Opened, topics } from './fixtures.js'

// Issue 10 item 10: an instance whose save answered `AlreadyCommitted` kept commitSequence 0 while its version
// was 1, and its next change and save threw `DomainFailure RetriesExhausted` after 4 attempts, writing nothing.
// After `AlreadyCommitted` the instance stands at the stream's head as stored (SEMANTICS 19): its pending events
// are dropped (the commit id says that change is stored; keeping them would store it twice on the next save).

const seeded = async () => {
  const store = memoryStore()
  const repository = new AggregateRepository(store, topics)
  const seed = await repository.get(Account, 'acc-1')
  seed.rename('ann')
  seed.deposit(100)
  await repository.save(seed)
  return { store, repository }
}

describe('AggregateRepository after AlreadyCommitted', () => {
  it('the issue: two instances save the same change under one commit id; the second saves again afterwards', async () => {
    // given two aggregates that load the same stream and both change it
    const { store, repository } = await seeded()
    const first = await repository.get(Account, 'acc-1')
    const second = await repository.get(Account, 'acc-1')
    first.deposit(10)
    second.deposit(10)
    // when both save with the same commit id
    const a = await repository.save(first, { commitId: 'cmd-1' })
    const b = await repository.save(second, { commitId: 'cmd-1' })
    // then the first appends, the second answers AlreadyCommitted and stands at the head as stored
    expect(a).toMatchObject({ _tag: 'Appended', revision: 3, commitSequence: 2 })
    expect(b).toEqual({ _tag: 'AlreadyCommitted', commitId: 'cmd-1' })
    expect([second.version, second.commitSequence, second.uncommittedEvents.length, second.balance]).toEqual([3, 2, 0, 110])
    // and when the second changes and saves again, it lands after the stored change
    second.deposit(5)
    expect(await repository.save(second)).toMatchObject({ _tag: 'Appended', revision: 4, commitSequence: 3 })
    expect((await bodiesOf(store, 'acc-1')).map((b) => [b.type, b['version'], b['amount'] ?? b['owner']])).toEqual([
      ['Renamed', 1, 'ann'],
      ['Deposited', 2, 100],
      ['Deposited', 3, 10],
      ['Deposited', 4, 5],
    ])
    const reloaded = await repository.get(Account, 'acc-1')
    expect([reloaded.balance, reloaded.version, reloaded.commitSequence]).toEqual([115, 4, 3])
    expect([second.balance, second.version, second.commitSequence]).toEqual([115, 4, 3])
  })

  it('takes the stored change, not its own, when the two differ under one commit id', async () => {
    // given two aggregates that make different changes and save them under the same commit id
    const { store, repository } = await seeded()
    const first = await repository.get(Account, 'acc-1')
    const second = await repository.get(Account, 'acc-1')
    first.deposit(10)
    second.rename('bob')
    second.deposit(20)
    await repository.save(first, { commitId: 'cmd-1' })
    // when the second is saved
    const b = await repository.save(second, { commitId: 'cmd-1' })
    // then it shows what is stored, and none of its own dropped events
    expect(b._tag).toBe('AlreadyCommitted')
    expect([second.owner, second.balance, second.version, second.commitSequence]).toEqual(['ann', 110, 3, 2])
    second.deposit(5)
    await repository.save(second)
    expect((await bodiesOf(store, 'acc-1')).map((b) => b['amount'] ?? b['owner'])).toEqual(['ann', 100, 10, 5])
    expect((await repository.get(Account, 'acc-1')).balance).toBe(115)
  })

  it('reaches the head when another writer stored more after the commit under that id', async () => {
    // given the change stored under cmd-1 and then another deposit by a third writer
    const { store, repository } = await seeded()
    const first = await repository.get(Account, 'acc-1')
    const second = await repository.get(Account, 'acc-1')
    first.deposit(10)
    second.deposit(10)
    await repository.save(first, { commitId: 'cmd-1' })
    const third = await repository.get(Account, 'acc-1')
    third.deposit(1000)
    await repository.save(third)
    // when the second is saved under cmd-1, changed and saved again
    expect((await repository.save(second, { commitId: 'cmd-1' }))._tag).toBe('AlreadyCommitted')
    expect([second.balance, second.version, second.commitSequence]).toEqual([1110, 4, 3])
    second.deposit(5)
    // then it lands on the head, with nothing lost
    expect(await repository.save(second)).toMatchObject({ _tag: 'Appended', revision: 5, commitSequence: 4 })
    expect((await bodiesOf(store, 'acc-1')).map((b) => b['amount'] ?? b['owner'])).toEqual(['ann', 100, 10, 1000, 5])
  })
})

describe('SagaRepository after AlreadyCommitted', () => {
  const opened = Opened.create({ id: 'acc-1', version: 1, timestamp: at, owner: 'ann' })
  const big = Deposited.create({ id: 'acc-1', version: 2, timestamp: at, amount: 500 })
  const small = Deposited.create({ id: 'acc-1', version: 3, timestamp: at, amount: 5 })
  const later = Deposited.create({ id: 'acc-1', version: 4, timestamp: at, amount: 7 })

  const seededSagas = async () => {
    const store = memoryStore()
    const sagas = new SagaRepository(store, topics)
    const seed = await sagas.get(BigDepositSaga, 'saga-1')
    seed.transition(opened)
    await sagas.save(seed, { commitId: 'e-1' })
    return { store, sagas }
  }

  it('the issue, for sagas: the second instance stands at the head and saves again', async () => {
    // given two saga instances that follow the same big deposit (a delivery repeated) under one commit id
    const { store, sagas } = await seededSagas()
    const first = await sagas.get(BigDepositSaga, 'saga-1')
    const second = await sagas.get(BigDepositSaga, 'saga-1')
    first.transition(big)
    second.transition(big)
    // when both save
    expect((await sagas.save(first, { commitId: 'e-2' }))._tag).toBe('Appended')
    const b = await sagas.save(second, { commitId: 'e-2' })
    // then the second is at the head, its command not queued again (it travelled with the first commit)
    expect(b).toEqual({ _tag: 'AlreadyCommitted', commitId: 'e-2' })
    expect([second.version, second.commitSequence, second.seen, second.uncommittedEvents.length]).toEqual([2, 2, 1, 0])
    expect(second.undispatchedCommands).toEqual([])
    // and its next event is saved after the stored ones
    second.transition(small)
    expect(await sagas.save(second, { commitId: 'e-3' })).toMatchObject({ _tag: 'Appended', revision: 3, commitSequence: 3 })
    const commits = await commitsOf(store, 'saga-1')
    expect(commits.map((c) => c.commitId)).toEqual(['e-1', 'e-2', 'e-3'])
    expect(commits.map((c) => Object.keys(c.headers))).toEqual([[], ['UndispatchedMessage.0'], []])
  })

  it('replays what another instance stored after the commit under that id', async () => {
    // given the big deposit stored under e-2, and the small one stored after it by another instance
    const { store, sagas } = await seededSagas()
    const first = await sagas.get(BigDepositSaga, 'saga-1')
    const second = await sagas.get(BigDepositSaga, 'saga-1')
    first.transition(big)
    second.transition(big)
    await sagas.save(first, { commitId: 'e-2' })
    first.transition(small)
    await sagas.save(first, { commitId: 'e-3' })
    // when the second saves the big deposit again, then follows a later one
    expect((await sagas.save(second, { commitId: 'e-2' }))._tag).toBe('AlreadyCommitted')
    expect([second.version, second.commitSequence, second.seen]).toEqual([3, 3, 2])
    second.transition(later)
    // then it lands on the head, and replaying dispatched nothing again
    expect(await sagas.save(second, { commitId: 'e-4' })).toMatchObject({ _tag: 'Appended', revision: 4, commitSequence: 4 })
    expect((await commitsOf(store, 'saga-1')).map((c) => [c.commitId, Object.keys(c.headers).length])).toEqual([
      ['e-1', 0],
      ['e-2', 1],
      ['e-3', 0],
      ['e-4', 0],
    ])
  })
})
