import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import type { SagaDefinition } from 'aett/decider'
import { commitIdFrom, Saga, SagaRepository, sagaRepository, type Handlers } from 'aett/domain'
import { defineEvent, topicMap, type Commit, type EventOf } from 'aett/eventstore'
import { memoryStore, type MemoryStore } from 'aett/memory'
import { byCorrelationId, eventKey, routeEvents, ROUTED_FROM, sagaClassFeed, sagaFeed, type Feed, type RouterOptions } from 'aett/sagas'
import { listParked, resetSubscription } from 'aett/subscriptions'
import { everything, quick, streamOf } from './support.js'

// ----- source streams move amounts, tagged with the saga (correlation id) they belong to -----

const Moved = defineEvent('Moved', { amount: t.number })
type Moved = EventOf<typeof Moved>
const Noted = defineEvent('Noted', { text: t.string })
const movedTopics = topicMap(Moved)
const sourceTopics = topicMap(Moved, Noted)

interface Tally {
  readonly count: number
  readonly total: number
}
const tally: SagaDefinition<Tally, Moved, never> = {
  initialState: { count: 0, total: 0 },
  evolve: (s, e) => ({ count: s.count + 1, total: s.total + e.amount }),
  react: () => [],
}

const fresh = async (): Promise<MemoryStore> => {
  const store = memoryStore()
  await store.initialize()
  return store
}

/** Appends one commit of moves (and notes) to a source stream. */
const heads = new WeakMap<MemoryStore, Map<string, Commit>>()
const write = async (store: MemoryStore, streamId: string, events: ReadonlyArray<{ amount: number; saga?: string } | { note: string }>) => {
  const known = heads.get(store) ?? new Map<string, Commit>()
  heads.set(store, known)
  const head = known.get(streamId)
  const revision = head?.streamRevision ?? 0
  const r = await store.commit({
    tenantId: 'default',
    streamId,
    commitId: crypto.randomUUID(),
    commitSequence: (head?.commitSequence ?? 0) + 1,
    streamRevision: revision + events.length,
    commitStamp: new Date(),
    headers: {},
    events: events.map((e, i) => {
      const meta = { id: streamId, version: revision + i + 1, timestamp: new Date(0) }
      return {
        body: 'note' in e ? sourceTopics.encode(Noted.create({ ...meta, text: e.note })) : sourceTopics.encode(Moved.create({ ...meta, amount: e.amount, ...(e.saga === undefined ? {} : { correlationId: e.saga }) })),
        headers: {},
      }
    }),
  })
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
  known.set(streamId, r.right)
  return r.right
}

const runRouter = async <E>(options: RouterOptions<Moved, E>) => {
  const r = routeEvents(options)
  if (E.isLeft(r)) throw new Error(r.left.message)
  const caught = await r.right.caughtUp()
  await r.right.stop()
  if (E.isLeft(caught)) throw new Error(JSON.stringify(caught.left))
  return caught.right
}

describe('routeEvents', () => {
  it('feeds each event to the saga its correlation id names, under a commit id derived from the event, with where it came from', async () => {
    // given: moves in two source streams for two sagas, one move for no saga, and an event of another topic
    const store = await fresh()
    await write(store, 'acc-1', [{ amount: 1, saga: 's-1' }, { amount: 2, saga: 's-2' }])
    await write(store, 'acc-2', [{ amount: 3, saga: 's-1' }, { note: 'hello' }, { amount: 4 }])
    const sagas = sagaRepository({ saga: tally, topics: movedTopics, store })
    // when
    await runRouter({ ...quick, name: 'router', store, topics: movedTopics, feed: sagaFeed(sagas) })
    // then
    const s1 = await streamOf(store, 's-1')
    expect(s1.map((c) => c.commitId)).toEqual([commitIdFrom(eventKey({ tenantId: 'default', streamId: 'acc-1' }, 1)), commitIdFrom(eventKey({ tenantId: 'default', streamId: 'acc-2' }, 1))])
    expect(s1.map((c) => c.headers[ROUTED_FROM])).toEqual([
      { tenantId: 'default', streamId: 'acc-1', revision: 1 },
      { tenantId: 'default', streamId: 'acc-2', revision: 1 },
    ])
    const state = await sagas.load('s-1')()
    expect(E.isRight(state) && state.right.state).toEqual({ count: 2, total: 4 })
    expect((await streamOf(store, 's-2')).length).toBe(1)
  })

  it("never feeds a saga its own commits, nor routes a saga's copy of a routed event to another saga", async () => {
    // given: saga a-x stored an event of its own, tagged x; acc-1 moves for x too
    const store = await fresh()
    const direct = sagaRepository({ saga: tally, topics: movedTopics, store })
    const own = await direct.handle('a-x', Moved.create({ id: 'a-x', version: 1, timestamp: new Date(0), amount: 10, correlationId: 'x' }))()
    expect(E.isRight(own) && own.right._tag).toBe('Appended')
    await write(store, 'acc-1', [{ amount: 1, saga: 'x' }])
    // when: router A feeds `a-<id>`, router B feeds `b-<id>`; both read every commit, A's copy of acc-1's event too
    await runRouter({ ...quick, name: 'to-a', store, topics: movedTopics, to: byCorrelationId((id) => `a-${id}`), feed: sagaFeed(direct) })
    await runRouter({ ...quick, name: 'to-b', store, topics: movedTopics, to: byCorrelationId((id) => `b-${id}`), feed: sagaFeed(direct) })
    // and: a router that feeds every event to a-x
    await runRouter({ ...quick, name: 'to-a-x', store, topics: movedTopics, to: () => ['a-x'], feed: sagaFeed(direct) })
    // then: a-x holds its own event once (never fed back to it) and acc-1's once
    const ax = await streamOf(store, 'a-x')
    expect(ax.map((c) => c.headers[ROUTED_FROM])).toEqual([undefined, { tenantId: 'default', streamId: 'acc-1', revision: 1 }])
    // and b-x holds a-x's own event and acc-1's, but not a-x's copy of acc-1's
    expect((await streamOf(store, 'b-x')).map((c) => c.headers[ROUTED_FROM])).toEqual([
      { tenantId: 'default', streamId: 'a-x', revision: 1 },
      { tenantId: 'default', streamId: 'acc-1', revision: 1 },
    ])
    const state = await direct.load('b-x')()
    expect(E.isRight(state) && state.right.state).toEqual({ count: 2, total: 11 })
  })

  it('feeds one event to several sagas, each once', async () => {
    const store = await fresh()
    await write(store, 'acc-1', [{ amount: 5, saga: 'x' }])
    const sagas = sagaRepository({ saga: tally, topics: movedTopics, store })
    await runRouter({ ...quick, name: 'fan-out', store, topics: movedTopics, to: () => ['s-1', 's-2', 's-1'], feed: sagaFeed(sagas) })
    expect((await streamOf(store, 's-1')).length).toBe(1)
    expect((await streamOf(store, 's-2')).length).toBe(1)
  })

  it('feeds Saga classes too (sagaClassFeed), idempotently', async () => {
    class Counter extends Saga<Moved> {
      total = 0
      protected readonly handlers: Handlers<Moved> = {
        Moved: (e) => {
          this.total += e.amount
        },
      }
    }
    const store = await fresh()
    await write(store, 'acc-1', [{ amount: 5, saga: 'c-1' }, { amount: 6, saga: 'c-1' }])
    const repository = new SagaRepository(store, movedTopics)
    const options = { ...quick, store, topics: movedTopics, feed: sagaClassFeed(repository, Counter) }
    await runRouter({ ...options, name: 'classes' })
    await runRouter({ ...options, name: 'classes again' })
    const saga = await repository.get(Counter, 'c-1')
    expect([saga.total, saga.version]).toEqual([11, 2])
  })

  it('parks a commit whose event does not decode, with a typed error, and goes on with the others', async () => {
    const store = await fresh()
    await store.commit({
      tenantId: 'default',
      streamId: 'acc-bad',
      commitId: crypto.randomUUID(),
      commitSequence: 1,
      streamRevision: 1,
      commitStamp: new Date(),
      headers: {},
      events: [{ body: { type: 'Moved', id: 'acc-bad', version: 1, timestamp: new Date(0).toISOString(), amount: 'ten', correlationId: 's-1' }, headers: {} }],
    })
    await write(store, 'acc-1', [{ amount: 1, saga: 's-1' }])
    const sagas = sagaRepository({ saga: tally, topics: movedTopics, store })
    await runRouter({ ...quick, name: 'parks', store, topics: movedTopics, feed: sagaFeed(sagas) })
    const parked = await listParked(store, 'parks')
    if (E.isLeft(parked)) throw new Error(parked.left.message)
    expect(parked.right.map((p) => p.streamId)).toEqual(['acc-bad'])
    expect(parked.right[0]?.error).toMatchObject({
      _tag: 'FilterFailed',
      thrown: { _tag: 'EventDecodeFailed', key: JSON.stringify(['default', 'acc-bad', 1]), revision: 1, error: { _tag: 'DecodeError' } },
    })
    expect((await streamOf(store, 's-1')).length).toBe(1)
  })

  it('answers bad options as an InvalidArgument', () => {
    const store = memoryStore()
    const base = { name: 'x', store, topics: movedTopics, feed: async () => E.right(undefined) }
    for (const options of [{ ...base, topics: {} }, { ...base, feed: undefined }, { ...base, to: 'x' }, { ...base, source: { filter: 1 } }]) {
      const r = routeEvents(options as unknown as Parameters<typeof routeEvents>[0])
      expect(E.isLeft(r) && r.left._tag).toBe('InvalidArgument')
    }
  })

  it('redelivered events never advance a saga twice (random redelivery: checkpoint resets, repeated feeds, batch sizes)', async () => {
    const move = fc.record({ stream: fc.integer({ min: 0, max: 2 }), saga: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }), amount: fc.integer({ min: 1, max: 100 }) })
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(move, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 12 }),
        // each run starts the router after moving its checkpoint back to a random point (a fraction of the head)
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 5 }),
        // whether each feed is made twice over (a redelivery inside one batch)
        fc.infiniteStream(fc.boolean()),
        async (commits, resets, batchSize, twice) => {
          const store = await fresh()
          for (const moves of commits) {
            const stream = `acc-${moves[0]?.stream ?? 0}`
            await write(store, stream, moves.map((m) => (m.saga === undefined ? { amount: m.amount } : { amount: m.amount, saga: `s-${m.saga}` })))
          }
          const sagas = sagaRepository({ saga: tally, topics: movedTopics, store })
          const once = sagaFeed(sagas)
          const doubles = twice[Symbol.iterator]()
          const feed: Feed<Moved, unknown> = async (id, routed, context) => {
            const r = await once(id, routed, context)
            return doubles.next().value === true && E.isRight(r) ? once(id, routed, context) : r
          }
          const head = (await everything(store)).at(-1)?.checkpointToken ?? 0
          for (const [i, at] of resets.entries()) {
            if (i > 0) {
              const reset = await resetSubscription({ store, name: 'router', to: { token: Math.floor(at * head) } })
              expect(E.isRight(reset)).toBe(true)
            }
            await runRouter({ ...quick, name: 'router', store, topics: movedTopics, feed, batchSize })
          }
          // then: each saga holds each event routed to it exactly once, and its state counts each once
          const all = await everything(store)
          for (const s of [0, 1, 2]) {
            const expected = commits.flat().filter((m) => m.saga === s)
            const stream = all.filter((c) => c.streamId === `s-${s}`)
            expect(stream.length).toBe(expected.length)
            expect(new Set(stream.map((c) => c.commitId)).size).toBe(stream.length)
            const state = await sagas.load(`s-${s}`)()
            expect(E.isRight(state) && state.right.state).toEqual({ count: expected.length, total: expected.reduce((n, m) => n + m.amount, 0) })
          }
          await store.close()
        },
      ),
      { numRuns: 40 },
    )
  })
})
