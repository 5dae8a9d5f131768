/**
 * Structural equality for events, commands and states as the kit stores them: plain objects, arrays, `Date`s
 * (by time) and primitives. A key whose value is `undefined` counts as absent, as it would after a JSON trip.
 */
export const deepEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b)
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime()
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]))
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false
    for (const [k, v] of a) if (!b.has(k) || !deepEqual(v, b.get(k))) return false
    return true
  }
  if (a instanceof Set || b instanceof Set) {
    if (!(a instanceof Set && b instanceof Set) || a.size !== b.size) return false
    for (const v of a) if (!b.has(v)) return false
    return true
  }
  const keys = (o: object) => Object.keys(o).filter((k) => (o as Record<string, unknown>)[k] !== undefined)
  const ka = keys(a)
  const kb = keys(b)
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

/** A readable rendering for failure messages (Dates as ISO strings, `undefined` kept visible). */
export const show = (value: unknown): string => {
  try {
    return JSON.stringify(
      value,
      function (this: Record<string, unknown>, key, v: unknown) {
        const raw = this[key]
        if (raw instanceof Date) return `Date(${Number.isNaN(raw.getTime()) ? 'Invalid' : raw.toISOString()})`
        if (v === undefined) return 'undefined'
        if (raw instanceof Map) return { Map: [...raw.entries()] }
        if (raw instanceof Set) return { Set: [...raw.values()] }
        return v
      },
      2,
    ) ?? String(value)
  } catch {
    return String(value)
  }
}

/**
 * What a failed scenario or law throws. `expected` and `actual` let test runners (vitest, jest) show a diff;
 * no test framework is needed to use it.
 */
export class ScenarioFailure extends Error {
  override readonly name = 'ScenarioFailure'
  readonly showDiff = true
  constructor(
    message: string,
    readonly expected?: unknown,
    readonly actual?: unknown,
  ) {
    super(message)
  }
}
