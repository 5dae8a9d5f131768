/** A state as JSON shows it: Maps as objects (or entry lists), Sets as arrays, Dates as ISO strings, BigInts as `12n`. */
export const toPlain = (value: unknown, seen: Set<unknown> = new Set()): unknown => {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'undefined' || typeof value === 'function' || typeof value === 'symbol') return undefined
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()
  if (seen.has(value)) return '[circular]'
  seen.add(value)
  try {
    if (Array.isArray(value)) return value.map((v) => toPlain(v, seen) ?? null)
    if (value instanceof Set) return [...value].map((v) => toPlain(v, seen) ?? null)
    if (value instanceof Map) {
      const entries = [...value.entries()]
      return entries.every(([k]) => typeof k === 'string')
        ? Object.fromEntries(entries.map(([k, v]) => [k, toPlain(v, seen)]))
        : entries.map(([k, v]) => [toPlain(k, seen), toPlain(v, seen)])
    }
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const p = toPlain(v, seen)
      if (p !== undefined) out[k] = p
    }
    return out
  } finally {
    seen.delete(value)
  }
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u)

const keyPath = (path: string, key: string): string => (/^[A-Za-z_$][\w$]*$/.test(key) ? (path === '' ? key : `${path}.${key}`) : `${path}[${JSON.stringify(key)}]`)

const show = (u: unknown): string => JSON.stringify(u) ?? 'undefined'

/**
 * The differences between two plain values, one line each: `~ path: before -> after`, `+ path: added`,
 * `- path: removed`. Objects are compared key by key and arrays index by index; equal values give no line.
 */
export const diffLines = (before: unknown, after: unknown, path = ''): string[] => {
  const here = path === '' ? '(state)' : path
  if (isRecord(before) && isRecord(after)) {
    const keys = [...Object.keys(before), ...Object.keys(after).filter((k) => !(k in before))]
    return keys.flatMap((k) => {
      const p = keyPath(path, k)
      if (!(k in after)) return [`- ${p}: ${show(before[k])}`]
      if (!(k in before)) return [`+ ${p}: ${show(after[k])}`]
      return diffLines(before[k], after[k], p)
    })
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const out: string[] = []
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      const p = `${path}[${i}]`
      if (i >= after.length) out.push(`- ${p}: ${show(before[i])}`)
      else if (i >= before.length) out.push(`+ ${p}: ${show(after[i])}`)
      else out.push(...diffLines(before[i], after[i], p))
    }
    return out
  }
  return show(before) === show(after) ? [] : [`~ ${here}: ${show(before)} -> ${show(after)}`]
}
