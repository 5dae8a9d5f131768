import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { commandHandler, commitIdFrom, deciderRepository, SnapshotPolicy, stateFromCodec } from '../../src/domain/index.js'
import { MemoryStore } from '../../src/memory/index.js'
import * as t from 'io-ts'
import { account, at, bodiesOf, commitsOf, topics, type AccountCommand } from './fixtures.js'
import { racingStore } from './stores.js'

const right = <L, A>(r: E.Either<L, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected Right, got ${JSON.stringify(r.left)}`)
  return r.right
}
const left = <L, A>(r: E.Either<L, A>): L => {
  if (E.isRight(r)) throw new Error(`expected Left, got ${JSON.stringify(r.right)}`)
  return r.left
}

describe('deciderRepository: the command handler', () => {
  it('loads, decides and appends, stamping id and version', async () => {
    // given an account repository
    const store = new MemoryStore()
    const accounts = deciderRepository({ decider: account, topics, store })
    // when an account is opened and credited
    right(await accounts.handle('acc-1', { type: 'Open', owner: 'ann' })())
    const outcome = right(await accounts.handle('acc-1', { type: 'Deposit', amount: 5 })())
    // then the events were appended with the stream id and their revisions
    expect(outcome).toMatchObject({ _tag: 'Appended', revision: 2, commitSequence: 2, state: { owner: 'ann', balance: 5 } })
    if (outcome._tag === 'Appended') {
      expect(outcome.events).toEqual([{ type: 'Deposited', id: 'acc-1', version: 2, timestamp: at, amount: 5 }])
      expect(outcome.checkpoint).toBeGreaterThan(0)
    }
    expect((await bodiesOf(store, 'acc-1')).map((b) => [b['id'], b['version']])).toEqual([
      ['acc-1', 1],
      ['acc-1', 2],
    ])
  })

  it('says NothingToDo when the decider returns no events', async () => {
    // given an account repository
    const accounts = deciderRepository({ decider: account, topics, store: new MemoryStore() })
    // when a deposit of 0 is handled
    const outcome = right(await accounts.handle('acc-1', { type: 'Deposit', amount: 0 })())
    // then nothing happened
    expect(outcome).toEqual({ _tag: 'NothingToDo', revision: 0, state: account.initialState })
  })

  it('returns the decider rejection as a value and writes nothing', async () => {
    // given an empty account
    const store = new MemoryStore()
    const accounts = deciderRepository({ decider: account, topics, store })
    // when more is withdrawn than it holds
    const error = left(await accounts.handle('acc-1', { type: 'Withdraw', amount: 1 })())
    // then the decider's error comes back, tagged Rejected
    expect(error).toEqual({ _tag: 'Rejected', error: { _tag: 'InsufficientFunds', balance: 0 } })
    expect(await commitsOf(store, 'acc-1')).toEqual([])
  })

  it('is idempotent by commit id derived from a command id', async () => {
    // given a handler that derives commit ids from command ids
    const store = new MemoryStore()
    const handle = commandHandler({
      decider: account,
      topics,
      store,
      commitIdOf: (c: AccountCommand) => (c.commandId === undefined ? undefined : commitIdFrom(c.commandId)),
    })
    const command: AccountCommand = { type: 'Deposit', amount: 5, commandId: 'cmd-42' }
    // when the same command is handled twice
    const first = right(await handle('acc-1', command)())
    const second = right(await handle('acc-1', command)())
    // then it was written once
    expect(first._tag).toBe('Appended')
    expect(second).toEqual({ _tag: 'AlreadyCommitted', commitId: commitIdFrom('cmd-42') })
    expect(await commitsOf(store, 'acc-1')).toHaveLength(1)
    expect((await commitsOf(store, 'acc-1'))[0]?.commitId).toBe(commitIdFrom('cmd-42'))
  })

  it('answers AlreadyCommitted for a repeat stored before the newest snapshot, even if deciding again would refuse it', async () => {
    // given an account with 10, a withdrawal of 10 under a command id, and a snapshot taken after it
    const store = new MemoryStore()
    const accounts = deciderRepository({ decider: account, topics, store })
    right(await accounts.handle('acc-1', { type: 'Open', owner: 'ann' })())
    right(await accounts.handle('acc-1', { type: 'Deposit', amount: 10 })())
    const withdraw: AccountCommand = { type: 'Withdraw', amount: 10 }
    const commitId = commitIdFrom('cmd-withdraw-1')
    expect(right(await accounts.handle('acc-1', withdraw, { commitId })())._tag).toBe('Appended')
    right(await accounts.snapshot('acc-1')())
    // when the same command is delivered again (the balance is now 0, so deciding again would refuse it)
    const again = await accounts.handle('acc-1', withdraw, { commitId })()
    // then it is recognised as already committed, not rejected, and nothing more is written
    expect(right(again)).toEqual({ _tag: 'AlreadyCommitted', commitId })
    expect(await commitsOf(store, 'acc-1')).toHaveLength(3)
  })

  it('answers AlreadyCommitted when its commit id landed in the meantime (a lost answer)', async () => {
    // given a store where the same deposit, under the same commit id, lands just before our attempt
    const store = racingStore('acc-1', 1, (head) => ({
      tenantId: 'default',
      streamId: 'acc-1',
      streamRevision: head.revision + 1,
      commitId: 'c-1',
      commitSequence: head.sequence + 1,
      commitStamp: at,
      headers: {},
      events: [{ body: { type: 'Deposited', id: 'acc-1', version: head.revision + 1, timestamp: at.toISOString(), amount: 5 }, headers: {} }],
    }))
    const accounts = deciderRepository({ decider: account, topics, store })
    // when the deposit is handled under c-1
    const outcome = right(await accounts.handle('acc-1', { type: 'Deposit', amount: 5 }, { commitId: 'c-1' })())
    // then it is recognised as already committed and written once
    expect(outcome).toEqual({ _tag: 'AlreadyCommitted', commitId: 'c-1' })
    expect(await commitsOf(store, 'acc-1')).toHaveLength(1)
  })

  it('reports a conflicting concurrent change and keeps the other writer’s events', async () => {
    // given another writer that deposits just before our deposit is committed
    const store = racingStore('acc-1', 1, (head) => ({
      tenantId: 'default',
      streamId: 'acc-1',
      streamRevision: head.revision + 1,
      commitId: 'theirs',
      commitSequence: head.sequence + 1,
      commitStamp: at,
      headers: {},
      events: [{ body: { type: 'Deposited', id: 'acc-1', version: head.revision + 1, timestamp: at.toISOString(), amount: 1 }, headers: {} }],
    }))
    const accounts = deciderRepository({ decider: account, topics, store })
    // when our deposit is handled
    const error = left(await accounts.handle('acc-1', { type: 'Deposit', amount: 2 })())
    // then the conflict is reported with both sides, and theirs is stored
    expect(error._tag).toBe('ConflictDetected')
    if (error._tag === 'ConflictDetected') {
      expect(error.pending.map((b) => b['amount'])).toEqual([2])
      expect(error.missed.map((c) => c.commitId)).toEqual(['theirs'])
    }
    expect((await bodiesOf(store, 'acc-1')).map((b) => b['amount'])).toEqual([1])
  })

  it('retries a non-conflicting concurrent change and both land', async () => {
    // given another writer that renames the account just before our deposit is committed
    const store = racingStore('acc-1', 1, (head) => ({
      tenantId: 'default',
      streamId: 'acc-1',
      streamRevision: head.revision + 1,
      commitId: 'rename',
      commitSequence: head.sequence + 1,
      commitStamp: at,
      headers: {},
      events: [{ body: { type: 'Renamed', id: 'acc-1', version: head.revision + 1, timestamp: at.toISOString(), owner: 'bo' }, headers: {} }],
    }))
    const accounts = deciderRepository({ decider: account, topics, store })
    // when our deposit is handled
    const outcome = right(await accounts.handle('acc-1', { type: 'Deposit', amount: 2 })())
    // then it was rebased after the rename: both are stored, and the state has both
    expect(outcome).toMatchObject({ _tag: 'Appended', revision: 2, commitSequence: 2, state: { owner: 'bo', balance: 2 } })
    if (outcome._tag === 'Appended') expect(outcome.events[0]?.version).toBe(2)
    expect((await bodiesOf(store, 'acc-1')).map((b) => [b.type, b['version']])).toEqual([
      ['Renamed', 1],
      ['Deposited', 2],
    ])
  })

  it('gives up after the configured number of retries', async () => {
    // given a writer that renames the account before every one of our attempts
    const store = racingStore('acc-1', 10, (head) => ({
      tenantId: 'default',
      streamId: 'acc-1',
      streamRevision: head.revision + 1,
      commitId: `rename-${head.sequence}`,
      commitSequence: head.sequence + 1,
      commitStamp: at,
      headers: {},
      events: [{ body: { type: 'Renamed', id: 'acc-1', version: head.revision + 1, timestamp: at.toISOString(), owner: 'x' }, headers: {} }],
    }))
    const accounts = deciderRepository({ decider: account, topics, store, maxRetries: 2 })
    // when a deposit is handled
    const error = left(await accounts.handle('acc-1', { type: 'Deposit', amount: 2 })())
    // then it stopped after three attempts, and nothing of ours was written
    expect(error).toMatchObject({ _tag: 'RetriesExhausted', attempts: 3 })
    expect(store.intrusions).toBe(3)
    expect((await bodiesOf(store, 'acc-1')).map((b) => b.type)).toEqual(['Renamed', 'Renamed', 'Renamed'])
  })

  it('loads at a version and at a time, and snapshots', async () => {
    // given three deposits a minute apart
    const store = new MemoryStore()
    let now = new Date('2026-01-01T00:00:00.000Z')
    const accounts = deciderRepository({ decider: account, topics, store, clock: () => now })
    for (const amount of [1, 10, 100]) {
      right(await accounts.handle('acc-1', { type: 'Deposit', amount })())
      now = new Date(now.getTime() + 60_000)
    }
    // when it is loaded at version 2, at 90 seconds, and after a snapshot at version 2 plus one more deposit
    const atVersion = right(await accounts.load('acc-1', 2)())
    const atTime = right(await accounts.loadAt('acc-1', new Date('2026-01-01T00:01:30.000Z'))())
    const snapshot = right(await accounts.snapshot('acc-1', 2)())
    right(await accounts.handle('acc-1', { type: 'Deposit', amount: 1000 })())
    const head = right(await accounts.load('acc-1')())
    const timeSnapshot = right(await accounts.snapshotAt('acc-1', new Date('2026-01-01T00:00:30.000Z'))())
    // then each sees what it should
    expect(atVersion).toEqual({ id: 'acc-1', state: { owner: '', balance: 11 }, version: 2, commitSequence: 2 })
    expect(atTime.state.balance).toBe(11)
    expect(snapshot).toMatchObject({ streamRevision: 2, payload: { owner: '', balance: 11 } })
    expect(head).toEqual({ id: 'acc-1', state: { owner: '', balance: 1111 }, version: 4, commitSequence: 4 })
    expect(timeSnapshot).toMatchObject({ streamRevision: 1, payload: { balance: 1 } })
  })

  it('keeps states through a codec and takes snapshots by policy', async () => {
    // given a repository that snapshots every 2 events through an io-ts codec
    const store = new MemoryStore()
    const codec = t.type({ owner: t.string, balance: t.number }, 'AccountState')
    const accounts = deciderRepository({ decider: account, topics, store, stateCodec: stateFromCodec(codec), snapshotPolicy: SnapshotPolicy.everyNEvents(2) })
    // when three deposits are handled
    for (const amount of [1, 2, 3]) right(await accounts.handle('acc-1', { type: 'Deposit', amount })())
    // then a snapshot was taken at 2, and a corrupt one is a decode error naming the path
    const snap = right(await store.getSnapshot('default', 'acc-1'))
    expect(snap._tag === 'Some' && snap.value.streamRevision).toBe(2)
    right(await store.addSnapshot({ tenantId: 'default', streamId: 'acc-1', streamRevision: 3, commitSequence: 3, payload: { owner: 1 }, headers: {} }))
    const broken = left(await accounts.load('acc-1')())
    expect(broken).toMatchObject({ _tag: 'DecodeError', topic: 'AccountState' })
    expect(broken._tag === 'DecodeError' && broken.issues.map((i) => i.path)).toEqual(['AccountState/owner', 'AccountState/balance'])
  })

  it('keeps tenants apart', async () => {
    // given one store, two tenants
    const store = new MemoryStore()
    const red = deciderRepository({ decider: account, topics, store, tenantId: 'red' })
    const plain = deciderRepository({ decider: account, topics, store })
    // when red deposits
    right(await red.handle('acc-1', { type: 'Deposit', amount: 5 })())
    // then the default tenant does not see it
    expect(right(await plain.load('acc-1')()).version).toBe(0)
    expect(await commitsOf(store, 'acc-1', 'red')).toHaveLength(1)
  })
})
