import { ID_LIMITS, type IdKind } from '../limits.js'

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** UTF-8 length of a well-formed string, without encoding it. */
export const utf8Length = (s: string): number => {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4
      i++
    } else n += 3
  }
  return n
}

/**
 * Whether every store can keep a string exactly. Drivers send UTF-8, which turns a lone surrogate into U+FFFD (so
 * two ids could alias), and PostgreSQL text cannot hold U+0000; such strings are refused by every store alike.
 */
export const isStorableString = (s: string): boolean => !s.includes('\u0000') && !loneSurrogate.test(s)

/** Why an id cannot be stored, or `undefined` when it can: a non-empty, storable string within its limit. */
export const idProblem = (what: IdKind, id: unknown): string | undefined => {
  if (typeof id !== 'string' || id.length === 0) return `${what} must be a non-empty string`
  if (!isStorableString(id)) return unstorableIdReason(what)
  // Cheap bound first: a string of n UTF-16 units is at most 3n UTF-8 bytes.
  if (id.length * 3 > ID_LIMITS[what] && utf8Length(id) > ID_LIMITS[what])
    return `${what} is ${utf8Length(id)} bytes of UTF-8, over the limit of ${ID_LIMITS[what]}`
  return undefined
}

/** Whether an id can exist in a store: reads of any other id find nothing. */
export const isStorableId = (what: IdKind, id: unknown): id is string => idProblem(what, id) === undefined

export const unstorableIdReason = (what: string): string =>
  `${what} holds U+0000 or a lone surrogate, which cannot be stored exactly`
