import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import type { Decider } from '../../src/decider/index.js'
import { deciderRepository } from '../../src/domain/index.js'
import { EventStream, toArray, topicMap, type Commit, type EventMessage, type Persistence, type TopicMap } from '../../src/eventstore/index.js'
import { memoryStore } from '../../src/memory/index.js'
import type { StoreHarness } from '../../src/testing/contract/index.js'
import { cleanUpAfterAll, pgAvailable, pgStores } from '../postgres/support.js'
import { memoryHarness as sqliteMemory } from '../sqlite/support.js'
import {
  at,
  BookAdded,
  BookAddedV2,
  BookCreatedV1,
  gen1,
  gen2,
  gen3,
  library,
  ShelfOpened,
  type BookAdded as Book,
  type BookAddedV2 as V2,
  type BookCreatedV1 as V1,
  type LibraryEvent,
} from './versioning.fixtures.js'

// Issue 16, tests: v1 events written by an old definition are read as v3 through the chain on every store, keeping
// ids and metadata; mixed commits convert only what needs converting.

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) expect.fail(`expected a Right, got ${JSON.stringify(e.left)}`)
  return e.right
}
const tenantId = 'library'
const streamId = 'lib-1'
const later = new Date('2026-03-02T10:00:00.000Z')
/** Commits are stamped by the repositories' clocks: now. */
const future = new Date('2100-01-01T00:00:00.000Z')

/** A decider of an older generation, writing the events of its own definition. */
const writer = <Ev extends { readonly type: string }>(create: (title: string) => Ev): Decider<{ readonly add: string }, null, Ev, never> => ({
  initialState: null,
  evolve: (s) => s,
  decide: (c) => E.right([create(c.add)]),
})

const decodeAll = (topics: TopicMap<LibraryEvent>, messages: readonly EventMessage[]): LibraryEvent[] => messages.map((m) => right(topics.decodeMessage(m)))
const eventsOf = (commits: readonly Commit[]): EventMessage[] => commits.flatMap((c) => c.events)

const memory: StoreHarness = { name: 'memory', create: async () => memoryStore(), dispose: (s) => s.close() }
const pg = await pgAvailable()
const pgs = pgStores('aett_versioning')

const versioningOn = (harness: StoreHarness) =>
  describe(`${harness.name}: versioned events`, () => {
    let store: Persistence
    const open = async () => (store = await harness.create())
    afterAll(async () => {
      if (store !== undefined) await harness.dispose(store)
    })

    it('reads v1 events written by an old definition as v3 on every read path, keeping ids and metadata', async () => {
      await open()
      // given generation 1 wrote two books through its repository (old topic name, no schema header) ...
      const oldRepo = deciderRepository({
        decider: writer((title): V1 => BookCreatedV1.create({ id: '', version: 0, timestamp: at, title, correlationId: `c-${title}` })),
        topics: topicMap(BookCreatedV1),
        store,
        tenantId,
      })
      right(await oldRepo.handle(streamId, { add: 'Dune' }, { headers: { by: 'gen1' } })())
      right(await oldRepo.handle(streamId, { add: 'Emma' })())
      // ... generation 2 one with an author ...
      const v2Repo = deciderRepository({
        decider: writer((title): V2 => BookAddedV2.create({ id: '', version: 0, timestamp: at, title, author: 'Austen' })),
        topics: topicMap(BookAddedV2),
        store,
        tenantId,
      })
      right(await v2Repo.handle(streamId, { add: 'Persuasion' })())
      // ... and one commit holds every generation's events, written through an event stream
      const e3 = BookAdded.create({ id: streamId, version: 7, timestamp: later, title: 'Ubik', authors: ['Dick'], addedOn: later })
      const shelf = ShelfOpened.create({ id: streamId, version: 8, timestamp: later, shelf: 'sf', correlationId: 'c-shelf' })
      const opened = right(await EventStream.open(store, tenantId, streamId))
      const mixed = [
        gen1.encodeMessage(BookCreatedV1.create({ id: streamId, version: 4, timestamp: later, title: 'Solaris' })),
        gen2.encodeMessage(BookAddedV2.create({ id: streamId, version: 5, timestamp: later, title: 'Good Omens', author: 'Pratchett & Gaiman' })),
        gen3.encodeMessage(BookAdded.create({ id: streamId, version: 6, timestamp: later, title: 'Emma', authors: [], addedOn: later })),
        gen3.encodeMessage(e3),
        gen3.encodeMessage(shelf),
      ]
      for (const m of mixed) opened.add(m.body, m.headers)
      right(await opened.setHeader('by', 'migration').commitChanges())

      // when the current generation reads the stream through its repository
      const current = deciderRepository({ decider: library, topics: gen3, store, tenantId })
      const loaded = right(await current.load(streamId)())
      // then every book is of the current shape, with its own id, revision, timestamp and correlation id
      const expected: Book[] = [
        { type: 'BookAdded', id: streamId, version: 1, timestamp: at, correlationId: 'c-Dune', title: 'Dune', authors: [], addedOn: at },
        { type: 'BookAdded', id: streamId, version: 2, timestamp: at, correlationId: 'c-Emma', title: 'Emma', authors: [], addedOn: at },
        { type: 'BookAdded', id: streamId, version: 3, timestamp: at, title: 'Persuasion', authors: ['Austen'], addedOn: at },
        { type: 'BookAdded', id: streamId, version: 4, timestamp: later, title: 'Solaris', authors: [], addedOn: later },
        { type: 'BookAdded', id: streamId, version: 5, timestamp: later, title: 'Good Omens', authors: ['Pratchett', 'Gaiman'], addedOn: later },
        { type: 'BookAdded', id: streamId, version: 6, timestamp: later, title: 'Emma', authors: [], addedOn: later },
        e3,
      ]
      expect(loaded.state).toEqual({ shelves: ['sf'], books: expected })
      expect(loaded.version).toBe(8)

      // and every other read path hands out the same stored messages, which the topic map reads the same way
      const all = [...expected, shelf]
      const stream = right(await EventStream.open(store, tenantId, streamId))
      expect(decodeAll(gen3, stream.committedEvents)).toEqual(all)
      expect(decodeAll(gen3, eventsOf(right(await toArray(store.get(tenantId, streamId)))))).toEqual(all)
      expect(decodeAll(gen3, eventsOf(right(await toArray(store.getTo(tenantId, streamId, future)))))).toEqual(all)
      expect(decodeAll(gen3, eventsOf(right(await toArray(store.getAllTo(tenantId, future)))))).toEqual(all)
      const global = right(await toArray(store.getFrom(0)))
      expect(decodeAll(gen3, eventsOf(global.filter((c) => c.tenantId === tenantId)))).toEqual(all)
      expect(decodeAll(gen3, eventsOf(right(await toArray(store.getFrom(0, tenantId)))))).toEqual(all)
      const last = global[global.length - 1]?.checkpointToken ?? 0
      expect(decodeAll(gen3, eventsOf(right(await toArray(store.getFromTo(0, last, tenantId)))))).toEqual(all)

      // and the commits themselves are as written: ids, headers and the stored versions
      const commits = right(await toArray(store.get(tenantId, streamId)))
      expect(commits.map((c) => c.headers['by'])).toEqual(['gen1', undefined, undefined, 'migration'])
      expect(commits.at(-1)?.events.map((m) => m.headers)).toEqual([{}, { 'aett.schema': 2 }, { 'aett.schema': 3 }, { 'aett.schema': 3 }, {}])
      expect(commits.at(-1)?.events.map((m) => m.body.type)).toEqual(['BookCreated', 'BookAdded', 'BookAdded', 'BookAdded', 'ShelfOpened'])
    })

    it('converts only what needs converting in a mixed commit: current events read as the same values', async () => {
      // given the mixed commit of the test above, as stored
      const [mixed] = right(await toArray(store.get(tenantId, streamId, { minRevision: 4 })))
      const events = (mixed as Commit).events
      // when its current-version events are decoded through the chain and by their own codec alone
      const [, , e6, e7, e8] = events as [EventMessage, EventMessage, EventMessage, EventMessage, EventMessage]
      // then both give the same value: nothing was converted
      expect(right(gen3.decodeMessage(e6))).toEqual(right(BookAdded.codec.decode(e6.body)))
      expect(right(gen3.decodeMessage(e7))).toEqual(right(BookAdded.codec.decode(e7.body)))
      expect(right(gen3.decodeMessage(e8))).toEqual(right(ShelfOpened.codec.decode(e8.body)))
      // and the current generation appends current events beside them, recording their version
      const current = deciderRepository({ decider: library, topics: gen3, store, tenantId })
      right(await current.handle(streamId, { add: 'Ubik', authors: ['Dick'] })())
      const [appended] = right(await toArray(store.get(tenantId, streamId, { minRevision: 9 })))
      expect(appended?.events.map((m) => m.headers)).toEqual([{ 'aett.schema': 3 }])
      expect(right(await current.load(streamId)()).state.books).toHaveLength(8)
    })
  })

versioningOn(memory)
versioningOn(sqliteMemory)
describe.skipIf(!pg)('postgres', () => {
  cleanUpAfterAll(pgs)
  versioningOn(pgs.harness('postgres'))
})
