import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { DateFromISOString } from '../../src/eventstore/index.js'
import { fastDecoder } from '../../src/eventstore/codec/fastDecode.js'

/** Props covering each path of the fast decoder: identity guards, dates, and a codec that converts. */
const NumberFromString = new t.Type<number, string, unknown>(
  'NumberFromString',
  (u): u is number => typeof u === 'number',
  (u, c) => (typeof u === 'string' && u.trim() !== '' && !Number.isNaN(Number(u)) ? t.success(Number(u)) : t.failure(u, c)),
  String,
)
const props = {
  type: t.literal('Sample'),
  id: t.string,
  version: t.number,
  timestamp: DateFromISOString,
  tags: t.array(t.string),
  nested: t.type({ a: t.union([t.number, t.null]) }),
  count: NumberFromString,
}
const reference = t.type(props)
const fast = fastDecoder(props)

const valid = fc.record({
  type: fc.constant('Sample'),
  id: fc.string(),
  version: fc.integer(),
  timestamp: fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(Date.UTC(9999, 0)) }).map((d) => d.toISOString()),
  tags: fc.array(fc.string()),
  nested: fc.record({ a: fc.oneof(fc.integer(), fc.constant(null)) }),
  count: fc.integer().map(String),
  extra: fc.jsonValue(),
})

/** ISO-looking stamps, many of which name no real day or time (`2023-02-29`, `24:00`, month 13). */
const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'))
const isoLike = fc
  .tuple(fc.integer({ min: 1896, max: 2104 }), two(13), two(32), fc.option(fc.tuple(two(25), two(61), two(61)), { nil: undefined }))
  .map(([y, m, d, time]) => `${y}-${m}-${d}${time === undefined ? '' : `T${time.join(':')}Z`}`)

/** Valid values, values with one field replaced by anything, stamps that may not exist, and anything at all. */
const inputs = fc.oneof(
  valid,
  fc.tuple(valid, fc.constantFrom(...Object.keys(props)), fc.anything()).map(([v, k, x]) => ({ ...v, [k]: x })),
  fc.tuple(valid, isoLike).map(([v, timestamp]) => ({ ...v, timestamp })),
  fc.anything(),
)

describe('fastDecoder', () => {
  it('agrees with io-ts t.type on every input: same verdict, and the same value when valid', () => {
    fc.assert(
      fc.property(inputs, (u) => {
        // given any input
        // when both decoders read it
        const expected = reference.decode(u)
        const actual = fast(u)
        // then they agree
        if (E.isLeft(expected)) expect(actual).toBeUndefined()
        else expect(actual).toEqual(expected.right)
      }),
      { numRuns: 2000 },
    )
  })

  it('returns the input itself when nothing converts, as t.type does', () => {
    const plain = fastDecoder({ id: t.string, n: t.number })
    const u = { id: 'a', n: 1, kept: true }
    expect(plain(u)).toBe(u)
  })
})
