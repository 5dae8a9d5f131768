import { performance } from 'node:perf_hooks'

/**
 * What the concurrent-writer benches share (`writers.ts` on SQLite, `serverWriters.ts` on PostgreSQL and MariaDB):
 * N writers, each on its own stream, appending until a deadline; commits/s and latency quantiles per run, and the
 * medians of the rounds.
 */

/** One append on `stream`, its `n`-th commit (1-based); resolves when acknowledged. */
export type Append = (stream: string, n: number) => Promise<void>

export interface Result {
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
}

const quantile = (sorted: Float64Array, q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN

/** Runs `writers` writers on `append` for `seconds`, then `close`s; commits/s over the whole run, and p50/p99. */
export const drive = async (append: Append, close: () => Promise<void> | void, writers: number, seconds: number): Promise<Result> => {
  const latencies: number[] = []
  const start = performance.now()
  const end = start + seconds * 1000
  try {
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let n = 1; performance.now() < end; n++) {
          const t0 = performance.now()
          await append(`stream-${w}`, n)
          latencies.push(performance.now() - t0)
        }
      }),
    )
  } finally {
    await close()
  }
  const elapsed = (performance.now() - start) / 1000
  const sorted = Float64Array.from(latencies).sort()
  return { perSecond: latencies.length / elapsed, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) }
}

export const fmt = (r: Result) => `${r.perSecond.toFixed(0).padStart(7)}/s  p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms`

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

/** Prints, per key, the median commits/s and latencies of its rounds, with the min..max of commits/s. */
export const printMedians = (results: ReadonlyMap<string, readonly Result[]>): void => {
  console.log('\nmedian of rounds (commits/s; p50/p99 ms), and min..max commits/s:')
  for (const [key, rs] of [...results].sort(([a], [b]) => a.localeCompare(b))) {
    const ps = rs.map((r) => r.perSecond)
    const m = { perSecond: median(ps), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)) }
    console.log(`${key}  ${fmt(m)}   (${Math.min(...ps).toFixed(0)}..${Math.max(...ps).toFixed(0)})`)
  }
}
