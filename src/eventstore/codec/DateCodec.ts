import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'

/**
 * A `Date` stored as an ISO-8601 string. Decoding refuses strings that do not parse, so a corrupt stamp is a
 * decode error with its path rather than an `Invalid Date` that surfaces later.
 */
export const DateFromISOString = new t.Type<Date, string, unknown>(
  'DateFromISOString',
  (u): u is Date => u instanceof Date,
  (u, c) => {
    if (u instanceof Date) return Number.isNaN(u.getTime()) ? t.failure(u, c) : t.success(u)
    if (typeof u !== 'string') return t.failure(u, c)
    const d = new Date(u)
    return Number.isNaN(d.getTime()) ? t.failure(u, c) : E.right(d)
  },
  (d) => d.toISOString(),
)
