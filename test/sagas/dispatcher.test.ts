import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { commitIdFrom, undispatchedHeaders } from 'aett/domain'
import { memoryStore, type MemoryStore } from 'aett/memory'
import { commandKey, dispatchCommands, isCommandDecodeFailed, replayParkedCommands, storedCommands, type Command } from 'aett/sagas'
import { listParked } from 'aett/subscriptions'
import { everything, expectedCommands, handleWork, quick, streamOf, tick, Work, type Work as WorkT } from './support.js'

const fresh = async (): Promise<MemoryStore> => {
  const store = memoryStore()
  await store.initialize()
  return store
}

/** Runs a dispatcher until it has caught up, then stops it; answers what it handed over, in order. */
const runOnce = async (store: MemoryStore, options: { name?: string; handle?: (c: Command<WorkT>) => Promise<E.Either<unknown, unknown>> } = {}) => {
  const seen: Command<WorkT>[] = []
  const handle = options.handle ?? handleWork(store)
  const d = dispatchCommands({
    ...quick,
    name: options.name ?? 'dispatcher',
    store,
    commands: Work,
    handler: async (c) => {
      seen.push(c)
      return handle(c)
    },
  })
  if (E.isLeft(d)) throw new Error(d.left.message)
  const caught = await d.right.caughtUp()
  await d.right.stop()
  return { seen, caught }
}

describe('dispatchCommands', () => {
  it('delivers every command of every saga commit, decoded, in token order, each under a key unique across the store', async () => {
    // given: two sagas, interleaved, with one to three commands per commit
    const store = await fresh()
    await tick(store, 'saga-a', 1, 2, 'acc-1')
    await tick(store, 'saga-b', 1, 1, 'acc-2')
    await tick(store, 'saga-a', 2, 3, 'acc-1')
    await tick(store, 'saga-b', 2, 2, 'acc-1')
    // when
    const { seen, caught } = await runOnce(store)
    // then: every command, in the order the commits were stored (so each saga's in its order)
    expect(E.isRight(caught)).toBe(true)
    expect(seen.map((c) => [c.command.saga, c.command.n, c.command.i])).toEqual([
      ['saga-a', 1, 0],
      ['saga-a', 1, 1],
      ['saga-b', 1, 0],
      ['saga-a', 2, 0],
      ['saga-a', 2, 1],
      ['saga-a', 2, 2],
      ['saga-b', 2, 0],
      ['saga-b', 2, 1],
    ])
    // and each key names tenant, stream, commit sequence and index, and the commit id is derived from it
    for (const c of seen) {
      expect(c.key).toBe(JSON.stringify(['default', c.commit.streamId, c.commit.commitSequence, c.index]))
      expect(c.key).toBe(commandKey(c.commit, c.index))
      expect(c.commitId).toBe(commitIdFrom(c.key))
    }
    expect(new Set(seen.map((c) => c.key)).size).toBe(seen.length)
    // and the targets hold one commit per command
    expect((await streamOf(store, 'acc-1')).length).toBe(7)
    expect((await streamOf(store, 'acc-2')).length).toBe(1)
  })

  it('is exactly once in effect: delivering again from the start writes nothing twice', async () => {
    // given: a dispatcher that has delivered everything
    const store = await fresh()
    for (let n = 1; n <= 3; n++) await tick(store, 'saga-a', n, 2, 'acc-1')
    await runOnce(store, { name: 'first' })
    // when: a second dispatcher (another name, so another checkpoint) delivers every command again
    const outcomes: string[] = []
    const handle = handleWork(store)
    await runOnce(store, {
      name: 'second',
      handle: async (c) => {
        const r = await handle(c)
        outcomes.push(E.isRight(r) ? r.right._tag : r.left._tag)
        return r
      },
    })
    // then: every redelivery is AlreadyCommitted, and the target holds one commit per key
    expect(outcomes).toEqual(Array(6).fill('AlreadyCommitted'))
    const commits = await streamOf(store, 'acc-1')
    expect(commits.map((c) => c.commitId).sort()).toEqual(expectedCommands(await everything(store)).map((c) => commitIdFrom(c.key)).sort())
  })

  it('delivers the commands of two sagas whose commits share a commit id (a commit id is unique only in its stream)', async () => {
    // given: two sagas whose commits have the same commit id, both sending to the same target stream
    const store = await fresh()
    const shared = '7f3c3b8e-2a1d-4c59-9f40-0c1f2b3a4d5e'
    await tick(store, 'saga-a', 1, 1, 'acc-1', shared)
    await tick(store, 'saga-b', 1, 1, 'acc-1', shared)
    const commits = (await everything(store)).filter((c) => c.streamId.startsWith('saga-'))
    expect(commits.map((c) => c.commitId)).toEqual([shared, shared])
    // when
    const { seen } = await runOnce(store)
    // then: both commands were delivered under different keys, and the target holds both
    expect(seen.map((c) => c.command.saga)).toEqual(['saga-a', 'saga-b'])
    expect(seen[0]?.key).not.toBe(seen[1]?.key)
    const target = await streamOf(store, 'acc-1')
    expect(target.map((c) => c.commitId)).toEqual(seen.map((c) => c.commitId))
  })

  it('moves over commits without commands, and reads the same headers as undispatchedMessages', async () => {
    const store = await fresh()
    await tick(store, 'saga-a', 1, 0, 'acc-1')
    const { seen, caught } = await runOnce(store)
    expect(seen).toEqual([])
    expect(E.isRight(caught) && caught.right.positions['0']).toBe(1)
    expect(storedCommands({ ...undispatchedHeaders(['a', 'b']), 'UndispatchedMessage.x': 'no', other: 1 })).toEqual([
      { index: 0, message: 'a' },
      { index: 1, message: 'b' },
    ])
  })

  it('parks a commit whose command does not decode, with a typed error, and its saga behind it; other sagas go on; a replay delivers it once fixed', async () => {
    // given: saga-a's first commit carries a command the codec refuses; saga-a and saga-b go on
    const store = await fresh()
    await tick(store, 'saga-b', 1, 1, 'acc-2')
    await tick(store, 'saga-a', 1, 1, 'acc-1')
    await tick(store, 'saga-a', 2, 1, 'acc-1')
    await tick(store, 'saga-b', 2, 1, 'acc-2')
    const strict = t.type({ target: t.string, saga: t.string, n: t.number, i: t.number, priority: t.number })
    const handle = handleWork(store)
    const seen: string[] = []
    const options = {
      ...quick,
      name: 'strict',
      store,
      commands: t.union([strict, t.type({ target: t.literal('acc-2'), saga: t.string, n: t.number, i: t.number })]),
      handler: async (c: Command<WorkT>) => {
        seen.push(`${c.command.saga}/${c.command.n}`)
        return handle(c)
      },
    }
    const d = dispatchCommands(options)
    if (E.isLeft(d)) throw new Error(d.left.message)
    // when
    expect(E.isRight(await d.right.caughtUp())).toBe(true)
    await d.right.stop()
    // then: saga-b's commands were delivered; saga-a's first commit is parked with the decode error, its second behind it
    expect(seen).toEqual(['saga-b/1', 'saga-b/2'])
    const parked = await listParked(store, 'strict')
    if (E.isLeft(parked)) throw new Error(parked.left.message)
    expect(parked.right.map((p) => [p.streamId, p.checkpointToken])).toEqual([
      ['saga-a', 2],
      ['saga-a', 3],
    ])
    const [first, second] = parked.right
    const thrown = (first?.error as { _tag: string; thrown: unknown }).thrown
    expect((first?.error as { _tag: string })._tag).toBe('FilterFailed')
    expect(isCommandDecodeFailed(thrown)).toBe(true)
    expect(thrown).toMatchObject({
      _tag: 'CommandDecodeFailed',
      key: JSON.stringify(['default', 'saga-a', 1, 0]),
      index: 0,
      streamId: 'saga-a',
      commitSequence: 1,
      checkpointToken: 2,
      error: { _tag: 'DecodeError' },
    })
    expect(second?.error).toEqual({ _tag: 'ParkedBehind', checkpointToken: 2 })
    // when: the codec is fixed, the parked commits are replayed, in the saga's order
    const replayed = await replayParkedCommands({ ...options, commands: Work })
    // then
    expect(E.isRight(replayed) && replayed.right.replayed).toEqual([2, 3])
    expect(seen).toEqual(['saga-b/1', 'saga-b/2', 'saga-a/1', 'saga-a/2'])
    expect((await streamOf(store, 'acc-1')).length).toBe(2)
  })

  it("under onFailure 'stop', a command that does not decode stops the dispatcher with the typed error, before its commit", async () => {
    const store = await fresh()
    await tick(store, 'saga-a', 1, 1, 'acc-1')
    await tick(store, 'saga-a', 2, 1, 'acc-1')
    const d = dispatchCommands({ ...quick, name: 'stops', store, onFailure: 'stop', commands: t.type({ nope: t.string }), handler: async () => E.right(undefined) })
    if (E.isLeft(d)) throw new Error(d.left.message)
    const caught = await d.right.caughtUp()
    await d.right.stop()
    expect(E.isLeft(caught) && caught.left._tag).toBe('FilterFailed')
    const thrown = E.isLeft(caught) && caught.left._tag === 'FilterFailed' ? caught.left.thrown : undefined
    expect(isCommandDecodeFailed(thrown) && thrown.checkpointToken).toBe(1)
  })

  it('parks a command its handler keeps refusing, with the key, and goes on; the saga keeps its order', async () => {
    const store = await fresh()
    await tick(store, 'saga-a', 1, 2, 'acc-1')
    await tick(store, 'saga-a', 2, 1, 'acc-1')
    await tick(store, 'saga-b', 1, 1, 'acc-2')
    const handle = handleWork(store)
    const seen: string[] = []
    const d = dispatchCommands<WorkT, unknown>({
      ...quick,
      name: 'refusing',
      store,
      commands: Work,
      handler: async (c) => {
        seen.push(`${c.command.saga}/${c.command.n}/${c.command.i}`)
        return c.command.saga === 'saga-a' && c.command.i === 1 ? E.left({ _tag: 'TargetDown' as const }) : handle(c)
      },
    })
    if (E.isLeft(d)) throw new Error(d.left.message)
    await d.right.caughtUp()
    await d.right.stop()
    const parked = await listParked(store, 'refusing')
    if (E.isLeft(parked)) throw new Error(parked.left.message)
    expect(parked.right.map((p) => p.checkpointToken)).toEqual([1, 2])
    expect(parked.right[0]?.error).toMatchObject({
      _tag: 'HandlerFailed',
      error: { _tag: 'Left', left: { _tag: 'CommandFailed', key: JSON.stringify(['default', 'saga-a', 1, 1]), error: { _tag: 'TargetDown' } } },
    })
    // saga-a's second commit was never handed over ahead of its first; saga-b went on
    expect(seen.filter((s) => s.startsWith('saga-a/2'))).toEqual([])
    expect(seen).toContain('saga-b/1/0')
  })

  it('never takes an answer that is not an Either for a delivery: the commit is parked', async () => {
    const store = await fresh()
    await tick(store, 'saga-a', 1, 1, 'acc-1')
    const d = dispatchCommands({ ...quick, name: 'forgot', store, commands: Work, handler: (async () => undefined) as unknown as () => Promise<E.Either<never, void>> })
    if (E.isLeft(d)) throw new Error(d.left.message)
    await d.right.caughtUp()
    await d.right.stop()
    const parked = await listParked(store, 'forgot')
    expect(E.isRight(parked) && parked.right.map((p) => p.error)).toEqual([
      { _tag: 'HandlerFailed', attempts: 2, error: { _tag: 'Threw', thrown: { name: 'TypeError', message: 'the handler did not answer an Either' } } },
    ])
  })

  it('answers bad options as an InvalidArgument', () => {
    const store = memoryStore()
    const base = { name: 'x', store, commands: Work, handler: async () => E.right(undefined) }
    const bad = [
      { ...base, commands: undefined },
      { ...base, commands: {} },
      { ...base, handler: 1 },
      { ...base, source: 'all' },
      { ...base, source: { topics: ['Tick'] } },
      { ...base, onFailure: 'drop' },
      { ...base, name: '' },
    ]
    for (const options of bad) {
      const r = dispatchCommands(options as unknown as Parameters<typeof dispatchCommands>[0])
      expect(E.isLeft(r) && r.left._tag, JSON.stringify(Object.keys(options))).toBe('InvalidArgument')
    }
  })
})
