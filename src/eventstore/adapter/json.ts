import * as E from 'fp-ts/lib/Either.js'
import type { Json, JsonObject } from '../Json.js'
import { isStorableString } from './ids.js'

/**
 * The JSON image of a value: what every store keeps and reads back. Bodies, headers and snapshot payloads
 * accept exactly JSON: finite numbers, strings without lone surrogates or U+0000, booleans, null, dense arrays and
 * plain objects. `undefined` properties are dropped and `-0` becomes `0`, as `JSON.stringify` does. Anything else
 * (NaN, ±Infinity, BigInt, cycles, functions, symbols, Dates, Maps, Sets, class instances, sparse arrays, holes
 * or `undefined` inside arrays) is refused with the path of the bad value, so that nothing is stored that would
 * read back different. The image is a fresh copy: the caller's value can change afterwards without effect.
 */
export const jsonImage = (value: unknown, path: string): E.Either<string, Json> => {
  try {
    const out = image(value, path, [])
    return typeof out === 'string' && out.startsWith(refusedMark) ? E.left(out.slice(refusedMark.length)) : E.right(out as Json)
  } catch (cause) {
    // A getter or a proxy that throws: the value cannot be read, so it cannot be stored.
    return E.left(`${path}: reading the value threw (${cause instanceof Error ? cause.message : String(cause)})`)
  }
}

/** A plain JSON object's image, or the reason it has none. */
export const jsonObjectImage = (value: unknown, path: string): E.Either<string, JsonObject> => {
  if (!isPlainObject(value)) return E.left(`${path}: expected a plain object, got ${describe(value)}`)
  return jsonImage(value, path) as E.Either<string, JsonObject>
}

// A refusal travels up the recursion as a string that starts with U+0000, which no accepted string can hold;
// this keeps the walk free of allocations for the common, valid case.
const refusedMark = '\u0000refused:'

const refuse = (path: string, what: string): string => `${refusedMark}${path}: ${what} is not JSON`

const isRefusal = (v: unknown): v is string => typeof v === 'string' && v.startsWith(refusedMark)

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

const describe = (v: unknown): string => {
  if (v === null) return 'null'
  if (typeof v !== 'object') return typeof v
  const name = (Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null)?.constructor?.name
  return typeof name === 'string' && name.length > 0 ? `a ${name}` : 'an object'
}

const image = (v: unknown, path: string, ancestors: unknown[]): unknown => {
  switch (typeof v) {
    case 'string':
      return isStorableString(v) ? v : `${refusedMark}${path}: a string with U+0000 or a lone surrogate cannot be stored exactly`
    case 'number':
      if (!Number.isFinite(v)) return refuse(path, String(v))
      return v === 0 ? 0 : v
    case 'boolean':
      return v
    case 'undefined':
      return refuse(path, 'undefined')
    case 'bigint':
      return refuse(path, 'a BigInt')
    case 'function':
      return refuse(path, 'a function')
    case 'symbol':
      return refuse(path, 'a symbol')
    default:
      break
  }
  if (v === null) return null
  if (ancestors.includes(v)) return `${refusedMark}${path}: a cycle cannot be stored`
  if (Array.isArray(v)) {
    if (Object.getPrototypeOf(v) !== Array.prototype) return refuse(path, describe(v))
    ancestors.push(v)
    const out: unknown[] = new Array(v.length)
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) return `${refusedMark}${path}/${i}: a hole in a sparse array is not JSON`
      const item = image(v[i], `${path}/${i}`, ancestors)
      if (isRefusal(item)) return item
      out[i] = item
    }
    ancestors.pop()
    return out
  }
  if (!isPlainObject(v)) return refuse(path, describe(v))
  if (Object.getOwnPropertySymbols(v).length > 0) return `${refusedMark}${path}: a symbol key is not JSON`
  ancestors.push(v)
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(v)) {
    const p = `${path}/${key}`
    if (!isStorableString(key)) return `${refusedMark}${p}: a key with U+0000 or a lone surrogate cannot be stored exactly`
    const item = v[key]
    if (item === undefined) continue
    const copied = image(item, p, ancestors)
    if (isRefusal(copied)) return copied
    // `__proto__` is an ordinary key in JSON; plain assignment would set the prototype instead.
    if (key === '__proto__') Object.defineProperty(out, key, { value: copied, enumerable: true, writable: true, configurable: true })
    else out[key] = copied
  }
  ancestors.pop()
  return out
}
