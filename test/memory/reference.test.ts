import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../../src/memory/index.js'
import { attempt, collect, freshIds, left, right, writeStream } from '../contract/fixtures.js'

// What the contract leaves to each store, decided for the reference store.
describe('MemoryStore as the reference', () => {
  it('SEMANTICS 3: a collision on the sequence alone reports every commit from the colliding one', async () => {
    // given a head at sequence 2, revision 2
    const store = new MemoryStore()
    const ids = freshIds()
    const [, c2] = await writeStream(store, ids, 2)
    // when an attempt reuses sequence 2 but starts at revision 3
    const conflict = left(await store.commit(attempt({ ...ids, commitSequence: 2, firstRevision: 3 })), 'ConcurrencyConflict')
    // then the commit holding sequence 2 is what the writer missed
    expect(conflict.missed.map((c) => c.commitId)).toEqual([c2?.commitId])
  })

  it('SEMANTICS 14: callers cannot change history by mutating what they passed in or read out', async () => {
    // given a committed attempt whose caller keeps mutable references
    const store = new MemoryStore()
    const ids = freshIds()
    const body = { type: 'Deposited', amount: 10 }
    const stamp = new Date(Date.UTC(2026, 0, 1))
    const a = attempt({ ...ids, commitSequence: 1, commitStamp: stamp, events: [{ body, headers: {} }] })
    right(await store.commit(a))
    // when the caller mutates its objects, and a reader mutates the stamp it read
    body.amount = 99
    stamp.setTime(0)
    const [read] = await collect(store.get(ids.tenantId, ids.streamId))
    read?.commitStamp.setTime(0)
    // then the store still holds what was committed
    const [again] = await collect(store.get(ids.tenantId, ids.streamId))
    expect(again?.events[0]?.body).toEqual({ type: 'Deposited', amount: 10 })
    expect(again?.commitStamp.getTime()).toBe(Date.UTC(2026, 0, 1))
    // and what it hands out is frozen
    expect(Object.isFrozen(again)).toBe(true)
    expect(Object.isFrozen(again?.events[0]?.body)).toBe(true)
  })

  it('SEMANTICS 15: a value that cannot be copied is a StorageError, not an exception', async () => {
    const store = new MemoryStore()
    const ids = freshIds()
    const a = attempt({ ...ids, commitSequence: 1, headers: { fn: (() => 1) as never } })
    const e = left(await store.commit(a), 'StorageError')
    expect(e.cause).toBeDefined()
    expect(await collect(store.get(ids.tenantId, ids.streamId))).toEqual([])
  })
})
