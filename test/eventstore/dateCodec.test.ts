import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseISODate } from '../../src/eventstore/codec/DateCodec.js'

const pad = (n: number, width: number): string => String(n).padStart(width, '0')

/**
 * For strings in the form `Date#toISOString` writes, an independent oracle: the string names an existing instant
 * exactly when `Date` reads it back to the same string (`Date` rolls a day that does not exist, or 24:00, over to
 * another one, and refuses 25:00 or minute 60).
 */
const oracle = (s: string): number | undefined => {
  try {
    const d = new Date(s)
    return d.toISOString() === s ? d.getTime() : undefined
  } catch {
    return undefined
  }
}

describe('parseISODate on the canonical form (the fast path)', () => {
  it('agrees with Date read back for every field, in range or not, and for every year (0-99 go the general way)', () => {
    const fields = fc.record({
      year: fc.oneof(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 100, max: 9999 })),
      month: fc.integer({ min: 0, max: 13 }),
      day: fc.integer({ min: 0, max: 32 }),
      hour: fc.integer({ min: 0, max: 25 }),
      minute: fc.integer({ min: 0, max: 61 }),
      second: fc.integer({ min: 0, max: 61 }),
      ms: fc.integer({ min: 0, max: 999 }),
    })
    fc.assert(
      fc.property(fields, (f) => {
        const s = `${pad(f.year, 4)}-${pad(f.month, 2)}-${pad(f.day, 2)}T${pad(f.hour, 2)}:${pad(f.minute, 2)}:${pad(f.second, 2)}.${pad(f.ms, 3)}Z`
        expect(parseISODate(s)?.getTime(), s).toBe(oracle(s))
      }),
      { numRuns: 3000 },
    )
  })

  it('reads back every instant Date writes, leap days included', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('0100-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), (d) => {
        expect(parseISODate(d.toISOString())?.getTime()).toBe(d.getTime())
      }),
      { numRuns: 2000 },
    )
    expect(parseISODate('2024-02-29T10:00:00.000Z')?.toISOString()).toBe('2024-02-29T10:00:00.000Z')
    expect(parseISODate('2023-02-29T10:00:00.000Z')).toBeUndefined()
    expect(parseISODate('1900-02-29T10:00:00.000Z')).toBeUndefined()
    expect(parseISODate('2000-02-29T10:00:00.000Z')?.getTime()).toBe(Date.UTC(2000, 1, 29, 10))
  })

  it('refuses a canonical-looking string with any character that is not a digit where digits go', () => {
    const base = '2026-03-01T12:34:56.789Z'
    const positions = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22]
    fc.assert(
      fc.property(fc.constantFrom(...positions), fc.constantFrom('a', ' ', '-', '+', '/', ':', '٣', 'Z'), (at, c) => {
        const s = base.slice(0, at) + c + base.slice(at + 1)
        expect(parseISODate(s), s).toBeUndefined()
      }),
    )
    expect(parseISODate(base)?.getTime()).toBe(Date.UTC(2026, 2, 1, 12, 34, 56, 789))
  })
})
