import { context, SpanKind, type Attributes, type Context, type Span } from '@opentelemetry/api'
import type { Commit, CommitAttempt } from '../eventstore/Commit.js'
import type { EventStore, Latest } from '../eventstore/ports.js'
import type { Reads } from '../eventstore/reads.js'
import type { StreamHead } from '../eventstore/Snapshot.js'
import { scopeOf, type OperationScope } from './scope.js'
import { delegate } from './delegate.js'
import { ATTR, endWith, endWithThrow, hasSpan, instrumentsOf, runIn, tracerOf, withSpan, type TelemetryOptions } from './telemetry.js'
import { headersOf, TRACEPARENT } from './traceContext.js'

// -------------------------------------------------------------------------------------
// options
// -------------------------------------------------------------------------------------

export interface TracedStoreOptions extends TelemetryOptions {
  /** The store's name in span names and the `aett.store` attribute; the store's own `name` by default. */
  readonly name?: string
  /** The `db.system` / `db.system.name` value; derived from the store's name by default (`postgres` is `postgresql`). */
  readonly dbSystem?: string
  /**
   * Whether a commit stores the trace context it was written in, as `traceparent` (and `tracestate`) headers of
   * the commit; `true` by default. A commit whose attempt has a `traceparent` header already keeps it.
   */
  readonly propagate?: boolean
  /**
   * Whether the feed reads (`getFrom`, `getFromTo`) have spans; `true` by default. A polling subscription reads
   * the feed every few hundred milliseconds even when nothing is new: `false` keeps those spans out (their events
   * are still counted).
   */
  readonly feedReads?: boolean
}

/** The names the kit's stores have, and their semantic-convention systems: [legacy `db.system`, `db.system.name`]. */
const systems: Readonly<Record<string, readonly [string, string]>> = {
  sqlite: ['sqlite', 'sqlite'],
  postgres: ['postgresql', 'postgresql'],
  postgresql: ['postgresql', 'postgresql'],
  mysql: ['mysql', 'mysql'],
  mariadb: ['mariadb', 'mariadb'],
  dynamodb: ['dynamodb', 'aws.dynamodb'],
}

const keyOf = (a: CommitAttempt): string => `${a.tenantId}\u0000${a.streamId}\u0000${a.commitId}`

/** How many conflicted commit ids are remembered to recognise their retries (oldest forgotten first). */
const RETRY_MEMORY = 1024

// -------------------------------------------------------------------------------------
// the decorator
// -------------------------------------------------------------------------------------

/**
 * Wraps a store (any `EventStore`: a `Persistence`, a store shell, a user's own) with spans and metrics, and
 * returns the same type: repositories and event streams take it unchanged, and members beyond the port
 * (`subscriptions`, `onCommit`, `close`, ...) are the wrapped store's.
 *
 * - a span per operation (kind CLIENT): `commit <store>`, `get <store>`, `getSnapshot <store>`, ...; a read's span
 *   covers its iteration and counts the commits and events read; a `Left` sets status ERROR and `error.type`;
 * - the trace context of the append span is stored in the commit's headers (`traceparent`, `tracestate`), so that
 *   whatever processes the commit can link to the command that wrote it (`linkToCommit`);
 * - metrics: `aett.append.duration` (s), `aett.append.conflicts`, `aett.append.retries` (appends of a commit id
 *   that met a conflict before), `aett.events.read`.
 *
 * @example
 * const store = tracedStore(memoryStore())
 * const accounts = tracedRepository(deciderRepository({ decider, topics, store }), { name: 'account' })
 */
export const tracedStore = <S extends EventStore>(store: S, options: TracedStoreOptions = {}): S => {
  const tracer = tracerOf(options)
  const instruments = instrumentsOf(options)
  const name = options.name ?? (typeof (store as { name?: unknown }).name === 'string' ? (store as unknown as { name: string }).name : 'store')
  const [legacySystem, system] = options.dbSystem === undefined ? (systems[name] ?? [name, name]) : [options.dbSystem, options.dbSystem]
  const propagate = options.propagate !== false
  const base: Attributes = { [ATTR.dbSystem]: legacySystem, [ATTR.dbSystemName]: system, [ATTR.store]: name }
  const metricBase: Attributes = { [ATTR.dbSystemName]: system, [ATTR.store]: name }
  const readMetric: Record<string, Attributes> = {}
  const readMetricOf = (operation: string): Attributes => (readMetric[operation] ??= { ...metricBase, [ATTR.dbOperation]: operation })
  const appendMetric: Record<string, Attributes> = {}
  const appendMetricOf = (outcome: string): Attributes => (appendMetric[outcome] ??= { ...metricBase, [ATTR.outcome]: outcome })
  const spanNames: Record<string, string> = {}
  const spanName = (operation: string): string => (spanNames[operation] ??= `${operation} ${name}`)
  /** Commit ids that met a conflict, with how many attempts they have had. */
  const conflicted = new Map<string, number>()

  const start = (operation: string, parent: Context, attributes: () => Attributes): Span => {
    const span = tracer.startSpan(spanName(operation), { kind: SpanKind.CLIENT }, parent)
    if (span.isRecording()) {
      span.setAttributes(base)
      span.setAttribute(ATTR.dbOperation, operation)
      span.setAttributes(attributes())
    }
    return span
  }

  /**
   * A promise-returning operation: its span, run in the span's context, ended with its outcome. With nothing to
   * record (a span that does not record, no meter, no repository scope) the call is all there is: a span that does
   * not record needs no `end()`.
   */
  const operation = <R extends { readonly _tag: 'Left'; readonly left: unknown } | { readonly _tag: 'Right'; readonly right: unknown }>(
    op: string,
    attributes: () => Attributes,
    call: () => Promise<R>,
    after?: (span: Span, r: R, scope: OperationScope | undefined) => void,
  ): Promise<R> => {
    const parent = context.active()
    const span = start(op, parent, attributes)
    const scope = scopeOf(parent)
    const ctx = withSpan(parent, span)
    if (scope === undefined && !span.isRecording()) return runIn(ctx, parent, call)
    if (scope !== undefined) scope.ops += 1
    return runIn(ctx, parent, call).then(
      (r) => {
        after?.(span, r, scope)
        endWith(span, r)
        return r
      },
      (cause: unknown) => {
        endWithThrow(span, cause)
        throw cause
      },
    )
  }

  /**
   * A read: its span starts when it is iterated and ends with the iteration (done, a `Left`, or a `break`). With
   * nothing to record or count, the store's own iterator is handed out as it is.
   */
  const iterate: Iterate = (op, reads, attributes, count, commits, seen) => {
    const parent = context.active()
    const span = start(op, parent, attributes)
    const ctx = withSpan(parent, span)
    const scope = scopeOf(parent)
    if (scope === undefined && !span.isRecording() && !instruments().live) {
      return ctx === parent ? reads[Symbol.asyncIterator]() : context.with(ctx, () => reads[Symbol.asyncIterator]())
    }
    if (scope !== undefined) scope.ops += 1
    const iterator = runIn(ctx, parent, () => reads[Symbol.asyncIterator]())
    if (seen !== undefined) seen.start(span, scope)
    let items = 0
    let events = 0
    let open = true
    const close = (complete: boolean, failure?: { readonly _tag: 'Left'; readonly left: unknown }): void => {
      if (!open) return
      open = false
      if (events > 0) instruments().eventsRead.add(events, readMetricOf(op))
      if (scope !== undefined && commits) {
        scope.commitsRead += items
        scope.eventsRead += events
      }
      if (span.isRecording()) {
        span.setAttribute(ATTR.dbReturnedRows, items)
        span.setAttribute(commits ? ATTR.commitsRead : ATTR.itemsRead, items)
        if (commits) span.setAttribute(ATTR.eventsRead, events)
        if (!complete) span.setAttribute(ATTR.complete, false)
      }
      endWith(span, failure ?? { _tag: 'Right', right: undefined })
    }
    return {
      next: () =>
        runIn(ctx, parent, () => iterator.next()).then(
          (step) => {
            if (step.done === true) close(true)
            else if (step.value._tag === 'Left') close(true, step.value)
            else if (seen === undefined || seen.item(step.value.right, span, scope)) {
              items += 1
              events += count(step.value.right)
            }
            return step
          },
          (cause: unknown) => {
            if (open) {
              open = false
              endWithThrow(span, cause)
            }
            throw cause
          },
        ),
      return: (value?: unknown) => {
        close(false)
        const done = iterator.return
        return done === undefined ? Promise.resolve({ done: true as const, value: undefined }) : runIn(ctx, parent, () => done.call(iterator, value))
      },
    }
  }

  const read = <A>(op: string, reads: Reads<A>, attributes: () => Attributes, count: (a: A) => number, commits: boolean, seen?: Seen<A>): Reads<A> =>
    new TracedReads(iterate, op, reads, attributes, count, commits, seen)

  /** `readLatest`: its snapshot is reported as `getSnapshot` reports one, and only its commits count as commits read. */
  const latestSeen: Seen<Latest> = {
    start: (span, scope) => {
      if (scope !== undefined) scope.snapshotRevision = undefined
      if (span.isRecording()) span.setAttribute(ATTR.snapshotFound, false)
    },
    item: (item, span, scope) => {
      if (item._tag === 'Commit') return true
      if (scope !== undefined) scope.snapshotRevision = item.snapshot.streamRevision
      if (span.isRecording()) {
        span.setAttribute(ATTR.snapshotFound, true)
        span.setAttribute(ATTR.snapshotRevision, item.snapshot.streamRevision)
      }
      return false
    },
  }
  const latestEvents = (item: Latest): number => (item._tag === 'Commit' ? item.commit.events.length : 0)

  const commitEvents = (c: Commit): number => c.events.length
  const none = (): number => 0

  const withTraceContext = (attempt: CommitAttempt, span: Span): CommitAttempt => {
    const sc = span.spanContext()
    if (!hasSpan(sc) || attempt.headers[TRACEPARENT] !== undefined) return attempt
    return { ...attempt, headers: { ...attempt.headers, ...headersOf(sc) } }
  }

  const overrides: Partial<EventStore> = {
    commit: (attempt) => {
      const key = conflicted.size > 0 ? keyOf(attempt) : undefined
      const earlier = key === undefined ? undefined : conflicted.get(key)
      const attemptNo = earlier === undefined ? 1 : earlier + 1
      if (attemptNo > 1) instruments().retries.add(1, metricBase)
      const parent = context.active()
      const span = start('commit', parent, () => ({
        [ATTR.tenant]: attempt.tenantId,
        [ATTR.stream]: attempt.streamId,
        [ATTR.commitId]: attempt.commitId,
        [ATTR.revision]: attempt.streamRevision,
        [ATTR.sequence]: attempt.commitSequence,
        [ATTR.eventCount]: attempt.events.length,
        [ATTR.attempt]: attemptNo,
      }))
      const scope = scopeOf(parent)
      if (scope !== undefined) {
        scope.ops += 1
        scope.attempts += 1
      }
      const sent = propagate ? withTraceContext(attempt, span) : attempt
      const measure = instruments()
      const ctx = withSpan(parent, span)
      if (scope === undefined && !measure.live && !span.isRecording()) return runIn(ctx, parent, () => store.commit(sent))
      const started = measure.live ? performance.now() : 0
      return runIn(ctx, parent, () => store.commit(sent)).then(
        (r) => {
          const tag = r._tag === 'Left' ? r.left._tag : 'ok'
          if (measure.live) measure.appendDuration.record((performance.now() - started) / 1000, appendMetricOf(tag))
          if (tag === 'ConcurrencyConflict') {
            measure.conflicts.add(1, metricBase)
            if (scope !== undefined) scope.conflicts += 1
            const k = key ?? keyOf(attempt)
            conflicted.delete(k)
            conflicted.set(k, attemptNo)
            if (conflicted.size > RETRY_MEMORY) conflicted.delete(conflicted.keys().next().value as string)
          } else if (key !== undefined) conflicted.delete(key)
          if (r._tag === 'Right' && span.isRecording()) span.setAttribute(ATTR.checkpoint, r.right.checkpointToken)
          endWith(span, r)
          return r
        },
        (cause: unknown) => {
          endWithThrow(span, cause)
          throw cause
        },
      )
    },

    get: (tenantId, streamId, range) =>
      read(
        'get',
        store.get(tenantId, streamId, range),
        () => ({
          [ATTR.tenant]: tenantId,
          [ATTR.stream]: streamId,
          ...(range?.minRevision === undefined ? {} : { [ATTR.minRevision]: range.minRevision }),
          ...(range?.maxRevision === undefined ? {} : { [ATTR.maxRevision]: range.maxRevision }),
        }),
        commitEvents,
        true,
      ),

    getTo: (tenantId, streamId, maxTime) =>
      read('getTo', store.getTo(tenantId, streamId, maxTime), () => ({ [ATTR.tenant]: tenantId, [ATTR.stream]: streamId, [ATTR.maxTime]: timeOf(maxTime) }), commitEvents, true),

    getAllTo: (tenantId, maxTime) =>
      read('getAllTo', store.getAllTo(tenantId, maxTime), () => ({ [ATTR.tenant]: tenantId, [ATTR.maxTime]: timeOf(maxTime) }), commitEvents, true),

    getFrom: (checkpoint, tenantId) =>
      options.feedReads === false
        ? counted('getFrom', store.getFrom(checkpoint, tenantId))
        : read(
            'getFrom',
            store.getFrom(checkpoint, tenantId),
            () => ({ [ATTR.fromCheckpoint]: checkpoint, ...(tenantId === undefined ? {} : { [ATTR.tenant]: tenantId }) }),
            commitEvents,
            true,
          ),

    getFromTo: (from, to, tenantId) =>
      options.feedReads === false
        ? counted('getFromTo', store.getFromTo(from, to, tenantId))
        : read(
            'getFromTo',
            store.getFromTo(from, to, tenantId),
            () => ({ [ATTR.fromCheckpoint]: from, [ATTR.toCheckpoint]: to, ...(tenantId === undefined ? {} : { [ATTR.tenant]: tenantId }) }),
            commitEvents,
            true,
          ),

    getSnapshot: (tenantId, streamId, maxRevision) =>
      operation(
        'getSnapshot',
        () => ({ [ATTR.tenant]: tenantId, [ATTR.stream]: streamId, ...(maxRevision === undefined ? {} : { [ATTR.maxRevision]: maxRevision }) }),
        () => store.getSnapshot(tenantId, streamId, maxRevision),
        (span, r, scope) => {
          if (r._tag === 'Left') return
          const found = r.right._tag === 'Some' ? r.right.value : undefined
          if (scope !== undefined) scope.snapshotRevision = found?.streamRevision
          if (span.isRecording()) {
            span.setAttribute(ATTR.snapshotFound, found !== undefined)
            if (found !== undefined) span.setAttribute(ATTR.snapshotRevision, found.streamRevision)
          }
        },
      ),

    addSnapshot: (snapshot) =>
      operation(
        'addSnapshot',
        () => ({
          [ATTR.tenant]: snapshot.tenantId,
          [ATTR.stream]: snapshot.streamId,
          [ATTR.snapshotRevision]: snapshot.streamRevision,
          [ATTR.sequence]: snapshot.commitSequence,
        }),
        () => store.addSnapshot(snapshot),
      ),

    streamsToSnapshot: (tenantId, threshold) =>
      read('streamsToSnapshot', store.streamsToSnapshot(tenantId, threshold), () => ({ [ATTR.tenant]: tenantId, [ATTR.threshold]: threshold }), none as (h: StreamHead) => number, false),
  }

  /** A feed read without a span: its events are still counted. */
  const counted = (op: string, reads: Reads<Commit>): Reads<Commit> => ({
    [Symbol.asyncIterator]: () => {
      const iterator = reads[Symbol.asyncIterator]()
      let events = 0
      const flush = () => {
        if (events > 0) instruments().eventsRead.add(events, readMetricOf(op))
        events = 0
      }
      return {
        next: () =>
          iterator.next().then((step) => {
            if (step.done === true || step.value._tag === 'Left') flush()
            else events += step.value.right.events.length
            return step
          }),
        return: (value?: unknown) => {
          flush()
          const done = iterator.return
          return done === undefined ? Promise.resolve({ done: true as const, value: undefined }) : done.call(iterator, value)
        },
      }
    },
  })

  // The management operations of a `Persistence`, when the store has them: spans, no metrics.
  const management = store as Partial<Record<'initialize' | 'drop' | 'purge' | 'deleteStream', (...args: never[]) => unknown>>
  const extra: Record<string, unknown> = {}
  const manage = (op: 'initialize' | 'drop' | 'purge' | 'deleteStream', attributes: (args: readonly unknown[]) => Attributes): void => {
    const f = management[op]
    if (typeof f !== 'function') return
    extra[op] = (...args: unknown[]) =>
      operation(
        op,
        () => attributes(args),
        () => (f as (...a: unknown[]) => Promise<{ readonly _tag: 'Left'; readonly left: unknown } | { readonly _tag: 'Right'; readonly right: unknown }>).apply(store, args),
      )
  }
  manage('initialize', () => ({}))
  manage('drop', () => ({}))
  manage('purge', ([tenantId]) => (typeof tenantId === 'string' ? { [ATTR.tenant]: tenantId } : {}))
  manage('deleteStream', ([tenantId, streamId]) => ({ [ATTR.tenant]: String(tenantId), [ATTR.stream]: String(streamId) }))

  // The one-statement load, when the store has it (a store without it must not seem to have it).
  const readLatest = store.readLatest
  if (readLatest !== undefined) {
    extra['readLatest'] = (tenantId: string, streamId: string, maxRevision?: number): Reads<Latest> =>
      read(
        'readLatest',
        readLatest.call(store, tenantId, streamId, maxRevision),
        () => ({ [ATTR.tenant]: tenantId, [ATTR.stream]: streamId, ...(maxRevision === undefined ? {} : { [ATTR.maxRevision]: maxRevision }) }),
        latestEvents,
        true,
        latestSeen,
      )
  }

  return delegate(store, { ...overrides, ...extra } as Partial<S>)
}

type Either<A> = Reads<A> extends AsyncIterable<infer R> ? R : never
type Iterate = <A>(op: string, reads: Reads<A>, attributes: () => Attributes, count: (a: A) => number, commits: boolean, seen?: Seen<A>) => AsyncIterator<Either<A>>

/** Looks at the items of a read as they pass (its span and the repository scope); `item` says whether one counts. */
interface Seen<A> {
  readonly start: (span: Span, scope: OperationScope | undefined) => void
  readonly item: (a: A, span: Span, scope: OperationScope | undefined) => boolean
}

/** A read as handed out: a class, so that a read costs one small object until it is iterated. */
class TracedReads<A> implements AsyncIterable<Either<A>> {
  constructor(
    private readonly iterate: Iterate,
    private readonly op: string,
    private readonly reads: Reads<A>,
    private readonly attributes: () => Attributes,
    private readonly count: (a: A) => number,
    private readonly commits: boolean,
    private readonly seen?: Seen<A>,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<Either<A>> {
    return this.iterate(this.op, this.reads, this.attributes, this.count, this.commits, this.seen)
  }
}

const timeOf = (d: Date): string => (Number.isNaN(d.getTime()) ? String(d) : d.toISOString())
