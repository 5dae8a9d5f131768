import type { Contender, Library, Scenario } from '../harness/types.js'

/** A fresh, SQL-safe name for one run's database, schema or table prefix. */
export const uniqueName = (prefix: string): string =>
  `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`

/** Keeps the contenders that exist and records why the others do not. */
export const scenario = (
  base: Omit<Scenario, 'contenders' | 'missing'>,
  entries: Partial<Record<Library, Contender | string>>,
): Scenario => {
  const contenders: Contender[] = []
  const missing: Partial<Record<Library, string>> = {}
  for (const lib of ['aett', 'emmett', 'raw'] as const) {
    const e = entries[lib]
    if (e === undefined) continue
    if (typeof e === 'string') missing[lib] = e
    else contenders.push(e)
  }
  return { ...base, contenders, missing }
}
