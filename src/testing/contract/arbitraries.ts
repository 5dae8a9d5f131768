import fc from 'fast-check'
import type { EventMessage, Headers, Json } from '../../eventstore/index.js'

/**
 * Strings as a store must keep them: any Unicode grapheme (so no lone surrogates, which UTF-8 cannot hold) except
 * NUL, which PostgreSQL text and jsonb refuse.
 */
export const jsonString = (maxLength = 12): fc.Arbitrary<string> =>
  fc.string({ unit: 'grapheme', maxLength }).filter((s) => !s.includes('\u0000'))

/** Object keys, with the dotted keys headers use; `__proto__` is left out since JSON.parse treats it specially. */
export const jsonKey: fc.Arbitrary<string> = fc
  .oneof(jsonString(8), fc.constantFrom('a.b', 'x.y.z', 'UndispatchedMessage.0', '$k', 'type', ''))
  .filter((k) => k !== '__proto__')

/** Numbers that JSON keeps exactly: safe integers and decimals with three places (never -0, NaN or Infinity). */
export const jsonNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }),
  fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }).map((n) => n / 1000),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1e21, 3e-7),
)

const { value: jsonValue } = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    fc.constant(null),
    fc.boolean(),
    jsonNumber,
    jsonString(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(jsonKey, tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
}))

/** Any JSON value of modest size. */
export const json: fc.Arbitrary<Json> = jsonValue

/** Header maps: string keys (dots allowed) to JSON values. */
export const headers: fc.Arbitrary<Headers> = fc.dictionary(jsonKey, json, { maxKeys: 4, noNullPrototype: true })

export const topic: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('Deposited', 'Withdrawn', 'AccountOpened', 'Bank.Transfer/v2'),
  jsonString(16).filter((s) => s.length > 0),
)

/** An event message: a body whose `type` is its topic, with arbitrary other fields, and arbitrary headers. */
export const eventMessage: fc.Arbitrary<EventMessage> = fc
  .record({ type: topic, fields: fc.dictionary(jsonKey, json, { maxKeys: 5, noNullPrototype: true }), headers })
  .map(({ type, fields, headers }) => ({ body: { ...fields, type }, headers }))

/** What one commit carries, before numbers and ids are given to it. */
export interface CommitContent {
  readonly events: readonly EventMessage[]
  readonly headers: Headers
  /** Milliseconds after 2000-01-01, up to about 2100. */
  readonly stampOffset: number
}

export const commitContent: fc.Arbitrary<CommitContent> = fc.record({
  events: fc.array(eventMessage, { minLength: 1, maxLength: 4 }),
  headers,
  stampOffset: fc.integer({ min: 0, max: 3_155_760_000_000 }),
})

export const stampOf = (c: CommitContent): Date => new Date(Date.UTC(2000, 0, 1) + c.stampOffset)
