import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'

/**
 * ISO-8601 as `Date#toISOString` writes it, and the shorter forms people store: a date alone, or a date and time
 * with or without seconds and fractions, in UTC (`Z`) or with an offset. Extended years (`+275760`) are allowed.
 * `new Date(string)` alone would also take `"1"` or `"March 1"` and turn a corrupt field into a plausible date.
 * Groups: year, month, day, hour, minute, second, offset hour, offset minute.
 */
const isoPattern =
  /^(\d{4}|[+-]\d{6})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2})))?$/

const isLeapYear = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)

const daysIn = (year: number, month: number): number =>
  month === 2 ? (isLeapYear(year) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31

/** A field that is absent (an optional group) or a number from 0 to `max`. */
const upTo = (field: string | undefined, max: number): boolean => field === undefined || Number(field) <= max

/**
 * Whether the fields name a day and a time of day that exist: `Date` itself rolls `2024-02-30` over to March 1st
 * and `24:00` to the next day. Years are proleptic Gregorian (so `2000-02-29` and `0000-02-29` exist, `1900-02-29`
 * does not); `-000000` is refused, as ECMAScript refuses it. Hours go to 23, minutes and seconds to 59 (no leap
 * second), and an offset to ±23:59.
 */
const existing = (m: RegExpExecArray): boolean => {
  const [, y, mo, d, h, mi, s, oh, om] = m
  if (y === '-000000') return false
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return false
  return upTo(h, 23) && upTo(mi, 59) && upTo(s, 59) && upTo(oh, 23) && upTo(om, 59)
}

/** The value of `length` decimal digits of `s` from `at`, or -1 if one of them is not a digit. */
const digits = (s: string, at: number, length: number): number => {
  let n = 0
  for (let i = at; i < at + length; i++) {
    const d = s.charCodeAt(i) - 48
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  return n
}

/**
 * The form `Date#toISOString` writes for years 100 to 9999 (`2026-03-01T12:00:00.000Z`), which is what nearly every
 * stored stamp is: read digit by digit, without the pattern's match array, the same checks as `existing`, and the
 * instant from `Date.UTC`. `null` when `s` is not in that form (the general path then decides); `undefined` when
 * it is but names no existing day or time.
 */
const canonical = (s: string): Date | undefined | null => {
  if (s.length !== 24 || s.charCodeAt(23) !== 90 /* Z */) return null
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46)
    return null
  const year = digits(s, 0, 4)
  const month = digits(s, 5, 2)
  const day = digits(s, 8, 2)
  const hour = digits(s, 11, 2)
  const minute = digits(s, 14, 2)
  const second = digits(s, 17, 2)
  const ms = digits(s, 20, 3)
  // Date.UTC reads years 0-99 as 1900-1999: those go the general way.
  if (year < 100 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || ms < 0) return null
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return undefined
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms))
}

/** The instant an ISO-8601 string (or a valid `Date`) names; `undefined` for anything else. */
export const parseISODate = (u: unknown): Date | undefined => {
  if (u instanceof Date) return Number.isNaN(u.getTime()) ? undefined : u
  if (typeof u !== 'string') return undefined
  const fast = canonical(u)
  if (fast !== null) return fast
  const m = isoPattern.exec(u)
  if (m === null || !existing(m)) return undefined
  const d = new Date(u)
  return Number.isNaN(d.getTime()) ? undefined : d
}

/**
 * A `Date` stored as an ISO-8601 string. Decoding refuses strings that are not ISO-8601, name a day or a time of
 * day that does not exist (`2023-02-29`, `2024-04-31`, `24:00`, `23:60`), or do not name a representable instant,
 * so a corrupt stamp is a decode error with its path rather than another day or an `Invalid Date` that surfaces
 * later.
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
