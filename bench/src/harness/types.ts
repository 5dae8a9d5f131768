/** The three columns of the table: the kit, the peer, and the driver doing the same work by hand. */
export type Library = 'aett' | 'emmett' | 'raw'

export const libraries: readonly Library[] = ['aett', 'emmett', 'raw']

/**
 * One library's way of doing a scenario's work. `run(round)` does the work once and is the only timed part;
 * everything it needs (connections, seeded streams) is ready before the first round.
 */
export interface Contender {
  readonly library: Library
  /** What this contender is, in a word or two, when it differs from the library's default (e.g. `Persistence`). */
  readonly via?: string
  readonly run: (round: number) => Promise<void>
}

/**
 * How a scenario is reported: `ops` scenarios show operations per second (higher is better), `time` scenarios
 * show milliseconds per run (lower is better). Ratios are always "aett's speed divided by the other's".
 */
export type Unit = 'ops' | 'time'

export interface Scenario {
  /** Stable key, for tests and filters: `sqlite-wal-full/append-single`. */
  readonly id: string
  readonly title: string
  readonly unit: Unit
  /** Operations in one run (for `ops`: what is divided by the time). */
  readonly operations: number
  /** Seeds what the contenders read; not timed. */
  readonly setup?: () => Promise<void>
  readonly contenders: readonly Contender[]
  /** Why a library has no contender here (`Emmett not installed`, `no global read in Emmett`...). */
  readonly missing?: Partial<Record<Library, string>>
}

/** A backend's scenarios, sharing connections. `open` returns why it cannot run when the server is missing. */
export interface Suite {
  readonly id: string
  readonly title: string
  /** Lines for the report: journal and sync modes, emulator labels, what Emmett could not be set to. */
  readonly notes: readonly string[]
  readonly open: () => Promise<{ readonly skipped: string } | { readonly scenarios: readonly Scenario[] }>
  /** Drops what the suite created (schemas, files) and closes its connections. */
  readonly close: () => Promise<void>
}

/** One contender's timings in one scenario, in milliseconds per run. */
export interface Sample {
  readonly library: Library
  readonly via?: string
  readonly millis: readonly number[]
}

export interface ScenarioResult {
  readonly suite: string
  readonly id: string
  readonly title: string
  readonly unit: Unit
  readonly operations: number
  readonly samples: readonly Sample[]
  readonly missing: Partial<Record<Library, string>>
  /** Contenders that threw, with the message; they stop running, the others go on. */
  readonly failed: Partial<Record<Library, string>>
  /** Set when the scenario itself (its setup) failed; the other scenarios still run. */
  readonly error?: string
}

export interface SuiteResult {
  readonly id: string
  readonly title: string
  readonly notes: readonly string[]
  readonly skipped?: string
  readonly scenarios: readonly ScenarioResult[]
}
