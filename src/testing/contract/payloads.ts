import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { defineEvent, topicMap, type EventMessage, type Headers, type Json } from '../../eventstore/index.js'
import type { StoreHarness } from './harness.js'
import { attempt, collect, logFor, expectCommits, freshIds, next, right, sharedStore } from './fixtures.js'

/** A JSON value with every kind of thing a store might mangle. */
export const awkwardJson: Json = {
  'dotted.key': 'value',
  'a.b.c': { 'd.e': [1, 2, { 'f.g': null }] },
  nested: { deeper: { deepest: [[[]], {}, [{}]] } },
  numbers: [0, 1, -1, 42.5, -0.001, 1e21, 3e-7, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER],
  booleans: [true, false],
  nothing: null,
  empty: '',
  unicode: 'Zoë, Ångström, 日本語, العربية, 🏦💸, e\u0301, \u200b',
  escapes: 'quote " backslash \\ slash / newline \n tab \t control \u0001',
  sql: "'; DROP TABLE commits; --",
  'key with spaces': 1,
  '': 'an empty key',
  '$dollar': 'mongo-style',
  '🔑': 'emoji key',
}

/** SEMANTICS 14: headers, bodies and stamps round-trip exactly. */
export const payloadsContract = (harness: StoreHarness): void => {
  describe(`${harness.name}: payloads (SEMANTICS 14)`, () => {
    const store = sharedStore(harness)

    it('SEMANTICS 14: headers with dotted keys and nested JSON, arrays, unicode, numbers, booleans and null round-trip', async () => {
      const ids = freshIds()
      const headers: Headers = { 'aett.correlation.id': 'c-1', 'UndispatchedMessage.0': { type: 'Pay', amount: 3 }, awkward: awkwardJson }
      const events: EventMessage[] = [
        { body: { type: 'Deposited', amount: 10 }, headers: { 'event.meta': awkwardJson } },
        { body: { type: 'Deposited', amount: 5 }, headers: {} },
      ]
      const a = attempt({ ...ids, commitSequence: 1, headers, events })
      const c = right(await store().commit(a))
      const [read] = await collect(store().get(ids.tenantId, ids.streamId))
      expect(read?.headers).toEqual(headers)
      expect(read?.events).toEqual(events)
      expectCommits([read!], [c])
    })

    it('SEMANTICS 14: bodies with nested objects, arrays, unicode, numbers, booleans and null round-trip', async () => {
      const ids = freshIds()
      const body = { type: 'Weird.Topic/v2 ünïcode', payload: awkwardJson, list: [awkwardJson, null, 'x'] }
      const a = attempt({ ...ids, commitSequence: 1, events: [{ body, headers: {} }] })
      right(await store().commit(a))
      const [read] = await collect(store().get(ids.tenantId, ids.streamId))
      expect(read?.events[0]?.body).toEqual(body)
      // and the same through a global read
      const [global] = await collect(logFor(harness, store(), ids).getFrom(read!.checkpointToken - 1, ids.tenantId))
      expect(global?.events[0]?.body).toEqual(body)
    })

    it('SEMANTICS 14: 100,000-character payloads in bodies and headers round-trip', async () => {
      const ids = freshIds()
      const big = 'ä€𝄞x'.repeat(25_000) // 100,000 code points of 1 to 4 UTF-8 bytes each
      const ascii = 'a'.repeat(150_000)
      const events: EventMessage[] = [
        { body: { type: 'Big', text: big }, headers: { note: ascii } },
        { body: { type: 'Big', list: Array.from({ length: 2_000 }, (_, i) => `item-${i}-${'z'.repeat(40)}`) }, headers: {} },
      ]
      const a = attempt({ ...ids, commitSequence: 1, events, headers: { 'big.header': big } })
      right(await store().commit(a))
      const [read] = await collect(store().get(ids.tenantId, ids.streamId))
      expect(read?.events).toEqual(events)
      expect(read?.headers['big.header']).toBe(big)
    })

    it('SEMANTICS 14: commit stamps round-trip to the millisecond', async () => {
      const ids = freshIds()
      const stamps = [
        new Date(Date.UTC(2026, 5, 30, 23, 59, 59, 999)),
        new Date(Date.UTC(2026, 6, 1, 0, 0, 0, 1)),
        new Date(Date.UTC(2000, 1, 29, 12, 0, 0, 0)),
        new Date(Date.UTC(2099, 11, 31, 23, 59, 59, 500)),
      ]
      let head
      for (const commitStamp of stamps) head = right(await store().commit(next(head, ids, { commitStamp })))
      const read = await collect(store().get(ids.tenantId, ids.streamId))
      expect(read.map((c) => c.commitStamp.toISOString())).toEqual(stamps.map((d) => d.toISOString()))
      for (const c of read) expect(c.commitStamp).toBeInstanceOf(Date)
    })

    it('SEMANTICS 14: dates in bodies round-trip through their codec', async () => {
      // given an event with a date field, encoded by its topic map
      const Opened = defineEvent('AccountOpened', { openedOn: t.string, firstPayday: t.union([t.null, t.string]) })
      const Scheduled = defineEvent('PaymentScheduled', { amount: t.number })
      const topics = topicMap(Opened, Scheduled)
      const timestamp = new Date(Date.UTC(2026, 2, 3, 4, 5, 6, 789))
      const event = Scheduled.create({ id: 'acc-1', version: 1, timestamp, amount: 12.5, correlationId: 'corr-1' })
      const ids = freshIds()
      right(await store().commit(attempt({ ...ids, commitSequence: 1, events: [{ body: topics.encode(event), headers: {} }] })))
      // when it is read back and decoded
      const [read] = await collect(store().get(ids.tenantId, ids.streamId))
      const decoded = topics.decode(read?.events[0]?.body)
      // then it is the same event, with a real Date
      expect(decoded).toEqual(E.right(event))
      if (E.isRight(decoded)) expect(decoded.right.timestamp.getTime()).toBe(timestamp.getTime())
    })

    it('SEMANTICS 14: the events of a commit keep their order and their own headers', async () => {
      const ids = freshIds()
      const events: EventMessage[] = Array.from({ length: 50 }, (_, i) => ({
        body: { type: i % 2 === 0 ? 'Deposited' : 'Withdrawn', n: i },
        headers: { 'event.n': i },
      }))
      right(await store().commit(attempt({ ...ids, commitSequence: 1, events })))
      const [read] = await collect(store().get(ids.tenantId, ids.streamId))
      expect(read?.streamRevision).toBe(50)
      expect(read?.events).toEqual(events)
    })
  })
}
