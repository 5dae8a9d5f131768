import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import type { Decider } from '../../src/decider/index.js'
import { DateFromISOString, defineEvent, topicMap, type DomainEvent, type EventOf, type FieldsOf } from '../../src/eventstore/index.js'

// A library whose `BookAdded` event lived through three shapes, written by three generations of the application:
// 1. `BookCreated { title }` (another topic name, and no schema header: written before versioning existed);
// 2. `BookAdded { title, author }`, renamed, at schema version 2;
// 3. `BookAdded { title, authors, addedOn }`, schema version 3.
// `ShelfOpened` never changed: it is version 1 everywhere.

export const at = new Date('2026-03-01T09:00:00.000Z')

const v1 = { title: t.string }
const v2 = { title: t.string, author: t.string }
const v3 = { title: t.string, authors: t.array(t.string), addedOn: DateFromISOString }

/** The steps, named so that tests can apply them by hand. */
export const v1ToV2 = (e: DomainEvent<'BookAdded', FieldsOf<typeof v1>>): FieldsOf<typeof v2> => ({ title: e.title, author: 'unknown' })
export const v2ToV3 = (e: DomainEvent<'BookAdded', FieldsOf<typeof v2>>): FieldsOf<typeof v3> => ({
  title: e.title,
  authors: e.author === 'unknown' ? [] : e.author.split(' & '),
  addedOn: e.timestamp,
})

export const ShelfOpened = defineEvent('ShelfOpened', { shelf: t.string })
export type ShelfOpened = EventOf<typeof ShelfOpened>

/** Generation 1: the old definition, under the old topic name. */
export const BookCreatedV1 = defineEvent('BookCreated', v1)
export type BookCreatedV1 = EventOf<typeof BookCreatedV1>
export const gen1 = topicMap(BookCreatedV1, ShelfOpened)

/** Generation 2: renamed, with an author. */
export const BookAddedV2 = defineEvent('BookAdded', v1).nextVersion(v2, v1ToV2).renamedFrom('BookCreated')
export type BookAddedV2 = EventOf<typeof BookAddedV2>
export const gen2 = topicMap(BookAddedV2, ShelfOpened)

/** Generation 3, the current one. */
export const BookAdded = BookAddedV2.nextVersion(v3, v2ToV3)
export type BookAdded = EventOf<typeof BookAdded>
export const gen3 = topicMap(BookAdded, ShelfOpened)
export type LibraryEvent = BookAdded | ShelfOpened

/** What an event of version 1 reads as today: both steps applied, the meta fields kept. */
export const upToDate = (e: BookCreatedV1): BookAdded => {
  const meta = { type: 'BookAdded' as const, id: e.id, version: e.version, timestamp: e.timestamp, ...(e.correlationId === undefined ? {} : { correlationId: e.correlationId }) }
  const second = { ...meta, ...v1ToV2({ ...e, type: 'BookAdded' }) }
  return { ...meta, ...v2ToV3(second) }
}

export interface Library {
  readonly shelves: readonly string[]
  readonly books: readonly BookAdded[]
}

/** A decider of the current generation: it only ever sees events of the current shape. */
export const library: Decider<{ readonly add: string; readonly authors: readonly string[] }, Library, LibraryEvent, never> = {
  initialState: { shelves: [], books: [] },
  evolve: (s, e) => (e.type === 'ShelfOpened' ? { ...s, shelves: [...s.shelves, e.shelf] } : { ...s, books: [...s.books, e] }),
  decide: (c) => E.right([BookAdded.create({ timestamp: at, title: c.add, authors: [...c.authors], addedOn: at })]),
}
