import type { BackendId } from './backends.js'
import type { Timed } from './types.js'

/** How much work the projection bench does; `tiny` keeps the script honest in the test suite. */
export interface ProjectionSizes {
  readonly name: 'tiny' | 'full'
  /** Single-event commits (one Deposited event each) the catch-up projects. */
  readonly commits: number
  /** Single-event appends per contender per round of the inline-cost run. */
  readonly appends: number
  /** Streams (accounts) the inline-cost appends go to, round-robin. */
  readonly appendStreams: number
}

export const projectionSizes: Readonly<Record<ProjectionSizes['name'], ProjectionSizes>> = {
  full: { name: 'full', commits: 100_000, appends: 2000, appendStreams: 50 },
  tiny: { name: 'tiny', commits: 200, appends: 20, appendStreams: 5 },
}

/** Backends of the catch-up (the issue asks for these two) and of the inline-cost run. */
export const catchupBackends: readonly BackendId[] = ['sqlite', 'postgres']
export const inlineBackends: readonly BackendId[] = ['sqlite', 'postgres', 'mysql']

export interface ProjectionCatchupResult {
  readonly backend: BackendId
  readonly title: string
  readonly skipped?: string
  readonly error?: string
  readonly commits: number
  /** The size of aett's catch-up batches (its default `catchUpBatchSize`), and so of every contender's transactions. */
  readonly batchSize: number
  /** `startProjection` until `caughtUp()` and every event in the read model. */
  readonly aett: Timed
  /** The hand-written loop over the raw driver. */
  readonly raw: Timed
  /** Emmett 0.42's projection, or why it was not measured. */
  readonly emmett: Timed | { readonly missing: string }
  readonly notes: readonly string[]
}

export interface InlineCostResult {
  readonly backend: BackendId
  readonly title: string
  readonly skipped?: string
  readonly error?: string
  /** Why inline projections were not measured on this store (`inlineProjection` answered a Left). */
  readonly unavailable?: string
  readonly appends: number
  /** µs per append, one value per round: a plain append, and one with the inline upsert. */
  readonly plain: Timed
  readonly inline: Timed
  readonly notes: readonly string[]
}

export interface ProjectionsResult {
  readonly catchup: readonly ProjectionCatchupResult[]
  readonly inline: readonly InlineCostResult[]
}
