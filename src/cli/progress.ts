/**
 * Progress on stderr, only when stderr is a terminal (so that a log file or a pipe gets no control characters):
 * a bar with percentage and ETA when the total is known, a running count with its rate otherwise.
 */
export interface Progress {
  /** `value` counts toward `total` (tokens, bytes, events); `events` is shown beside it. */
  update(value: number, events: number): void
  /** Shows the final figures (when given) and leaves the line on the terminal. */
  stop(value?: number, events?: number): void
}

export interface ProgressOptions {
  /** `false` (`--no-progress`) turns it off even on a terminal. */
  readonly enabled: boolean
  /** What `value` counts, for the label: `tokens`, `bytes`, `events`. */
  readonly unit: string
  readonly total: number | undefined
  readonly title: string
}

const none: Progress = { update: () => undefined, stop: () => undefined }

const rateOf = (events: number, started: number): string => {
  const s = (Date.now() - started) / 1000
  return s > 0 ? String(Math.round(events / s)) : '0'
}

/** A progress display on stderr, or nothing when stderr is not a TTY. */
export const progress = async (options: ProgressOptions): Promise<Progress> => {
  if (!options.enabled || process.stderr.isTTY !== true) return none
  const { default: cliProgress } = await import('cli-progress')
  const known = options.total !== undefined && options.total > 0
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: known
        ? `${options.title} {bar} {percentage}% | {events} events | {rate} events/s | ETA {eta_formatted}`
        : `${options.title} {value} ${options.unit} | {events} events | {rate} events/s | {duration_formatted}`,
      hideCursor: true,
      etaBuffer: 100,
      fps: 5,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  )
  const started = Date.now()
  bar.start(known ? (options.total as number) : 0, 0, { events: 0, rate: '0' })
  let last = 0
  return {
    update: (value, events) => {
      const now = Date.now()
      if (now - last < 100) return
      last = now
      bar.update(known ? Math.min(value, options.total as number) : value, { events, rate: rateOf(events, started) })
    },
    stop: (value, events) => {
      if (value !== undefined && events !== undefined) {
        bar.update(known ? Math.min(value, options.total as number) : value, { events, rate: rateOf(events, started) })
      }
      bar.stop()
    },
  }
}
