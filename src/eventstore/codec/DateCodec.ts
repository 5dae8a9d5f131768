import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'

/**
 * ISO-8601 as `Date#toISOString` writes it, and the shorter forms people store: a date alone, or a date and time
 * with or without seconds and fractions, in UTC (`Z`) or with an offset. Extended years (`+275760`) are allowed.
 * `new Date(string)` alone would also take `"1"` or `"March 1"` and turn a corrupt field into a plausible date.
 */
const isoPattern = /^(?:\d{4}|[+-]\d{6})-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/

/** The instant an ISO-8601 string (or a valid `Date`) names; `undefined` for anything else. */
export const parseISODate = (u: unknown): Date | undefined => {
  if (u instanceof Date) return Number.isNaN(u.getTime()) ? undefined : u
  if (typeof u !== 'string' || !isoPattern.test(u)) return undefined
  const d = new Date(u)
  return Number.isNaN(d.getTime()) ? undefined : d
}

/**
 * A `Date` stored as an ISO-8601 string. Decoding refuses strings that are not ISO-8601 or do not name a real
 * instant, so a corrupt stamp is a decode error with its path rather than an `Invalid Date` that surfaces later.
 */
export const DateFromISOString = new t.Type<Date, string, unknown>(
  'DateFromISOString',
  (u): u is Date => u instanceof Date,
  (u, c) => {
    const d = parseISODate(u)
    return d === undefined ? t.failure(u, c) : E.right(d)
  },
  (d) => d.toISOString(),
)
