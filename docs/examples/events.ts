import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { DateFromISOString, defineEvent, topicMap, type EventOf } from 'aett/eventstore'

// ----- define the events of a bank account: a topic and its own fields -----

export const AccountOpened = defineEvent('AccountOpened', { owner: t.string, openedOn: DateFromISOString })
export type AccountOpened = EventOf<typeof AccountOpened>

export const Deposited = defineEvent('Deposited', { amount: t.number })
export type Deposited = EventOf<typeof Deposited>

export const Withdrawn = defineEvent('Withdrawn', { amount: t.number })
export type Withdrawn = EventOf<typeof Withdrawn>

// ----- register them by topic: one map decodes and encodes the whole union -----

export const accountTopics = topicMap(AccountOpened, Deposited, Withdrawn)
export type AccountEvent = AccountOpened | Deposited | Withdrawn

export async function main() {
  const timestamp = new Date('2026-03-01T09:00:00.000Z')
  const opened = AccountOpened.create({
    id: 'acc-1',
    version: 1,
    timestamp,
    owner: 'Ada',
    openedOn: new Date('2026-03-01T00:00:00.000Z'),
  })

  // Encoding gives plain JSON: dates become ISO strings, ready for any store.
  const stored = JSON.parse(JSON.stringify(accountTopics.encode(opened)))

  // Decoding gives the typed event back, with real Dates.
  const decoded = accountTopics.decode(stored)
  const roundTrips = E.isRight(decoded) && decoded.right.type === 'AccountOpened' && decoded.right.openedOn.getTime() === opened.openedOn.getTime()

  // A body that does not match its codec is a DecodeError naming the failing path.
  const bad = accountTopics.decode({ type: 'Deposited', id: 'acc-1', version: 2, timestamp: timestamp.toISOString(), amount: 'ten' })
  const decodeError = E.isLeft(bad) && bad.left._tag === 'DecodeError' ? bad.left.message : 'no error'

  // A topic nobody registered is an UnknownTopic, never an exception.
  const unknown = accountTopics.decode({ type: 'AccountFrozen', id: 'acc-1' })
  const unknownTopic = E.isLeft(unknown) ? unknown.left._tag : 'decoded'

  // Fields a newer writer added are kept on decode, and written back on encode.
  const newer = { type: 'Deposited', id: 'acc-1', version: 3, timestamp: timestamp.toISOString(), amount: 5, channel: 'atm' }
  const kept = E.map(accountTopics.encode)(accountTopics.decode(newer))

  // A day that does not exist is a decode error, not the next day that Date would make of it.
  const feb30 = accountTopics.decode({ ...stored, openedOn: '2026-02-30' })
  const impossibleDay = E.isLeft(feb30) && feb30.left._tag === 'DecodeError' ? feb30.left.message : 'decoded'

  // What `decide` returns needs no id or version (a NewEvent<Deposited>): the repository stamps them on append.
  const decided = Deposited.create({ timestamp, amount: 10 })

  return { stored, roundTrips, decodeError, unknownTopic, kept, impossibleDay, decided }
}
