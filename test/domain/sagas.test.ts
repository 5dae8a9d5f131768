import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { sagaRepository, SagaRepository, undispatchedMessages } from '../../src/domain/index.js'
import { MemoryStore } from '../../src/memory/index.js'
import { at, BigDepositSaga, bigDeposits, commitsOf, Deposited, Opened, topics } from './fixtures.js'

const opened = Opened.create({ id: 'acc-1', version: 1, timestamp: at, owner: 'ann' })
const big = Deposited.create({ id: 'acc-1', version: 2, timestamp: at, amount: 500 })
const small = Deposited.create({ id: 'acc-1', version: 3, timestamp: at, amount: 5 })

describe('SagaRepository (class face)', () => {
  it('stores queued commands with the commit and does not queue them again on reload', async () => {
    // given a saga that saw an account open and a big deposit
    const store = new MemoryStore()
    const sagas = new SagaRepository(store, topics)
    const saga = await sagas.get(BigDepositSaga, 'saga-1')
    saga.transition(opened)
    saga.transition(big)
    expect(saga.undispatchedCommands).toEqual([{ type: 'Notify', owner: 'ann', amount: 500 }])
    // when it is saved, reloaded, and saved again after a small deposit
    await sagas.save(saga, { headers: { 'saga.type': 'BigDeposit' } })
    const reloaded = await sagas.get(BigDepositSaga, 'saga-1')
    const queuedAfterReload = reloaded.undispatchedCommands.length
    reloaded.transition(small)
    await sagas.save(reloaded)
    // then the command travelled with the first commit only, as UndispatchedMessage.0
    const commits = await commitsOf(store, 'saga-1')
    expect(commits.map((c) => c.headers)).toEqual([
      { 'saga.type': 'BigDeposit', 'UndispatchedMessage.0': { type: 'Notify', owner: 'ann', amount: 500 } },
      {},
    ])
    expect(undispatchedMessages(commits[0]?.headers ?? {})).toEqual([{ type: 'Notify', owner: 'ann', amount: 500 }])
    expect(queuedAfterReload).toBe(0)
    expect([reloaded.owner, reloaded.seen, reloaded.version, reloaded.commitSequence]).toEqual(['ann', 2, 3, 2])
    // and the events the saga followed are kept as they were (their own ids and versions)
    expect(commits.flatMap((c) => c.events.map((m) => [m.body['id'], m.body['version']]))).toEqual([
      ['acc-1', 1],
      ['acc-1', 2],
      ['acc-1', 3],
    ])
  })

  it('clears commands and headers after a save, so the same instance saves again cleanly', async () => {
    // given a saved saga
    const store = new MemoryStore()
    const sagas = new SagaRepository(store, topics)
    const saga = await sagas.get(BigDepositSaga, 'saga-1')
    saga.setHeader('k', 1)
    saga.transition(opened)
    saga.transition(big)
    await sagas.save(saga)
    // when it transitions again and is saved
    saga.transition(small)
    const saved = await sagas.save(saga)
    // then the second commit carries no old command or header
    expect(saved).toMatchObject({ _tag: 'Appended', revision: 3, commitSequence: 2 })
    expect(saga.headers).toEqual({})
    expect((await commitsOf(store, 'saga-1'))[1]?.headers).toEqual({})
  })
})

describe('sagaRepository (functional face)', () => {
  it('stores the same commits as the class', async () => {
    // given the same saga in both faces over two stores
    const classStore = new MemoryStore()
    const fnStore = new MemoryStore()
    const sagas = new SagaRepository(classStore, topics)
    const fn = sagaRepository({ saga: bigDeposits, topics, store: fnStore })
    // when each handles the same events, one commit per event
    for (const e of [opened, big, small]) {
      const s = await sagas.get(BigDepositSaga, 'saga-1')
      s.transition(e)
      await sagas.save(s, { commitId: `c-${e.version}` })
      const r = await fn.handle('saga-1', e, { commitId: `c-${e.version}` })()
      expect(E.isRight(r)).toBe(true)
    }
    // then both stores hold the same events and headers
    const shape = (cs: Awaited<ReturnType<typeof commitsOf>>) => cs.map((c) => ({ id: c.commitId, headers: c.headers, events: c.events }))
    expect(shape(await commitsOf(fnStore, 'saga-1'))).toEqual(shape(await commitsOf(classStore, 'saga-1')))
  })

  it('returns the commands it stored and replays without producing them again', async () => {
    // given a functional saga repository
    const store = new MemoryStore()
    const fn = sagaRepository({ saga: bigDeposits, topics, store })
    // when it handles the opening and a big deposit
    await fn.handle('saga-1', opened)()
    const outcome = await fn.handle('saga-1', big)()
    const loaded = await fn.load('saga-1')()
    // then the command came back once, and loading only rebuilt the state
    expect(E.isRight(outcome) && outcome.right).toMatchObject({
      _tag: 'Appended',
      commands: [{ type: 'Notify', owner: 'ann', amount: 500 }],
      revision: 2,
      state: { owner: 'ann', seen: 1 },
    })
    expect(E.isRight(loaded) && loaded.right).toEqual({ id: 'saga-1', state: { owner: 'ann', seen: 1 }, version: 2, commitSequence: 2 })
    expect((await commitsOf(store, 'saga-1')).map((c) => Object.keys(c.headers))).toEqual([[], ['UndispatchedMessage.0']])
  })

  it('is idempotent by commit id', async () => {
    // given an event handled under commit id e-1
    const store = new MemoryStore()
    const fn = sagaRepository({ saga: bigDeposits, topics, store })
    await fn.handle('saga-1', big, { commitId: 'e-1' })()
    // when it is handled again under the same id
    const again = await fn.handle('saga-1', big, { commitId: 'e-1' })()
    // then nothing is written twice
    expect(E.isRight(again) && again.right).toEqual({ _tag: 'AlreadyCommitted', commitId: 'e-1' })
    expect(await commitsOf(store, 'saga-1')).toHaveLength(1)
  })
})
