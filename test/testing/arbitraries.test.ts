import * as E from 'fp-ts/lib/Either.js'
import * as fc from 'fast-check'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { DateFromISOString, defineEvent, topicMap } from '../../src/eventstore/index.js'
import { arbitraryEvent, arbitraryFromCodec } from 'aett/testing/properties'

const Everything = defineEvent('Everything', {
  name: t.string,
  count: t.number,
  whole: t.Int,
  flag: t.boolean,
  kind: t.literal('a'),
  colour: t.keyof({ red: null, blue: null }),
  either: t.union([t.string, t.number]),
  nested: t.type({ at: DateFromISOString, tags: t.array(t.string) }),
  maybe: t.partial({ note: t.string }),
  both: t.intersection([t.type({ x: t.number }), t.partial({ y: t.string })]),
  frozen: t.readonly(t.type({ z: t.boolean })),
  list: t.readonlyArray(t.number),
  exact: t.exact(t.type({ e: t.string })),
  pair: t.tuple([t.string, t.number]),
  dict: t.record(t.string, t.number),
  nothing: t.null,
})

describe('arbitraryFromCodec', () => {
  it('generates values that the codec accepts, and that round-trip through JSON', () => {
    // given an arbitrary derived from an event definition using every supported codec
    const arb = arbitraryFromCodec(Everything.codec)
    const topics = topicMap(Everything)
    expect(E.isRight(arb)).toBe(true)
    if (E.isLeft(arb)) return
    // then every generated event is valid and survives encode -> JSON -> decode
    fc.assert(
      fc.property(arb.right, (event) => {
        expect(Everything.is(event)).toBe(true)
        const stored: unknown = JSON.parse(JSON.stringify(topics.encode(event)))
        const back = topics.decode(stored)
        expect(back).toEqual(E.right(event))
      }),
      { numRuns: 200 },
    )
  })

  it('generates the kit’s dates as valid dates', () => {
    const arb = arbitraryFromCodec(DateFromISOString)
    expect(E.isRight(arb) && fc.sample(arb.right, 20).every((d) => d instanceof Date && !Number.isNaN(d.getTime()))).toBe(true)
  })

  it('generates literals and keyof members exactly', () => {
    const lit = arbitraryFromCodec(t.literal('only'))
    const key = arbitraryFromCodec(t.keyof({ a: null, b: null }))
    expect(E.isRight(lit) && new Set(fc.sample(lit.right, 10))).toEqual(new Set(['only']))
    expect(E.isRight(key) && fc.sample(key.right, 50).every((k) => k === 'a' || k === 'b')).toBe(true)
  })

  it('returns UnsupportedCodec with the path for codecs it cannot generate', () => {
    // given a definition with a field of an unsupported codec
    const Odd = defineEvent('Odd', { ok: t.string, blob: t.unknown })
    // when an arbitrary is asked for
    const r = arbitraryFromCodec(Odd.codec)
    // then it says which codec and where
    expect(E.isLeft(r) && r.left).toMatchObject({ _tag: 'UnsupportedCodec', name: 'unknown' })
    expect(E.isLeft(r) && r.left.path).toContain('blob')
  })

  it('takes overrides for numbers and strings', () => {
    // given an arbitrary whose numbers and strings are fixed
    const arb = arbitraryFromCodec(t.type({ n: t.number, s: t.string }), { number: fc.constant(7), string: fc.constant('x') })
    // then every value uses them
    expect(E.isRight(arb) && fc.sample(arb.right, 5)).toEqual(Array(5).fill({ n: 7, s: 'x' }))
  })

  it('keeps default numbers JSON-safe', () => {
    const arb = arbitraryFromCodec(t.number)
    expect(E.isRight(arb) && fc.sample(arb.right, 500).every((n) => Number.isFinite(n) && !Object.is(n, -0))).toBe(true)
  })

  it('combines several event definitions', () => {
    const A = defineEvent('A', { a: t.string })
    const B = defineEvent('B', { b: t.number })
    const arb = arbitraryEvent(A, B)
    expect(E.isRight(arb)).toBe(true)
    if (E.isRight(arb)) {
      const types = new Set(fc.sample(arb.right, 100).map((e) => e.type))
      expect(types).toEqual(new Set(['A', 'B']))
    }
    expect(E.isLeft(arbitraryEvent())).toBe(true)
  })
})
