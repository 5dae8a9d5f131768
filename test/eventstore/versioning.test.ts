import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import * as t from 'io-ts'
import { describe, expect, expectTypeOf, it } from 'vitest'
import type { Decider } from '../../src/decider/index.js'
import { deciderRepository, jsonState, withStateVersion } from '../../src/domain/index.js'
import { defineEvent, SCHEMA_HEADER, STATE_HEADER, topicMap, type EventMessage, type EventOf } from '../../src/eventstore/index.js'
import { memoryStore } from '../../src/memory/index.js'
import {
  at,
  BookAdded,
  BookAddedV2,
  BookCreatedV1,
  gen1,
  gen2,
  gen3,
  ShelfOpened,
  upToDate,
  type BookCreatedV1 as V1,
  type LibraryEvent,
} from './versioning.fixtures.js'

const ts = at.toISOString()
/** A message as a store hands it back: JSON, with the headers it was written with. */
const stored = (m: EventMessage): EventMessage => JSON.parse(JSON.stringify(m)) as EventMessage
const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) expect.fail(`expected a Right, got ${JSON.stringify(e.left)}`)
  return e.right
}
const leftOf = <A>(e: E.Either<{ readonly _tag: string; readonly message?: string }, A>) => {
  if (E.isRight(e)) return expect.fail(`expected a Left, got ${JSON.stringify(e.right)}`)
  return e.left
}

describe('versioned events: definitions', () => {
  it('number their versions, and keep the codec, create and is of the current one', () => {
    // given a definition of three versions
    // then its version is 3, and its codec is the current shape's, named after the topic
    expect(BookCreatedV1.version).toBe(1)
    expect(BookAddedV2.version).toBe(2)
    expect(BookAdded.version).toBe(3)
    expect(BookAdded.codec.name).toBe('BookAdded')
    expect(BookAdded.history.codecs.map((c) => c.name)).toEqual(['BookAdded@v1', 'BookAdded@v2', 'BookAdded'])
    const e = BookAdded.create({ id: 'b-1', version: 1, timestamp: at, title: 'Dune', authors: ['Herbert'], addedOn: at })
    expect(BookAdded.is(e)).toBe(true)
    expect(BookAdded.is({ ...e, authors: 'Herbert' })).toBe(false)
    // and the earlier definitions are left as they were
    expect(BookAddedV2.history.codecs.map((c) => c.name)).toEqual(['BookAdded@v1', 'BookAdded'])
  })

  it('write the current version, and record it in the event headers (version 1 writes no header)', () => {
    // when events are encoded by each generation
    const e3 = BookAdded.create({ id: 'b-1', version: 1, timestamp: at, title: 'Dune', authors: ['Herbert'], addedOn: at })
    const e2 = BookAddedV2.create({ id: 'b-1', version: 1, timestamp: at, title: 'Dune', author: 'Herbert' })
    const shelf = ShelfOpened.create({ id: 's-1', version: 1, timestamp: at, shelf: 'sf' })
    // then the headers say which version the body is
    expect(gen3.encodeMessage(e3)).toEqual({ body: { ...e3, timestamp: ts, addedOn: ts }, headers: { [SCHEMA_HEADER]: 3 } })
    expect(gen2.encodeMessage(e2).headers).toEqual({ [SCHEMA_HEADER]: 2 })
    expect(gen3.encodeMessage(shelf).headers).toEqual({})
    expect(gen3.encode(e3)).toEqual(gen3.encodeMessage(e3).body)
  })

  it('decode any stored version into the current shape, keeping id and meta fields', () => {
    // given one event of each version, as stored
    const v1 = stored(gen1.encodeMessage(BookCreatedV1.create({ id: 'b-1', version: 1, timestamp: at, title: 'Dune', correlationId: 'c-1' })))
    const v2 = stored(gen2.encodeMessage(BookAddedV2.create({ id: 'b-2', version: 4, timestamp: at, title: 'Emma', author: 'Austen' })))
    const v3 = stored(
      gen3.encodeMessage(BookAdded.create({ id: 'b-3', version: 9, timestamp: at, title: 'Ubik', authors: ['Dick'], addedOn: new Date(0) })),
    )
    // when the current topic map decodes them
    // then each is the current shape, with its own id, version, timestamp and correlation id
    expect(right(gen3.decodeMessage(v1))).toEqual({
      type: 'BookAdded',
      id: 'b-1',
      version: 1,
      timestamp: at,
      correlationId: 'c-1',
      title: 'Dune',
      authors: [],
      addedOn: at,
    })
    expect(right(gen3.decodeMessage(v2))).toEqual({ type: 'BookAdded', id: 'b-2', version: 4, timestamp: at, title: 'Emma', authors: ['Austen'], addedOn: at })
    expect(right(gen3.decodeMessage(v3))).toEqual({ type: 'BookAdded', id: 'b-3', version: 9, timestamp: at, title: 'Ubik', authors: ['Dick'], addedOn: new Date(0) })
    // and `decode(body)` without headers reads the body as version 1
    expect(right(gen3.decode(v1.body))).toEqual(right(gen3.decodeMessage(v1)))
  })

  it('decode former topic names as the topic they were renamed to', () => {
    // given a map of the renamed topic
    // then the old name is known, and read as the new one
    expect(gen3.has('BookCreated')).toBe(true)
    expect(gen3.topics).toEqual(['BookAdded', 'ShelfOpened'])
    expect(gen3.currentTopic('BookCreated')).toBe('BookAdded')
    expect(gen3.currentTopic('ShelfOpened')).toBe('ShelfOpened')
    expect(gen3.currentTopic('Nope')).toBeUndefined()
    const renamed = right(gen3.decode({ type: 'BookCreated', id: 'b', version: 1, timestamp: ts, title: 'X' }))
    expect(renamed.type).toBe('BookAdded')
    // and a rename alone (no new version) reads the old bodies as they are
    const Moved = defineEvent('Moved', { to: t.string }).renamedFrom('Relocated', 'Transferred')
    const moves = topicMap(Moved)
    expect(right(moves.decode({ type: 'Transferred', id: 'a', version: 2, timestamp: ts, to: 'B' }))).toEqual({
      type: 'Moved',
      id: 'a',
      version: 2,
      timestamp: at,
      to: 'B',
    })
  })

  it('report what does not decode with the version it failed at, never a wrong shape', () => {
    // given bodies that do not match the version their headers name
    const noTitle = gen3.decode({ type: 'BookAdded', id: 'b', version: 1, timestamp: ts }, {})
    const noAuthor = gen3.decode({ type: 'BookAdded', id: 'b', version: 1, timestamp: ts, title: 'X' }, { [SCHEMA_HEADER]: 2 })
    const newer = gen3.decode({ type: 'BookAdded', id: 'b', version: 1, timestamp: ts, title: 'X' }, { [SCHEMA_HEADER]: 4 })
    const corrupt = gen3.decode({ type: 'BookAdded', id: 'b', version: 1, timestamp: ts, title: 'X' }, { [SCHEMA_HEADER]: 'two' })
    const unversioned = gen3.decode({ type: 'ShelfOpened', id: 's', version: 1, timestamp: ts, shelf: 'x' }, { [SCHEMA_HEADER]: 2 })
    // then each is a DecodeError naming the path
    expect(leftOf(noTitle).message).toBe('BookAdded@v1/title: expected string')
    expect(leftOf(noAuthor).message).toBe('BookAdded@v2/author: expected string')
    expect(leftOf(newer).message).toBe('BookAdded/aett.schema: expected a schema version from 1 to 3')
    expect(leftOf(corrupt).message).toBe('BookAdded/aett.schema: expected a schema version from 1 to 3')
    expect(leftOf(unversioned).message).toBe('ShelfOpened/aett.schema: expected schema version 1')
  })

  it('refuse a step that throws or returns a wrong shape (through a cast) as a DecodeError, never a throw', () => {
    // given steps that lie to the compiler
    const Throws = defineEvent('T', { a: t.string }).nextVersion({ a: t.number }, () => {
      throw new Error('boom')
    })
    const Lies = defineEvent('L', { a: t.string }).nextVersion({ a: t.number }, (e) => ({ a: e.a as unknown as number }))
    const body = (type: string) => ({ type, id: 'x', version: 1, timestamp: ts, a: 'one' })
    // then decoding an old event is a DecodeError naming the step
    expect(leftOf(topicMap(Throws).decode(body('T'))).message).toBe('T@v1->v2: expected a step that does not throw')
    expect(leftOf(topicMap(Lies).decode(body('L'))).message).toBe('L@v1->v2: expected L')
  })

  it('write an earlier version when told to (blue/green), through a typed downcast, and read both', () => {
    // given the current definition, writing version 2 for readers that know no more
    const Blue = BookAdded.writeVersion(2, (e) => ({ title: e.title, author: e.authors.length === 0 ? 'unknown' : e.authors.join(' & ') }))
    const blue = topicMap(Blue, ShelfOpened)
    const e = BookAdded.create({ id: 'b-1', version: 3, timestamp: at, title: 'Good Omens', authors: ['Pratchett', 'Gaiman'], addedOn: at })
    // when it writes an event
    const m = stored(blue.encodeMessage(e))
    // then the body is version 2, and says so
    expect(m).toEqual({
      body: { type: 'BookAdded', id: 'b-1', version: 3, timestamp: ts, title: 'Good Omens', author: 'Pratchett & Gaiman' },
      headers: { [SCHEMA_HEADER]: 2 },
    })
    // and old readers (generation 2) and new ones read it
    expect(right(gen2.decodeMessage(m))).toEqual({ type: 'BookAdded', id: 'b-1', version: 3, timestamp: at, title: 'Good Omens', author: 'Pratchett & Gaiman' })
    expect(right(blue.decodeMessage(m))).toEqual({ ...e, addedOn: at })
    // and writing version 1 writes no header at all
    const oldest = topicMap(BookAdded.writeVersion(1, (x) => ({ title: x.title })))
    expect(oldest.encodeMessage(e).headers).toEqual({})
    // and a version the event does not have is refused when it gets past the types
    expect(() => BookAdded.writeVersion(4 as never, (x) => x as never)).toThrow(RangeError)
    // and a version declared after a writeVersion is written again (the newest is the default)
    expect(Blue.nextVersion({ title: t.string }, (x) => ({ title: x.title })).history.writeVersion).toBe(4)
  })

  it('property: for arbitrary v1 values, decoding their stored form equals applying the steps', () => {
    const v1 = fc.record(
      {
        id: fc.string(),
        version: fc.integer({ min: 1, max: 1_000_000 }),
        timestamp: fc.date({ min: new Date(0), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }),
        correlationId: fc.string(),
        title: fc.string(),
      },
      { requiredKeys: ['id', 'version', 'timestamp', 'title'] },
    )
    fc.assert(
      fc.property(v1, (fields) => {
        // given a v1 event as the old code stored it
        const old: V1 = BookCreatedV1.create(fields)
        const message = stored(gen1.encodeMessage(old))
        // then the current map reads it as the steps make it
        expect(right(gen3.decodeMessage(message))).toEqual(upToDate(old))
      }),
      { numRuns: 300 },
    )
  })

  it('type the event as its current version, and refuse a missing or mistyped step at compile time', () => {
    expectTypeOf<EventOf<typeof BookAdded>>().toEqualTypeOf<BookAdded>()
    expectTypeOf<EventOf<typeof BookAdded>['authors']>().toEqualTypeOf<string[]>()
    expectTypeOf(BookAdded.version).toEqualTypeOf<3>()
    const A = defineEvent('A', { n: t.number })
    // (compiled, never run: the calls below are what the compiler must refuse)
    void (() => {
      // a missing step does not compile
      // @ts-expect-error the step from version 1 is required
      A.nextVersion({ n: t.number, s: t.string })
      // a step that returns the wrong shape does not compile: `s` is missing
      // @ts-expect-error
      A.nextVersion({ n: t.number, s: t.string }, (e) => ({ n: e.n }))
      // nor one that returns a field of the wrong type
      // @ts-expect-error
      A.nextVersion({ n: t.number, s: t.string }, (e) => ({ n: e.n, s: e.n }))
      // nor one that reads what the previous version does not have
      // @ts-expect-error
      A.nextVersion({ n: t.number, s: t.string }, (e) => ({ n: e.n, s: e.s }))
      // nor one written for another version
      // @ts-expect-error
      A.nextVersion({ n: t.number }, (e: { readonly m: string }) => ({ n: Number(e.m) }))
      // a write version the event does not have does not compile, nor a downcast to the wrong shape
      // @ts-expect-error
      BookAdded.writeVersion(4, (e) => ({ title: e.title }))
      // @ts-expect-error
      BookAdded.writeVersion(2, (e) => ({ title: e.title }))
    })
    // while the right ones do
    const B = A.nextVersion({ n: t.number, s: t.string }, (e) => ({ n: e.n, s: String(e.n) }))
    expectTypeOf<EventOf<typeof B>['s']>().toEqualTypeOf<string>()
    BookAdded.writeVersion(1, (e) => ({ title: e.title }))
  })
})

describe('versioned snapshots', () => {
  interface Shelf {
    readonly titles: readonly string[]
  }
  const shelf: Decider<{ readonly add: string }, Shelf, LibraryEvent, never> = {
    initialState: { titles: [] },
    evolve: (s, e) => (e.type === 'BookAdded' ? { titles: [...s.titles, e.title] } : s),
    decide: (c) => E.right([BookAdded.create({ timestamp: at, title: c.add, authors: [], addedOn: at })]),
  }
  /** Version 1 of the state's shape: the state as it is (`{ titles: [...] }`). */
  const v1State = jsonState<Shelf>()
  /** Version 2 keeps the titles as one string; it would misread a snapshot of version 1 if it were given one. */
  const counting = () => {
    const calls = { decoded: 0 }
    const codec = withStateVersion<Shelf>(2, {
      encode: (s) => ({ titles: s.titles.join('|') }),
      decode: (p) => {
        calls.decoded++
        return E.right({ titles: String((p as { titles: unknown }).titles).split('|') })
      },
    })
    return { calls, codec }
  }

  it('carry the version of the state shape, and a snapshot of another shape is ignored and the stream replayed', async () => {
    const store = memoryStore()
    // given a stream with a snapshot taken by a codec of version 1 (no header, as before versions existed)
    const old = deciderRepository({ decider: shelf, topics: gen3, store, stateCodec: v1State })
    right(await old.handle('lib-1', { add: 'Dune' })())
    right(await old.handle('lib-1', { add: 'Emma' })())
    const s1 = right(await old.snapshot('lib-1')())
    expect(s1.headers).toEqual({})
    // when a repository with a state codec of version 2 loads it
    const v2 = counting()
    const current = deciderRepository({ decider: shelf, topics: gen3, store, stateCodec: v2.codec })
    const loaded = right(await current.load('lib-1')())
    // then the snapshot was not decoded: the state was replayed from the start
    expect(v2.calls.decoded).toBe(0)
    expect(loaded).toMatchObject({ state: { titles: ['Dune', 'Emma'] }, version: 2 })
    // and a snapshot it takes records its version, and is used by it
    const s2 = right(await current.snapshot('lib-1', undefined, { by: 'test' })())
    expect(s2.headers).toEqual({ by: 'test', [STATE_HEADER]: 2 })
    expect(s2.payload).toEqual({ titles: 'Dune|Emma' })
    right(await current.handle('lib-1', { add: 'Ubik' })())
    expect(right(await current.load('lib-1')()).state.titles).toEqual(['Dune', 'Emma', 'Ubik'])
    expect(v2.calls.decoded).toBeGreaterThan(0)
    // and the old repository ignores the new snapshot in turn (it would read `titles` as a string)
    let oldDecodes = 0
    const oldAgain = deciderRepository({
      decider: shelf,
      topics: gen3,
      store,
      stateCodec: { ...v1State, decode: (p) => (oldDecodes++, v1State.decode(p)) },
    })
    expect(right(await oldAgain.load('lib-1')()).state.titles).toEqual(['Dune', 'Emma', 'Ubik'])
    expect(oldDecodes).toBe(0)
  })

  it('use a snapshot without a version header as version 1', async () => {
    const store = memoryStore()
    const repo = deciderRepository({ decider: shelf, topics: gen3, store, stateCodec: v1State })
    right(await repo.handle('lib-2', { add: 'Ubik' })())
    right(await repo.snapshot('lib-2')())
    let decodes = 0
    const explicit1 = deciderRepository({
      decider: shelf,
      topics: gen3,
      store,
      stateCodec: withStateVersion(1, { ...v1State, decode: (p) => (decodes++, v1State.decode(p)) }),
    })
    expect(right(await explicit1.load('lib-2')()).state.titles).toEqual(['Ubik'])
    expect(decodes).toBe(1)
  })
})
