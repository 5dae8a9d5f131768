import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import {
  addEvent,
  commitStream,
  EventStream,
  emptyStream,
  toArray,
  type Commit,
  type EncodedEvent,
  type StreamError,
} from '../../src/eventstore/index.js'
import { MemoryStore } from '../../src/memory/index.js'

const tenant = 'default'
const ev = (n: number): EncodedEvent => ({ type: 'Noted', n })

const right = <A>(r: E.Either<StreamError, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected Right, got ${JSON.stringify(r.left)}`)
  return r.right
}
const left = <A>(r: E.Either<StreamError, A>): StreamError => {
  if (E.isRight(r)) throw new Error(`expected Left, got ${JSON.stringify(r.right)}`)
  return r.left
}

/** A stream with commits of the given sizes, events numbered from 1. */
const seeded = async (store: MemoryStore, streamId: string, sizes: readonly number[]): Promise<void> => {
  let n = 0
  const stream = EventStream.create(store, tenant, streamId)
  for (const size of sizes) {
    for (let i = 0; i < size; i++) stream.add(ev(++n))
    right(await stream.commitChanges())
  }
}

const stored = async (store: MemoryStore, streamId: string): Promise<Commit[]> => right(await toArray(store.get(tenant, streamId)))

describe('EventStream: create and commit', () => {
  it('commits pending events with their headers and advances revision and sequence', async () => {
    // given a new stream with two events and a commit header
    const store = new MemoryStore()
    const stream = EventStream.create(store, tenant, 'orders-1', { clock: () => new Date('2026-01-02T03:04:05.678Z') })
    stream.add(ev(1), { 'trace.id': 'x' }).add(ev(2)).setHeader('user.name', 'ann')
    // when it commits
    const commit = O.toNullable(right(await stream.commitChanges()))
    // then the commit holds both events and the headers, and the stream moved on
    expect(commit?.streamRevision).toBe(2)
    expect(commit?.commitSequence).toBe(1)
    expect(commit?.headers).toEqual({ 'user.name': 'ann' })
    expect(commit?.events[0]?.headers).toEqual({ 'trace.id': 'x' })
    expect(commit?.commitStamp.toISOString()).toBe('2026-01-02T03:04:05.678Z')
    expect(commit?.commitId).toMatch(/^[0-9a-f-]{36}$/)
    expect(stream.streamRevision).toBe(2)
    expect(stream.commitSequence).toBe(1)
    expect(stream.uncommittedEvents).toEqual([])
    expect(stream.uncommittedHeaders).toEqual({})
    expect(stream.committedEvents.map((m) => m.body)).toEqual([ev(1), ev(2)])
  })

  it('commits nothing when nothing is pending', async () => {
    // given a stream with no pending events
    const store = new MemoryStore()
    const stream = EventStream.create(store, tenant, 'empty')
    // when it commits
    const result = right(await stream.commitChanges())
    // then nothing was written
    expect(O.isNone(result)).toBe(true)
    expect(await stored(store, 'empty')).toEqual([])
  })

  it('can commit again after a successful commit', async () => {
    // given a stream that committed once
    const store = new MemoryStore()
    const stream = EventStream.create(store, tenant, 's')
    right(await stream.add(ev(1)).commitChanges())
    // when it commits a second time
    right(await stream.add(ev(2)).commitChanges())
    // then both commits are stored in order
    expect((await stored(store, 's')).map((c) => [c.commitSequence, c.streamRevision])).toEqual([
      [1, 1],
      [2, 2],
    ])
  })

  it('leaves the state it was given untouched (the functional core is immutable)', async () => {
    // given a state with a pending event
    const store = new MemoryStore()
    const before = addEvent(emptyStream(tenant, 'pure'), ev(1))
    // when it is committed
    const step = await commitStream(store, before, 'c-1')
    // then a new state came back and the old one still has its pending event
    expect(E.isRight(step.result)).toBe(true)
    expect(before.pendingEvents).toHaveLength(1)
    expect(before.streamRevision).toBe(0)
    expect(step.state.streamRevision).toBe(1)
  })
})

describe('EventStream: open', () => {
  it('reads a stream whole, with its merged commit headers', async () => {
    // given a stream of commits sized 2, 1, 3
    const store = new MemoryStore()
    await seeded(store, 's', [2, 1, 3])
    // when it is opened
    const stream = right(await EventStream.open(store, tenant, 's'))
    // then every event is there and the head is known
    expect(stream.committedEvents.map((m) => m.body['n'])).toEqual([1, 2, 3, 4, 5, 6])
    expect(stream.streamRevision).toBe(6)
    expect(stream.commitSequence).toBe(3)
    expect(stream.isPartial).toBe(false)
  })

  it('opens between revisions, keeping only the events inside', async () => {
    // given commits covering revisions 1-2, 3, 4-6
    const store = new MemoryStore()
    await seeded(store, 's', [2, 1, 3])
    // when opened from revision 2 to revision 3 (a commit boundary)
    const stream = right(await EventStream.open(store, tenant, 's', { minRevision: 2, maxRevision: 3 }))
    // then events 2 and 3 are read, and the stream is not partial
    expect(stream.committedEvents.map((m) => m.body['n'])).toEqual([2, 3])
    expect(stream.streamRevision).toBe(3)
    expect(stream.commitSequence).toBe(2)
    expect(stream.isPartial).toBe(false)
  })

  it('is partial when the max revision cuts through a commit, and refuses to commit', async () => {
    // given commits covering revisions 1-2, 3, 4-6
    const store = new MemoryStore()
    await seeded(store, 's', [2, 1, 3])
    // when opened up to revision 5, inside the last commit, and asked to commit
    const stream = right(await EventStream.open(store, tenant, 's', { maxRevision: 5 }))
    const result = await stream.add(ev(99)).commitChanges()
    // then it holds events 1-5 and refuses with PartialStream; nothing was written
    expect(stream.committedEvents.map((m) => m.body['n'])).toEqual([1, 2, 3, 4, 5])
    expect(stream.isPartial).toBe(true)
    expect(left(result)).toEqual({ _tag: 'PartialStream', tenantId: tenant, streamId: 's', maxRevision: 5 })
    expect(await stored(store, 's')).toHaveLength(3)
  })

  it('reports StreamNotFound when opened from a revision above 0 and nothing is there', async () => {
    // given a stream of three events
    const store = new MemoryStore()
    await seeded(store, 's', [3])
    // when opened from revision 1 on a missing stream, and from beyond the head of an existing one
    const missing = await EventStream.open(store, tenant, 'missing', { minRevision: 1 })
    const beyond = await EventStream.open(store, tenant, 's', { minRevision: 4 })
    // then both are StreamNotFound
    expect(left(missing)._tag).toBe('StreamNotFound')
    expect(left(beyond)).toEqual({ _tag: 'StreamNotFound', tenantId: tenant, streamId: 's' })
  })

  it('opens a missing stream from the start as a new, empty stream', async () => {
    // given an empty store
    const store = new MemoryStore()
    // when a stream is opened without bounds
    const stream = right(await EventStream.open(store, tenant, 'new'))
    // then it is empty and can commit its first event
    expect(stream.streamRevision).toBe(0)
    right(await stream.add(ev(1)).commitChanges())
    expect(await stored(store, 'new')).toHaveLength(1)
  })

  it('opens from a snapshot and reads only what follows it', async () => {
    // given commits covering revisions 1-2, 3, 4-6 and a snapshot at revision 3
    const store = new MemoryStore()
    await seeded(store, 's', [2, 1, 3])
    const snapshot = { tenantId: tenant, streamId: 's', streamRevision: 3, commitSequence: 2, payload: { upTo: 3 }, headers: {} }
    // when the stream is opened from it, once to the end and once up to revision 4
    const whole = right(await EventStream.openFromSnapshot(store, snapshot))
    const upTo4 = right(await EventStream.openFromSnapshot(store, snapshot, 4))
    // then only events after revision 3 are read
    expect(whole.committedEvents.map((m) => m.body['n'])).toEqual([4, 5, 6])
    expect([whole.streamRevision, whole.commitSequence]).toEqual([6, 3])
    expect(upTo4.committedEvents.map((m) => m.body['n'])).toEqual([4])
    expect(upTo4.isPartial).toBe(true)
  })

  it('opens from a snapshot at the head with nothing to read, and commits after it', async () => {
    // given a stream of one commit and a snapshot at its head
    const store = new MemoryStore()
    await seeded(store, 's', [2])
    const snapshot = { tenantId: tenant, streamId: 's', streamRevision: 2, commitSequence: 1, payload: null, headers: {} }
    // when opened from the snapshot and a new event is committed
    const stream = right(await EventStream.openFromSnapshot(store, snapshot))
    const commit = O.toNullable(right(await stream.add(ev(3)).commitChanges()))
    // then the commit continues the head
    expect([commit?.commitSequence, commit?.streamRevision]).toEqual([2, 3])
  })

  it('opens a stream as it was at a point in time', async () => {
    // given two commits stamped a minute apart
    const store = new MemoryStore()
    let now = new Date('2026-01-01T00:00:00.000Z')
    const stream = EventStream.create(store, tenant, 's', { clock: () => now })
    right(await stream.add(ev(1)).commitChanges())
    now = new Date('2026-01-01T00:01:00.000Z')
    right(await stream.add(ev(2)).commitChanges())
    // when opened at 30 seconds past the first
    const past = right(await EventStream.openAt(store, tenant, 's', new Date('2026-01-01T00:00:30.000Z')))
    // then only the first commit is read
    expect(past.committedEvents.map((m) => m.body['n'])).toEqual([1])
  })
})

describe('EventStream: concurrency', () => {
  it('takes in the missed commits on a conflict, keeps its pending events, and then succeeds', async () => {
    // given two writers that opened the same stream at revision 1
    const store = new MemoryStore()
    await seeded(store, 's', [1])
    const first = right(await EventStream.open(store, tenant, 's'))
    const second = right(await EventStream.open(store, tenant, 's'))
    right(await first.add(ev(2)).commitChanges())
    // when the second commits its own event
    const conflict = left(await second.add(ev(3)).commitChanges())
    // then it is told of the conflict, has caught up, and still holds its pending event
    expect(conflict._tag).toBe('ConcurrencyConflict')
    expect(second.streamRevision).toBe(2)
    expect(second.commitSequence).toBe(2)
    expect(second.committedEvents.map((m) => m.body['n'])).toEqual([1, 2])
    expect(second.uncommittedEvents.map((m) => m.body)).toEqual([ev(3)])
    // and committing again lands after the other writer's commit
    const commit = O.toNullable(right(await second.commitChanges()))
    expect([commit?.commitSequence, commit?.streamRevision]).toEqual([3, 3])
    expect((await stored(store, 's')).flatMap((c) => c.events.map((m) => m.body['n']))).toEqual([1, 2, 3])
  })

  it('refuses a commit id it has already read without asking the store', async () => {
    // given a stream that read a commit with id c-1
    const store = new MemoryStore()
    const writer = EventStream.create(store, tenant, 's')
    right(await writer.add(ev(1)).commitChanges('c-1'))
    const reader = right(await EventStream.open(store, tenant, 's'))
    // when it commits under c-1 again
    const result = await reader.add(ev(2)).commitChanges('c-1')
    // then it is a duplicate and nothing was written
    expect(left(result)).toEqual({ _tag: 'DuplicateCommit', tenantId: tenant, streamId: 's', commitId: 'c-1' })
    expect(await stored(store, 's')).toHaveLength(1)
  })

  it('reports a duplicate the store found', async () => {
    // given a writer that stored commit c-1 and another that had not seen it
    const store = new MemoryStore()
    const stale = EventStream.create(store, tenant, 's')
    right(await EventStream.create(store, tenant, 's').add(ev(1)).commitChanges('c-1'))
    // when the other commits under the same id
    const result = await stale.add(ev(1)).commitChanges('c-1')
    // then the store's answer is DuplicateCommit (it takes precedence over the conflict)
    expect(left(result)._tag).toBe('DuplicateCommit')
  })

  it('clears its changes on request', () => {
    // given a stream with pending events and headers
    const stream = EventStream.create(new MemoryStore(), tenant, 's').add(ev(1)).setHeader('k', 1)
    // when its changes are cleared
    stream.clearChanges()
    // then nothing is pending
    expect(stream.uncommittedEvents).toEqual([])
    expect(stream.uncommittedHeaders).toEqual({})
  })
})
