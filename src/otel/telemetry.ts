import {
  context,
  createNoopMeter,
  INVALID_SPAN_CONTEXT,
  INVALID_SPANID,
  INVALID_TRACEID,
  metrics,
  SpanStatusCode,
  trace,
  ValueType,
  type Attributes,
  type Context,
  type Counter,
  type Histogram,
  type MeterProvider,
  type Span,
  type SpanContext,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api'

// The one place the decorators talk to `@opentelemetry/api`: which tracer and meter, the instruments, the
// attribute names, and how an outcome (an `Either`, or a throw) ends a span. Without an SDK registered the API
// answers with its no-op tracer and meter, so that every decorator costs a few calls and allocates no attributes.

// -------------------------------------------------------------------------------------
// options
// -------------------------------------------------------------------------------------

/** Where the decorators send spans and measurements; the globally registered providers by default. */
export interface TelemetryOptions {
  readonly tracerProvider?: TracerProvider
  readonly meterProvider?: MeterProvider
}

/** The instrumentation scope of every span and instrument of the kit. */
export const INSTRUMENTATION_SCOPE = 'aett'

/**
 * The tracer of the kit. The global one is the API's proxy: it finds an SDK registered after the decorator was
 * built (and keeps answering no-op spans until then).
 */
export const tracerOf = (options: TelemetryOptions): Tracer =>
  options.tracerProvider === undefined ? trace.getTracer(INSTRUMENTATION_SCOPE) : options.tracerProvider.getTracer(INSTRUMENTATION_SCOPE)

// -------------------------------------------------------------------------------------
// attribute names
// -------------------------------------------------------------------------------------

/**
 * The attributes the decorators set. Database attributes follow the OpenTelemetry semantic conventions (both the
 * stable `db.system.name` and the older `db.system`, which many back ends still query); the kit's own are under
 * `aett.`.
 */
export const ATTR = {
  dbSystem: 'db.system',
  dbSystemName: 'db.system.name',
  dbOperation: 'db.operation.name',
  dbReturnedRows: 'db.response.returned_rows',
  errorType: 'error.type',
  messagingOperation: 'messaging.operation.type',
  messagingBatchCount: 'messaging.batch.message_count',

  store: 'aett.store',
  tenant: 'aett.tenant.id',
  stream: 'aett.stream.id',
  commitId: 'aett.commit.id',
  revision: 'aett.stream.revision',
  sequence: 'aett.commit.sequence',
  checkpoint: 'aett.checkpoint',
  eventCount: 'aett.events.count',
  attempt: 'aett.commit.attempt',
  outcome: 'aett.outcome',
  errorMessage: 'aett.error.message',

  minRevision: 'aett.read.min_revision',
  maxRevision: 'aett.read.max_revision',
  maxTime: 'aett.read.max_time',
  fromCheckpoint: 'aett.read.from_checkpoint',
  toCheckpoint: 'aett.read.to_checkpoint',
  threshold: 'aett.read.threshold',
  commitsRead: 'aett.commits.read',
  eventsRead: 'aett.events.read',
  itemsRead: 'aett.items.read',
  complete: 'aett.read.complete',

  snapshotFound: 'aett.snapshot.found',
  snapshotRevision: 'aett.snapshot.revision',

  repository: 'aett.repository',
  operation: 'aett.operation',
  commandType: 'aett.command.type',
  eventType: 'aett.event.type',
  expectedVersion: 'aett.expected_version',
  version: 'aett.version',
  fromSnapshot: 'aett.load.from_snapshot',
  loadSnapshotRevision: 'aett.load.snapshot_revision',
  attempts: 'aett.commit.attempts',
  retries: 'aett.retries',
  conflicts: 'aett.conflicts',
  rejection: 'aett.rejection',
  missedCommits: 'aett.conflict.missed_commits',
  expected: 'aett.expected',
  actual: 'aett.actual',
  commands: 'aett.commands.count',
  snapshotFailure: 'aett.snapshot.failure',

  subscription: 'aett.subscription',
  firstCheckpoint: 'aett.batch.first_checkpoint',
  lastCheckpoint: 'aett.batch.last_checkpoint',
  lag: 'aett.subscription.lag',
} as const

/** The names of the instruments. */
export const METRIC = {
  appendDuration: 'aett.append.duration',
  conflicts: 'aett.append.conflicts',
  retries: 'aett.append.retries',
  eventsRead: 'aett.events.read',
  commandDuration: 'aett.command.duration',
  subscriptionLag: 'aett.subscription.lag',
} as const

// -------------------------------------------------------------------------------------
// instruments
// -------------------------------------------------------------------------------------

export interface Instruments {
  /** False on the API's no-op meter (no SDK): then nothing is measured, not even the clock read. */
  readonly live: boolean
  readonly appendDuration: Histogram
  readonly conflicts: Counter
  readonly retries: Counter
  readonly eventsRead: Counter
  readonly commandDuration: Histogram
}

/** Bucket bounds in seconds for operations that take from tens of microseconds to a few seconds. */
const durationBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

const createInstruments = (provider: MeterProvider): Instruments => {
  const meter = provider.getMeter(INSTRUMENTATION_SCOPE)
  // `advice` is read by SDKs that know it (API 1.7 and later) and ignored by older ones.
  const seconds = { unit: 's', valueType: ValueType.DOUBLE, advice: { explicitBucketBoundaries: durationBuckets } }
  return {
    // The API hands out one no-op meter, whatever the name (1.3 and later).
    live: meter !== createNoopMeter(),
    appendDuration: meter.createHistogram(METRIC.appendDuration, { ...seconds, description: 'Duration of commit appends, by store and outcome' }),
    conflicts: meter.createCounter(METRIC.conflicts, {
      unit: '{conflict}',
      valueType: ValueType.INT,
      description: 'Appends answered ConcurrencyConflict (another writer got there first)',
    }),
    retries: meter.createCounter(METRIC.retries, {
      unit: '{retry}',
      valueType: ValueType.INT,
      description: 'Appends of a commit id that met a concurrency conflict before (the repository retrying)',
    }),
    eventsRead: meter.createCounter(METRIC.eventsRead, { unit: '{event}', valueType: ValueType.INT, description: 'Events read from the store' }),
    commandDuration: meter.createHistogram(METRIC.commandDuration, { ...seconds, description: 'Duration of commands and saves, by repository and outcome' }),
  }
}

/**
 * The instruments on the current meter provider. The metrics API has no proxy meter, so the global provider is
 * asked again on every use (one property read): an SDK registered after the decorator was built is still found.
 */
export const instrumentsOf = (options: TelemetryOptions): (() => Instruments) => {
  let provider: MeterProvider | undefined
  let instruments: Instruments | undefined
  return () => {
    const current = options.meterProvider ?? metrics.getMeterProvider()
    if (current !== provider || instruments === undefined) {
      provider = current
      instruments = createInstruments(current)
    }
    return instruments
  }
}

// -------------------------------------------------------------------------------------
// spans
// -------------------------------------------------------------------------------------

type Tagged = { readonly _tag: string }
type EitherLike = { readonly _tag: 'Left'; readonly left: unknown } | { readonly _tag: 'Right'; readonly right: unknown }

/** The tag of a failure value, or `Error` for something without one. */
export const tagOf = (e: unknown): string =>
  typeof e === 'object' && e !== null && typeof (e as Partial<Tagged>)._tag === 'string' ? (e as Tagged)._tag : typeof e === 'string' ? e : 'Error'

/**
 * Ends a span with an `Either`'s outcome: a `Left` sets status ERROR with the error's tag (and `error.type`, and
 * its message when it has one); a `Right` sets `aett.outcome` to its `_tag` when it has one, `ok` otherwise.
 */
export const endWith = (span: Span, r: EitherLike): void => {
  if (r._tag === 'Left') {
    const tag = tagOf(r.left)
    span.setStatus({ code: SpanStatusCode.ERROR, message: tag })
    if (span.isRecording()) {
      span.setAttribute(ATTR.errorType, tag)
      span.setAttribute(ATTR.outcome, tag)
      const message = (r.left as { message?: unknown } | null)?.message
      if (typeof message === 'string') span.setAttribute(ATTR.errorMessage, message)
    }
  } else if (span.isRecording()) {
    const tag = (r.right as Partial<Tagged> | null | undefined)?._tag
    span.setAttribute(ATTR.outcome, typeof tag === 'string' ? tag : 'ok')
  }
  span.end()
}

/** Ends a span with a throw (which the kit's own code never does, but a user's handler may). */
export const endWithThrow = (span: Span, cause: unknown): void => {
  span.recordException(cause instanceof Error ? cause : String(cause))
  span.setStatus({ code: SpanStatusCode.ERROR, message: cause instanceof Error ? cause.message : String(cause) })
  if (span.isRecording()) span.setAttribute(ATTR.errorType, cause instanceof Error ? cause.name : 'Error')
  span.end()
}

/**
 * Whether a span context names a span: the no-op API's spans have the invalid context (the same object, or at least
 * its all-zero ids). Cheaper than `isSpanContextValid`'s regular expressions, which the hot path cannot afford; the
 * SDK and `parseTraceparent` only ever make well-formed ids.
 */
export const hasSpan = (sc: SpanContext): boolean => sc !== INVALID_SPAN_CONTEXT && sc.traceId !== INVALID_TRACEID && sc.spanId !== INVALID_SPANID

/**
 * The context to run an operation in: `parent` with `span` as the active span, so that spans started inside (the
 * store's, a driver instrumentation's) are its children. `parent` itself when `span` has no valid context (the
 * no-op API), which saves the context copy.
 */
export const withSpan = (parent: Context, span: Span): Context => (hasSpan(span.spanContext()) ? trace.setSpan(parent, span) : parent)

/** Runs `f` in `ctx`, skipping the context API when `ctx` is the active one already. */
export const runIn = <A>(ctx: Context, parent: Context, f: () => A): A => (ctx === parent ? f() : context.with(ctx, f))

export type { Attributes }
