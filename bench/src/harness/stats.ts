/** Summary statistics of a few timings; the median resists the odd slow round on shared cores. */
export interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly q1: number
  readonly q3: number
}

/** Linear interpolation between closest ranks (the usual "type 7" quantile). */
const quantile = (sorted: readonly number[], p: number): number => {
  if (sorted.length === 0) return Number.NaN
  const pos = (sorted.length - 1) * p
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  const a = sorted[lo] ?? Number.NaN
  const b = sorted[hi] ?? Number.NaN
  return a + (b - a) * (pos - lo)
}

export const summarize = (values: readonly number[]): Summary => {
  const sorted = [...values].sort((x, y) => x - y)
  return {
    median: quantile(sorted, 0.5),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
  }
}
