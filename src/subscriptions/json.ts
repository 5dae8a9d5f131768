import type { Json } from '../eventstore/Json.js'

/**
 * A JSON picture of any value, for the error a parked commit is stored with: an `Error` keeps its name, message
 * and code; anything JSON cannot hold (a cycle, a BigInt, a getter that throws) becomes its `String`. Never throws.
 */
export const toJson = (value: unknown): Json => {
  try {
    const seen = new WeakSet<object>()
    const text = JSON.stringify(value, (_key, v: unknown) => {
      if (v instanceof Error) {
        const code = (v as { code?: unknown }).code
        return { name: v.name, message: v.message, ...(code === undefined ? {} : { code: String(code) }) }
      }
      if (typeof v === 'bigint') return v.toString()
      if (typeof v === 'object' && v !== null) {
        if (seen.has(v)) return '[cycle]'
        seen.add(v)
      }
      return v
    })
    return text === undefined ? null : (JSON.parse(text) as Json)
  } catch {
    try {
      return String(value)
    } catch {
      return '[unprintable]'
    }
  }
}
