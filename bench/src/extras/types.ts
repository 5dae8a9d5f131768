import type { BackendId } from './backends.js'

/** How much work each extra does; `tiny` keeps the script honest in the test suite. */
export interface ExtrasSizes {
  readonly name: 'tiny' | 'full'
  /** Single-event commits the catch-up reads. */
  readonly commits: number
  /** Commits a live subscription receives, one at a time, in the latency run. */
  readonly latencyCommits: number
  /** The writer's random pause before each of them, in ms: [min, max). */
  readonly pauseMs: readonly [number, number]
  /** Commands per variant per round of the telemetry run, and the streams they go to. */
  readonly commands: number
  readonly commandStreams: number
}

export const extrasSizes: Readonly<Record<ExtrasSizes['name'], ExtrasSizes>> = {
  full: { name: 'full', commits: 100_000, latencyCommits: 200, pauseMs: [20, 80], commands: 5000, commandStreams: 100 },
  tiny: { name: 'tiny', commits: 200, latencyCommits: 5, pauseMs: [5, 25], commands: 20, commandStreams: 5 },
}

/** Timings of one catch-up contender, ms per pass; `failed` when it threw (it then stops, the others go on). */
export interface Timed {
  readonly millis: readonly number[]
  readonly failed?: string
}

export interface CatchupResult {
  readonly backend: BackendId
  readonly title: string
  readonly skipped?: string
  readonly error?: string
  readonly commits: number
  readonly batchSize: number
  /** `subscribe` from the beginning until `caughtUp()`. */
  readonly aett: Timed
  /** `getFrom(0)` in batches of `batchSize` to the same handler; no checkpoint written. */
  readonly loop: Timed
  /** The same loop plus one fenced checkpoint write per batch through `store.subscriptions`. */
  readonly loopCheckpoint: Timed
  /** Emmett 0.42's consumer, or why it was not measured. */
  readonly emmett: Timed | { readonly missing: string }
  readonly notes: readonly string[]
}

export interface LatencyResult {
  readonly backend: BackendId
  readonly title: string
  readonly skipped?: string
  readonly error?: string
  /** How the subscription learns of a commit: in-process wake-up, NOTIFY, polling. */
  readonly wake: string
  /** Commit-to-handler latencies in ms, one per commit, from the append call to the handler's call. */
  readonly latencies: readonly number[]
  /** How long each append call took, ms. */
  readonly appends: readonly number[]
  readonly notes: readonly string[]
}

export type TelemetryVariant = 'plain' | 'decorated-no-sdk' | 'decorated-sdk'

export const telemetryVariants: readonly TelemetryVariant[] = ['plain', 'decorated-no-sdk', 'decorated-sdk']

export interface TelemetryResult {
  readonly error?: string
  readonly commands: number
  /** µs per command, one value per paired round, per variant. */
  readonly micros: Readonly<Record<TelemetryVariant, readonly number[]>>
  readonly notes: readonly string[]
}

export interface ExtrasResult {
  readonly catchup: readonly CatchupResult[]
  readonly latency: readonly LatencyResult[]
  readonly telemetry: TelemetryResult
}
