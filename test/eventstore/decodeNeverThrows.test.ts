import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { DateFromISOString, defineEvent, topicMap } from '../../src/eventstore/index.js'

const Deposited = defineEvent('Deposited', { amount: t.number })
const Scheduled = defineEvent('PaymentScheduled', { amount: t.number, dueOn: DateFromISOString, tags: t.array(t.string) })
const topics = topicMap(Deposited, Scheduled)

const boom = (): never => {
  throw new Error('boom')
}

/** Values that break code which assumes a plain value: each throws when read, converted or inspected. */
const hostile = (): unknown[] => {
  const revoked = Proxy.revocable({}, {})
  revoked.revoke()
  return [
    Object.create(null),
    Object.assign(Object.create(null), { type: 'Deposited' }),
    Symbol('type'),
    10n,
    () => 'Deposited',
    { toString: boom, valueOf: boom },
    { [Symbol.toPrimitive]: boom },
    Object.defineProperty({}, 'type', { get: boom, enumerable: true }),
    new Proxy({}, { get: boom, has: boom, ownKeys: boom, getOwnPropertyDescriptor: boom, getPrototypeOf: boom }),
    new Proxy({ type: 'Deposited' }, { ownKeys: boom, getOwnPropertyDescriptor: boom }),
    revoked.proxy,
    new Date(Number.NaN),
    new Map([['type', 'Deposited']]),
  ]
}
const anything = fc.anything({
  withNullPrototype: true,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  stringUnit: 'binary',
})

/**
 * An input as a recipe, built inside the property: fast-check inspects the values it generates (and prints them
 * on failure), and the hostile ones throw at that. Each recipe is named so that a failure says which one it was.
 */
type Recipe = (() => unknown) & { readonly [fc.toStringMethod]: () => string }
const recipe = (name: string, make: () => unknown): Recipe => Object.assign(make, { [fc.toStringMethod]: () => name })

const value: fc.Arbitrary<Recipe> = fc.oneof(
  anything.map((v) => recipe(fc.stringify(v), () => v)),
  fc.nat({ max: hostile().length - 1 }).map((i) => recipe(`hostile[${i}]`, () => hostile()[i])),
)

const timestamp = '2026-01-02T03:04:05.678Z'
const valid = fc.constantFrom<Record<string, unknown>>(
  { type: 'Deposited', id: 'acc-1', version: 1, timestamp, amount: 5 },
  { type: 'PaymentScheduled', id: 'acc-1', version: 2, timestamp, amount: 5, dueOn: timestamp, tags: ['a'] },
)
const field = fc.constantFrom('id', 'version', 'timestamp', 'amount', 'dueOn', 'tags', 'correlationId')

/** Anything; an object whose `type` is anything; a valid body with one field (or a getter for it) made hostile. */
const bodies: fc.Arbitrary<Recipe> = fc.oneof(
  value,
  value.map((v) => recipe(`{ type: ${String(v)} }`, () => ({ type: v() }))),
  value.map((v) => recipe(`null-prototype { type: ${String(v)} }`, () => Object.assign(Object.create(null), { type: v() }))),
  fc.tuple(valid, field, value).map(([b, k, v]) => recipe(`${b['type']} with ${k}: ${String(v)}`, () => ({ ...b, [k]: v() }))),
  fc.tuple(valid, field).map(([b, k]) => recipe(`${b['type']} with a throwing getter for ${k}`, () => Object.defineProperty({ ...b }, k, { get: boom, enumerable: true }))),
  valid.map((b) => recipe(`a Proxy of ${b['type']} that throws but for type`, () => new Proxy(b, { get: (target, key) => (key === 'type' ? target['type'] : boom()) }))),
)

describe('topicMap.decode never throws', () => {
  it('answers a type that is an object without a prototype with UnknownTopic (issue 10 item 7)', () => {
    const r = topics.decode({ type: Object.create(null) })
    expect(r).toEqual(E.left({ _tag: 'UnknownTopic', topic: 'object' }))
  })

  it('answers each hostile value as a type with UnknownTopic, and as a body with an error', () => {
    for (const h of hostile()) {
      expect(topics.decode({ type: h })).toMatchObject({ _tag: 'Left', left: { _tag: 'UnknownTopic' } })
      // as a body, a readable 'Deposited' type makes it a Deposited that does not decode
      expect(['DecodeError', 'UnknownTopic']).toContain(E.isLeft(topics.decode(h)) ? (topics.decode(h) as E.Left<{ _tag: string }>).left._tag : 'Right')
    }
  })

  it('answers a known topic whose fields throw when read with a DecodeError for that topic', () => {
    const body = Object.defineProperty({ type: 'Deposited', id: 'a', version: 1, timestamp }, 'amount', { get: boom, enumerable: true })
    const r = topics.decode(body)
    if (E.isRight(r)) return expect.fail('expected a DecodeError')
    expect(r.left).toMatchObject({ _tag: 'DecodeError', topic: 'Deposited' })
    expect(r.left._tag === 'DecodeError' && r.left.issues[0]?.actual).toBeInstanceOf(Error)
  })

  it('returns an event, a DecodeError or an UnknownTopic for every input, and throws for none', () => {
    fc.assert(
      fc.property(bodies, (make) => {
        // given any input, when decoding it, then there is an answer and it is one of the three
        const r = topics.decode(make())
        if (E.isLeft(r)) expect(['DecodeError', 'UnknownTopic']).toContain(r.left._tag)
        else expect(['Deposited', 'PaymentScheduled']).toContain(r.right.type)
        // and the error's message can be built and read
        if (E.isLeft(r) && r.left._tag === 'DecodeError') expect(typeof r.left.message).toBe('string')
      }),
      { numRuns: 1500 },
    )
  })
})
