import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../../src/memory/index.js'
import { attempt, collect, expectSameJson, freshIds, left, right, snapshot, some, writeStream } from 'aett/testing/contract'

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

  it('SEMANTICS 14: a value that is not JSON is an InvalidAttempt naming its path, as on every store, not an exception', async () => {
    const store = new MemoryStore()
    const ids = freshIds()
    const a = attempt({ ...ids, commitSequence: 1, headers: { fn: (() => 1) as never } })
    const e = left(await store.commit(a), 'InvalidAttempt')
    expect(e.reason).toContain('headers/fn')
    expect(await collect(store.get(ids.tenantId, ids.streamId))).toEqual([])
  })

  it('SEMANTICS 14: the memory store refuses what the database stores cannot keep: BigInt, Map, Set, Date, cycles, NaN', async () => {
    // the reference store once kept these exactly, where every database store refuses them or reads them back different
    const store = new MemoryStore()
    const ids = freshIds()
    const cycle: Record<string, unknown> = {}
    cycle['self'] = cycle
    const values: ReadonlyArray<readonly [unknown, string]> = [
      [10n, 'events/0/body/v'],
      [new Map([['a', 1]]), 'events/0/body/v'],
      [new Set([1]), 'events/0/body/v'],
      [new Date(Date.UTC(2026, 0, 1)), 'events/0/body/v'],
      [cycle, 'events/0/body/v/self'],
      [Number.NaN, 'events/0/body/v'],
      [[1, , 3], 'events/0/body/v/1'],
    ]
    for (const [v, path] of values) {
      const a = attempt({ ...ids, commitSequence: 1, events: [{ body: { type: 'T', v } as never, headers: {} }] })
      expect(left(await store.commit(a), 'InvalidAttempt').reason).toContain(path)
    }
    left(await store.addSnapshot({ ...snapshot(ids, 1), payload: { when: new Date() } as never }), 'InvalidAttempt')
    expect(await collect(store.getFrom(0))).toEqual([])
  })

  it('SEMANTICS 14: the memory store keeps the JSON image, as the database stores do: -0 reads back as 0, undefined properties are dropped', async () => {
    const store = new MemoryStore()
    const ids = freshIds()
    const noisy = { keep: 1, gone: undefined, zero: -0, list: [-0, { gone: undefined }] }
    const a = attempt({ ...ids, commitSequence: 1, events: [{ body: { type: 'T', ...noisy } as never, headers: { h: noisy } as never }], headers: { h: noisy } as never })
    const returned = right(await store.commit(a))
    const [read] = await collect(store.get(ids.tenantId, ids.streamId))
    for (const c of [returned, read!]) {
      expectSameJson(c.events[0]?.body, { type: 'T', keep: 1, zero: 0, list: [0, {}] })
      expectSameJson(c.events[0]?.headers, { h: { keep: 1, zero: 0, list: [0, {}] } })
      expectSameJson(c.headers, { h: { keep: 1, zero: 0, list: [0, {}] } })
      expect(Object.is(c.events[0]?.body['zero'], 0)).toBe(true)
      expect('gone' in (c.events[0]?.body ?? {})).toBe(false)
    }
    right(await store.addSnapshot({ ...snapshot(ids, 1), payload: noisy as never, headers: { h: noisy } as never }))
    const snap = some(right(await store.getSnapshot(ids.tenantId, ids.streamId)))
    expectSameJson(snap.payload, { keep: 1, zero: 0, list: [0, {}] })
    expectSameJson(snap.headers, { h: { keep: 1, zero: 0, list: [0, {}] } })
  })

  it('SEMANTICS 14: the memory store keeps frozen copies: what it hands out cannot change, and changing what was passed in changes nothing', async () => {
    const store = new MemoryStore()
    const ids = freshIds()
    const body = { type: 'T', nested: { list: [1, 2] } }
    const payload = { balance: 1, owners: ['ann'] }
    right(await store.commit(attempt({ ...ids, commitSequence: 1, events: [{ body, headers: { h: { n: 1 } } }], headers: { c: { n: 1 } } })))
    right(await store.addSnapshot(snapshot(ids, 1, payload, { s: { n: 1 } })))
    // when the caller changes what it passed in
    body.nested.list.push(3)
    payload.owners.push('bob')
    // then the store's copies are unchanged, and frozen all the way down
    const [read] = await collect(store.get(ids.tenantId, ids.streamId))
    expect(read?.events[0]?.body).toEqual({ type: 'T', nested: { list: [1, 2] } })
    const snap = some(right(await store.getSnapshot(ids.tenantId, ids.streamId)))
    expect(snap.payload).toEqual({ balance: 1, owners: ['ann'] })
    const frozen = [
      read,
      read?.events,
      read?.events[0],
      read?.events[0]?.body,
      (read?.events[0]?.body as { nested: object } | undefined)?.nested,
      (read?.events[0]?.body as { nested: { list: object } } | undefined)?.nested.list,
      read?.events[0]?.headers,
      read?.headers,
      read?.headers['c'],
      snap,
      snap.payload,
      (snap.payload as { owners: object }).owners,
      snap.headers,
    ]
    for (const [i, v] of frozen.entries()) expect(Object.isFrozen(v), `value ${i}`).toBe(true)
    expect(() => (read?.events[0]?.body as unknown as { nested: { list: number[] } }).nested.list.push(4)).toThrow(TypeError)
  })
})
