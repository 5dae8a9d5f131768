import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import {
  DateFromISOString,
  defineEvent,
  topicMap,
  type DecodeError,
  type EventOf,
  type UnknownTopic,
} from '../../src/eventstore/index.js'

const Deposited = defineEvent('Deposited', { amount: t.number })
type Deposited = EventOf<typeof Deposited>
const Withdrawn = defineEvent('Withdrawn', { amount: t.number, reason: t.union([t.string, t.null]) })
type Withdrawn = EventOf<typeof Withdrawn>
const Scheduled = defineEvent('PaymentScheduled', { amount: t.number, dueOn: DateFromISOString })

const topics = topicMap(Deposited, Withdrawn, Scheduled)
const timestamp = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678))

const leftOf = <E, A>(e: E.Either<E, A>): E => {
  if (E.isRight(e)) return expect.fail(`expected a failure, got ${JSON.stringify(e.right)}`)
  return e.left
}

describe('defineEvent', () => {
  it('builds an event with its type filled in, and recognises it', () => {
    // given a definition, when creating an event
    const e: Deposited = Deposited.create({ id: 'acc-1', version: 1, timestamp, amount: 10 })
    // then it carries its topic and fields
    expect(e).toEqual({ type: 'Deposited', id: 'acc-1', version: 1, timestamp, amount: 10 })
    expect(Deposited.topic).toBe('Deposited')
    expect(Deposited.is(e)).toBe(true)
    expect(Deposited.is({ ...e, type: 'Withdrawn' })).toBe(false)
    expect(Withdrawn.is(e)).toBe(false)
  })

  it('names its codec after the topic', () => {
    expect(Deposited.codec.name).toBe('Deposited')
  })

  it('keeps an optional correlation id', () => {
    const e = Deposited.create({ id: 'acc-1', version: 2, timestamp, amount: 1, correlationId: 'corr-9' })
    expect(topics.decode(JSON.parse(JSON.stringify(topics.encode(e))))).toEqual(E.right(e))
  })
})

describe('topicMap', () => {
  it('lists its topics and knows them', () => {
    expect(topics.topics).toEqual(['Deposited', 'Withdrawn', 'PaymentScheduled'])
    expect(topics.has('Withdrawn')).toBe(true)
    expect(topics.has('Closed')).toBe(false)
  })

  it('encodes dates as ISO strings and decodes them back to equal Dates, through JSON', () => {
    // given an event with two dates
    const dueOn = new Date(Date.UTC(2026, 11, 31, 23, 59, 59, 999))
    const e = Scheduled.create({ id: 'acc-1', version: 3, timestamp, amount: 5, dueOn })
    // when encoded, sent through JSON and decoded
    const encoded = topics.encode(e)
    expect(encoded).toEqual({ type: 'PaymentScheduled', id: 'acc-1', version: 3, timestamp: timestamp.toISOString(), amount: 5, dueOn: dueOn.toISOString() })
    const decoded = topics.decode(JSON.parse(JSON.stringify(encoded)))
    // then the dates are Dates again, to the millisecond
    expect(decoded).toEqual(E.right(e))
    if (E.isRight(decoded) && decoded.right.type === 'PaymentScheduled') {
      expect(decoded.right.dueOn).toBeInstanceOf(Date)
      expect(decoded.right.dueOn.getTime()).toBe(dueOn.getTime())
    }
  })

  it('decodes to the right member of the union by its type', () => {
    const w: Withdrawn = Withdrawn.create({ id: 'acc-1', version: 4, timestamp, amount: 3, reason: null })
    const decoded = topics.decode(topics.encode(w))
    expect(E.isRight(decoded) && decoded.right.type === 'Withdrawn' && decoded.right.reason === null).toBe(true)
  })

  it('reports a field that does not match as a decode error whose path reads Deposited/amount', () => {
    // given a stored body whose amount is a string
    const body = { type: 'Deposited', id: 'acc-1', version: 1, timestamp: timestamp.toISOString(), amount: 'ten' }
    // when decoding
    const e = leftOf(topics.decode(body)) as DecodeError
    // then the error names the topic and the failing path
    expect(e._tag).toBe('DecodeError')
    expect(e.topic).toBe('Deposited')
    expect(e.issues).toEqual([{ path: 'Deposited/amount', expected: 'number', actual: 'ten' }])
    expect(e.message).toBe('Deposited/amount: expected number')
  })

  it('collects every failing field, including a bad date', () => {
    const body = { type: 'PaymentScheduled', id: 7, version: 1, timestamp: 'yesterday', amount: 1, dueOn: 'not a date' }
    const e = leftOf(topics.decode(body)) as DecodeError
    expect(e.issues.map((i) => i.path).sort()).toEqual(['PaymentScheduled/dueOn', 'PaymentScheduled/id', 'PaymentScheduled/timestamp'])
    expect(e.issues.find((i) => i.path === 'PaymentScheduled/dueOn')?.expected).toBe('DateFromISOString')
  })

  it('reports a missing field and a mistyped correlation id by path', () => {
    const body = { type: 'Deposited', id: 'acc-1', version: 1, timestamp: timestamp.toISOString(), correlationId: 5 }
    const e = leftOf(topics.decode(body)) as DecodeError
    expect(e.issues.map((i) => i.path).sort()).toEqual(['Deposited/amount', 'Deposited/correlationId'])
  })

  it('answers an unregistered topic with UnknownTopic', () => {
    const e = leftOf(topics.decode({ type: 'AccountClosed', id: 'acc-1' })) as UnknownTopic
    expect(e).toEqual({ _tag: 'UnknownTopic', topic: 'AccountClosed' })
  })

  it('answers a body without a string type, or no object at all, with UnknownTopic and never throws', () => {
    for (const body of [{ amount: 1 }, { type: 42 }, null, undefined, 'Deposited', 17, []]) {
      expect(leftOf(topics.decode(body))._tag).toBe('UnknownTopic')
    }
  })

  it('keeps unknown fields on decode and on encode, protecting what newer writers added', () => {
    // given a body with a field this codec does not know
    const body = { type: 'Deposited', id: 'acc-1', version: 1, timestamp: timestamp.toISOString(), amount: 10, channel: 'atm' }
    // when decoded and encoded again
    const decoded = topics.decode(body)
    expect(decoded).toEqual(E.right({ ...body, timestamp }))
    if (E.isRight(decoded)) expect(topics.encode(decoded.right)).toEqual(body)
  })

  it('stores an event of an unregistered topic as it is', () => {
    const other = topicMap(Deposited)
    const w = Withdrawn.create({ id: 'acc-1', version: 1, timestamp, amount: 1, reason: 'fee' })
    expect(other.encode(w as never)).toBe(w)
  })

  it('lets a later definition of the same topic replace an earlier one', () => {
    const DepositedV2 = defineEvent('Deposited', { amount: t.number, currency: t.string })
    const v2 = topicMap(Deposited, DepositedV2)
    const body = { type: 'Deposited', id: 'acc-1', version: 1, timestamp: timestamp.toISOString(), amount: 10 }
    expect((leftOf(v2.decode(body)) as DecodeError).issues.map((i) => i.path)).toEqual(['Deposited/currency'])
  })
})

describe('DateFromISOString', () => {
  it('accepts ISO strings and valid Dates, refuses the rest', () => {
    expect(DateFromISOString.decode('2026-01-02T03:04:05.678Z')).toEqual(E.right(timestamp))
    expect(DateFromISOString.decode(timestamp)).toEqual(E.right(timestamp))
    for (const bad of ['nope', new Date(Number.NaN), 5, null]) expect(E.isLeft(DateFromISOString.decode(bad))).toBe(true)
    expect(DateFromISOString.encode(timestamp)).toBe('2026-01-02T03:04:05.678Z')
  })

  it('accepts the ISO-8601 forms people store, including offsets and extended years', () => {
    const ok: ReadonlyArray<readonly [string, number]> = [
      ['2026-01-02', Date.UTC(2026, 0, 2)],
      ['2026-01-02T03:04Z', Date.UTC(2026, 0, 2, 3, 4)],
      ['2026-01-02T03:04:05Z', Date.UTC(2026, 0, 2, 3, 4, 5)],
      ['2026-01-02T05:04:05.678+02:00', Date.UTC(2026, 0, 2, 3, 4, 5, 678)],
      ['+275760-09-13T00:00:00.000Z', 8.64e15],
    ]
    for (const [s, ms] of ok) expect(E.map((d: Date) => d.getTime())(DateFromISOString.decode(s)), s).toEqual(E.right(ms))
    // and round-trips the extremes toISOString writes
    for (const d of [new Date(-8.64e15), new Date(0), new Date(8.64e15)]) {
      expect(DateFromISOString.decode(DateFromISOString.encode(d))).toEqual(E.right(d))
    }
  })

  it('refuses days that do not exist instead of rolling them over to the next month (issue 10 item 11)', () => {
    for (const bad of ['2024-02-30', '2023-02-29T00:00:00Z', '2024-04-31T10:00:00Z', '1900-02-29', '2100-02-29T00:00Z', '2024-06-31', '2024-09-31', '2024-11-31', '2024-01-32', '2024-00-10', '2024-01-00', '-000001-02-29']) {
      expect(E.isLeft(DateFromISOString.decode(bad)), bad).toBe(true)
      expect(E.isLeft(topics.decode({ type: 'Deposited', id: 'a', version: 1, timestamp: bad, amount: 1 })), bad).toBe(true)
    }
  })

  it('accepts February 29th in leap years, the Gregorian way', () => {
    const ok: ReadonlyArray<readonly [string, number]> = [
      ['2024-02-29', Date.UTC(2024, 1, 29)],
      ['2000-02-29T12:00:00Z', Date.UTC(2000, 1, 29, 12)],
      ['1600-02-29', Date.UTC(1600, 1, 29)],
      ['2024-04-30T10:00:00Z', Date.UTC(2024, 3, 30, 10)],
      ['2023-12-31T23:59:59.999Z', Date.UTC(2023, 11, 31, 23, 59, 59, 999)],
      ['2024-02-29T23:30:00-01:00', Date.UTC(2024, 2, 1, 0, 30)],
    ]
    for (const [s, ms] of ok) expect(E.map((d: Date) => d.getTime())(DateFromISOString.decode(s)), s).toEqual(E.right(ms))
  })

  it('refuses times of day that do not exist: 24:00, minute or second 60, offsets beyond ±23:59, year -000000', () => {
    for (const bad of ['2024-01-01T24:00Z', '2024-01-01T24:00:00.000Z', '2024-01-01T23:60Z', '2024-01-01T23:59:60Z', '2024-01-01T10:00+24:00', '2024-01-01T10:00-05:60', '-000000-01-01']) {
      expect(E.isLeft(DateFromISOString.decode(bad)), bad).toBe(true)
    }
    expect(E.isRight(DateFromISOString.decode('2024-01-01T00:00+23:59'))).toBe(true)
  })

  it('accepts exactly the UTC strings whose fields exist, and decodes them to those very fields', () => {
    const pad = (n: number, w = 2) => String(n).padStart(w, '0')
    const leap = (y: number) => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)
    const days = (y: number, m: number) => [31, leap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] ?? 0
    const fields = fc.record({
      y: fc.integer({ min: 0, max: 9999 }),
      m: fc.integer({ min: 0, max: 13 }),
      d: fc.integer({ min: 0, max: 32 }),
      h: fc.integer({ min: 0, max: 25 }),
      mi: fc.integer({ min: 0, max: 61 }),
      s: fc.integer({ min: 0, max: 61 }),
    })
    fc.assert(
      fc.property(fields, ({ y, m, d, h, mi, s }) => {
        const text = `${pad(y, 4)}-${pad(m)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}Z`
        const exists = m >= 1 && m <= 12 && d >= 1 && d <= days(y, m) && h <= 23 && mi <= 59 && s <= 59
        const r = DateFromISOString.decode(text)
        expect(E.isRight(r), text).toBe(exists)
        if (E.isRight(r)) {
          const got = r.right
          expect([got.getUTCFullYear(), got.getUTCMonth() + 1, got.getUTCDate(), got.getUTCHours(), got.getUTCMinutes(), got.getUTCSeconds()]).toEqual([y, m, d, h, mi, s])
        }
      }),
      { numRuns: 1500 },
    )
  })

  it('refuses strings that Date would guess at: a corrupt field is an error, not a plausible date', () => {
    for (const bad of ['1', '2026', 'March 1, 2026', '2026/01/02', '01-02-2026', '2026-13-45', '2026-01-02T25:00Z', '2026-01-02 03:04:05', '']) {
      expect(E.isLeft(DateFromISOString.decode(bad)), bad).toBe(true)
    }
  })
})
