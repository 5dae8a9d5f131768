import { describe, expect, it } from 'vitest'
import type { CommitAttempt, EventMessage, Snapshot } from '../../eventstore/index.js'
import type { StoreHarness } from './harness.js'
import {
  attempt,
  collect,
  expectCommits,
  expectSameJson,
  freshIds,
  left,
  logFor,
  next,
  right,
  settles,
  sharedStore,
  snapshot,
  some,
  writeStream,
} from './fixtures.js'

class Money {
  constructor(readonly amount: number) {}
}

/** A value that refers to itself. */
const cyclic = (): unknown => {
  const c: Record<string, unknown> = { a: 1 }
  c['self'] = c
  return c
}

const sparse = (): unknown[] => {
  const a = [1, 2, 3]
  delete a[1]
  return a
}

/**
 * Values that are not JSON, each with the path below the slot it is put in that the refusal must name. Every
 * store keeps the JSON image of what it is given, so none of these can be stored without reading back different.
 */
export const notJson: ReadonlyArray<readonly [string, () => unknown, string]> = [
  ['NaN', () => Number.NaN, ''],
  ['Infinity', () => Number.POSITIVE_INFINITY, ''],
  ['-Infinity', () => Number.NEGATIVE_INFINITY, ''],
  ['a BigInt', () => 10n, ''],
  ['a function', () => () => 1, ''],
  ['a symbol', () => Symbol('s'), ''],
  ['a Map', () => new Map([['a', 1]]), ''],
  ['a Set', () => new Set([1]), ''],
  ['a Date', () => new Date(Date.UTC(2026, 0, 1)), ''],
  ['an Invalid Date', () => new Date(Number.NaN), ''],
  ['a class instance', () => new Money(5), ''],
  ['a boxed number', () => Object(1) as unknown, ''],
  ['a RegExp', () => /x/, ''],
  ['a typed array', () => new Uint8Array([1, 2]), ''],
  ['a cycle', cyclic, '/self'],
  ['a sparse array', sparse, '/1'],
  ['undefined inside an array', () => [1, undefined, 3], '/1'],
  ['a nested NaN', () => ({ list: [1, { deep: Number.NaN }] }), '/list/1/deep'],
  ['a string with U+0000', () => 'a\u0000b', ''],
  ['a string with a lone high surrogate', () => 'a\ud800b', ''],
  ['a string with a lone low surrogate', () => 'a\udfffb', ''],
  ['a symbol key', () => ({ ok: 1, [Symbol('k')]: 1 }), ''],
  ['a key with U+0000', () => ({ 'k\u0000': 1 }), ''],
  ['a key with a lone surrogate', () => ({ 'k\udc00': 1 }), ''],
  ['an object with a toJSON method', () => ({ toJSON: () => 'x' }), '/toJSON'],
]

/** The places an attempt carries JSON, each as a path and a way to put a value there. */
const attemptSlots: ReadonlyArray<readonly [string, (a: CommitAttempt, v: unknown) => CommitAttempt]> = [
  [
    'events/0/body/amount',
    (a, v) => ({ ...a, events: [{ ...(a.events[0] as EventMessage), body: { ...(a.events[0] as EventMessage).body, amount: v as never } }, ...a.events.slice(1)] }),
  ],
  [
    'events/1/body/nested/0',
    (a, v) => ({ ...a, events: [a.events[0] as EventMessage, { ...(a.events[1] as EventMessage), body: { type: 'Nested', nested: [v as never] } }] }),
  ],
  ['headers/bad', (a, v) => ({ ...a, headers: { ...a.headers, bad: v as never } })],
  ['events/1/headers/bad', (a, v) => ({ ...a, events: [a.events[0] as EventMessage, { ...(a.events[1] as EventMessage), headers: { bad: v as never } }] })],
]

/** The places a snapshot carries JSON; the refusal's path must name `payload` or `headers`. */
const snapshotSlots: ReadonlyArray<readonly [string, (s: Snapshot, v: unknown) => Snapshot]> = [
  ['payload/bad', (s, v) => ({ ...s, payload: { bad: v as never } })],
  ['payload/list/0', (s, v) => ({ ...s, payload: { list: [v as never] } })],
  ['headers/bad', (s, v) => ({ ...s, headers: { bad: v as never } })],
]

/** The reason must name the path of the bad value (a key with a bad name: the object that holds it). */
const expectPath = (reason: string, path: string, label: string): void => {
  expect(reason, label).toContain(path)
  if (path.startsWith('headers/')) expect(reason, `${label}: commit headers, not event headers`).not.toContain('events/')
}

/** SEMANTICS 14: bodies, headers and snapshots are exactly JSON, kept as their JSON image. */
export const valuesContract = (harness: StoreHarness): void => {
  describe(`${harness.name}: JSON values (SEMANTICS 14)`, () => {
    const store = sharedStore(harness)

    it('SEMANTICS 14: a body, commit header or event header that is not JSON is an InvalidAttempt naming its path, and nothing is stored', async () => {
      // given a stream at its first commit
      const ids = freshIds()
      const [c1] = await writeStream(store(), ids, 1)
      for (const [what, value, below] of notJson) {
        for (const [path, put] of attemptSlots) {
          // when the next commit carries the value there
          const a = put(next(c1, ids, { events: 2 }), value())
          const result = await settles(`${what} at ${path}`, () => store().commit(a))
          // then it is refused, naming where the value is
          const e = left(result, 'InvalidAttempt')
          expectPath(e.reason, `${path}${below}`, `${what} at ${path}`)
        }
      }
      // and the stream's head is unchanged: nothing stored, no commit visible to a global read
      expectCommits(await collect(store().get(ids.tenantId, ids.streamId)), [c1!])
      expectCommits(await collect(logFor(harness, store(), ids).getFrom(0, ids.tenantId)), [c1!])
      // and the next commit continues it as if nothing had been tried
      const c2 = right(await store().commit(next(c1, ids)))
      expect(c2.commitSequence).toBe(2)
      expectCommits(await collect(logFor(harness, store(), ids).getFrom(c1!.checkpointToken, ids.tenantId)), [c2])
    })

    it('SEMANTICS 14: a snapshot payload or header that is not JSON is an InvalidAttempt naming its path, and nothing is stored', async () => {
      const ids = freshIds()
      await writeStream(store(), ids, 3)
      const kept = snapshot(ids, 1, { balance: 1 })
      right(await store().addSnapshot(kept))
      for (const [what, value, below] of notJson) {
        for (const [path, put] of snapshotSlots) {
          const s = put(snapshot(ids, 2), value())
          const e = left(await settles(`${what} at ${path}`, () => store().addSnapshot(s)), 'InvalidAttempt')
          expect(e.reason, `${what} at ${path}`).toContain(`${path}${below}`)
        }
        // a payload that is itself not JSON
        left(await settles(`${what} as the payload`, () => store().addSnapshot({ ...snapshot(ids, 2), payload: value() as never })), 'InvalidAttempt')
      }
      // and the newest snapshot is still the one that was kept
      expect(some(right(await store().getSnapshot(ids.tenantId, ids.streamId)))).toEqual(kept)
      expect(await collect(store().streamsToSnapshot(ids.tenantId, 0))).toEqual([{ ...ids, headRevision: 3, snapshotRevision: 1 }])
    })

    it('SEMANTICS 14: undefined properties are dropped and -0 reads back as 0, in bodies, headers and snapshots', async () => {
      const ids = freshIds()
      const withNoise = { keep: 'x', gone: undefined, zero: -0, list: [-0, { gone: undefined, z: -0 }], nested: { gone: undefined } }
      const image = { keep: 'x', zero: 0, list: [0, { z: 0 }], nested: {} }
      const a = attempt({
        ...ids,
        commitSequence: 1,
        events: [{ body: { type: 'Noisy', ...withNoise } as never, headers: { h: withNoise as never, gone: undefined as never } }],
        headers: { h: withNoise as never, gone: undefined as never },
      })
      const c = right(await store().commit(a))
      const [read] = await collect(store().get(ids.tenantId, ids.streamId))
      for (const [what, commit] of [['returned by commit', c], ['read back', read!]] as const) {
        expectSameJson(commit.events[0]?.body, { type: 'Noisy', ...image }, `${what}: body`)
        expectSameJson(commit.events[0]?.headers, { h: image }, `${what}: event headers`)
        expectSameJson(commit.headers, { h: image }, `${what}: headers`)
      }
      right(await store().addSnapshot({ ...snapshot(ids, 1), payload: withNoise as never, headers: { h: withNoise as never, gone: undefined as never } }))
      const s = some(right(await store().getSnapshot(ids.tenantId, ids.streamId)))
      expectSameJson(s.payload, image, 'snapshot payload')
      expectSameJson(s.headers, { h: image }, 'snapshot headers')
    })

    it('SEMANTICS 14: frozen objects and null-prototype objects are plain JSON objects and round-trip', async () => {
      const ids = freshIds()
      const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, b: [true, null] })
      const frozen = Object.freeze({ c: Object.freeze(['x']) })
      const a = attempt({ ...ids, commitSequence: 1, events: [{ body: { type: 'Plain', bare, frozen } as never, headers: { bare } as never }] })
      right(await store().commit(a))
      const [read] = await collect(store().get(ids.tenantId, ids.streamId))
      expectSameJson(read?.events[0]?.body, { type: 'Plain', bare: { a: 1, b: [true, null] }, frozen: { c: ['x'] } })
      expectSameJson(read?.events[0]?.headers, { bare: { a: 1, b: [true, null] } })
    })

    it('SEMANTICS 14: changing an attempt or a snapshot after it was stored changes nothing the store gives back', async () => {
      const ids = freshIds()
      const body = { type: 'Deposited', amount: 10, tags: ['a'] }
      const headers = { who: { name: 'ann' } }
      const a = attempt({ ...ids, commitSequence: 1, events: [{ body, headers: {} }], headers })
      right(await store().commit(a))
      const payload = { balance: 10, owners: ['ann'] }
      right(await store().addSnapshot(snapshot(ids, 1, payload)))
      // when the caller changes what it passed
      body.amount = 99
      body.tags.push('b')
      headers.who.name = 'bob'
      payload.owners.push('bob')
      // then the store still gives back what was stored
      const [read] = await collect(store().get(ids.tenantId, ids.streamId))
      expect(read?.events[0]?.body).toEqual({ type: 'Deposited', amount: 10, tags: ['a'] })
      expect(read?.headers).toEqual({ who: { name: 'ann' } })
      expect(some(right(await store().getSnapshot(ids.tenantId, ids.streamId))).payload).toEqual({ balance: 10, owners: ['ann'] })
    })
  })
}
