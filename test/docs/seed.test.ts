import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { AggregateRepository, deciderRepository, SagaRepository } from '../../src/domain/index.js'
import { toArray } from '../../src/eventstore/index.js'
import { MemoryStore } from '../../src/memory/index.js'
import { example, ExampleAggregate, main, SampleEvent, SampleSaga, topics } from '../../docs/examples/seed.js'
import { docsPage, exampleCode } from './pages.js'

const at = new Date('2026-03-01T09:00:00.000Z')

describe('the seed, ported (docs/examples/seed.ts)', () => {
  it('runs as shown', async () => {
    const r = await main()
    expect(r.reloaded).toEqual({ value: 42, version: 1 })
    expect(r.fromSnapshot).toEqual({ value: 42, version: 1, memento: { id: 'example-1', version: 1, payload: { key: 42 } } })
    expect(r.saga).toEqual({ version: 1, commitSequence: 1 })
    expect(r.decider).toEqual({ outcome: 'Appended', state: { value: 7 } })
  })

  it('sets a value, saves, reloads, snapshots and reloads from the snapshot with the value intact', async () => {
    // given an ExampleAggregate with a value set and saved
    const store = new MemoryStore()
    const repository = new AggregateRepository(store, topics)
    const a = await repository.get(ExampleAggregate, 'a-1')
    a.setValue(5)
    await repository.save(a)
    // when it is reloaded, snapshotted, and reloaded from the snapshot after one more change
    const reloaded = await repository.get(ExampleAggregate, 'a-1')
    const snapshot = await repository.snapshot(ExampleAggregate, 'a-1')
    reloaded.setValue(6)
    await repository.save(reloaded)
    const fromSnapshot = await repository.get(ExampleAggregate, 'a-1')
    const atSnapshot = await repository.get(ExampleAggregate, 'a-1', 1)
    // then the memento round-trips `{ key: value }` exactly, and the later event applies on top
    expect(reloaded.getMemento()).toEqual({ id: 'a-1', version: 2, payload: { key: 6 } })
    expect(snapshot.payload).toEqual({ key: 5 })
    expect([atSnapshot.value, atSnapshot.version]).toEqual([5, 1])
    expect([fromSnapshot.value, fromSnapshot.version, fromSnapshot.commitSequence]).toEqual([6, 2, 2])
  })

  it('refuses a memento of another aggregate, as the seed does', () => {
    const a = new ExampleAggregate('a-1')
    expect(E.isLeft(a.restore({ id: 'other', version: 1, payload: { key: 1 } }))).toBe(true)
    expect(a.value).toBe(0)
  })

  it('transitions a saga, dispatches a command with its commit, and does not dispatch it again on reload', async () => {
    // given a SampleSaga that saw an event and dispatched a command
    const store = new MemoryStore()
    const sagas = new SagaRepository(store, topics)
    const saga = await sagas.get(SampleSaga, 's-1')
    saga.transition(SampleEvent.create({ id: 'a-1', version: 1, timestamp: at, value: 1 }))
    saga.dispatch({ type: 'Notify', value: 1 })
    // when it is saved and reloaded
    await sagas.save(saga)
    const reloaded = await sagas.get(SampleSaga, 's-1')
    // then the command is in the commit's headers and not queued again
    const commits = await toArray(store.get('default', 's-1'))
    expect(E.isRight(commits) && commits.right.map((c) => c.headers)).toEqual([{ 'UndispatchedMessage.0': { type: 'Notify', value: 1 } }])
    expect(reloaded.undispatchedCommands).toEqual([])
    expect(reloaded.version).toBe(1)
  })

  it('gives the same stream through the decider as through the class', async () => {
    // given the same value set through each face
    const classStore = new MemoryStore()
    const fnStore = new MemoryStore()
    const a = await new AggregateRepository(classStore, topics).get(ExampleAggregate, 'a-1')
    a.raiseEvent(SampleEvent.create({ id: 'a-1', version: 1, timestamp: at, value: 9 }))
    await new AggregateRepository(classStore, topics).save(a)
    await deciderRepository({ decider: example, topics, store: fnStore }).handle('a-1', { type: 'SetValue', value: 9, at })()
    // then the stored events are identical
    const bodies = async (s: MemoryStore) => {
      const r = await toArray(s.get('default', 'a-1'))
      return E.isRight(r) ? r.right.flatMap((c) => c.events) : []
    }
    expect(await bodies(fnStore)).toEqual(await bodies(classStore))
  })

  it('is shown whole in docs/domain.md', () => {
    expect(docsPage('domain.md')).toContain(exampleCode('seed.ts'))
  })
})
