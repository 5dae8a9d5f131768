import { backend, backendIds, type BackendId } from './backends.js'
import { catchup } from './catchup.js'
import { latency } from './latency.js'
import { telemetry } from './telemetry.js'
import type { CatchupResult, ExtrasResult, ExtrasSizes, LatencyResult } from './types.js'

export interface ExtrasOptions {
  readonly sizes: ExtrasSizes
  /** Overrides `sizes.commits` (the catch-up's log). */
  readonly commits?: number
  readonly rounds: number
  readonly warmup: number
  /** Paired rounds of the telemetry run. */
  readonly telemetryRounds: number
  readonly suites?: readonly BackendId[]
  /** Measure Emmett's consumer too (default true). */
  readonly emmett?: boolean
  readonly log: (line: string) => void
}

/** Runs the three extras one after the other (never in parallel), backend by backend. */
export const runExtras = async (o: ExtrasOptions): Promise<ExtrasResult> => {
  const chosen = o.suites ?? backendIds
  const catchups: CatchupResult[] = []
  const latencies: LatencyResult[] = []
  for (const id of chosen) {
    const b = backend(id)
    try {
      o.log(`# ${b.title}`)
      catchups.push(await catchup(b, { commits: o.commits ?? o.sizes.commits, rounds: o.rounds, warmup: o.warmup, emmett: o.emmett ?? true, log: o.log }))
      latencies.push(await latency(b, { commits: o.sizes.latencyCommits, pauseMs: o.sizes.pauseMs, log: o.log }))
    } finally {
      await b.dispose()
    }
  }
  o.log('# telemetry')
  const t = await telemetry({
    commands: o.sizes.commands,
    streams: o.sizes.commandStreams,
    rounds: o.telemetryRounds,
    warmup: o.warmup,
    log: o.log,
  })
  return { catchup: catchups, latency: latencies, telemetry: t }
}

export { backendIds, type BackendId } from './backends.js'
export { extrasMarkdown, pairedOverheads, speedRatio } from './report.js'
export { extrasSizes, telemetryVariants } from './types.js'
export type { CatchupResult, ExtrasResult, LatencyResult, TelemetryResult } from './types.js'
