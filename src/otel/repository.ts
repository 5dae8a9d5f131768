import { context, SpanKind, type Attributes, type Span } from '@opentelemetry/api'
import { delegate } from './delegate.js'
import { newScope, withScope, type OperationScope } from './scope.js'
import { ATTR, endWith, endWithThrow, instrumentsOf, runIn, tagOf, tracerOf, withSpan, type TelemetryOptions } from './telemetry.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

type EitherLike = { readonly _tag: 'Left'; readonly left: unknown } | { readonly _tag: 'Right'; readonly right: unknown }
type Outcome = Promise<EitherLike>
type Task = () => Outcome

/** A functional face: `deciderRepository(...)` or `sagaRepository(...)` (anything with `handle` and `load` tasks). */
export interface FunctionalRepository {
  readonly handle: (id: string, input: never, options?: never) => Task
  readonly load: (id: string, ...rest: never[]) => Task
}

/** A class face: an `AggregateRepository` or a `SagaRepository` (anything with `either.get` and `either.save`). */
export interface ClassRepository {
  readonly either: {
    readonly get: (...args: never[]) => Outcome
    readonly save: (instance: never, options?: never) => Outcome
  }
}

/** Every repository face of `aett/domain`. */
export type RepositoryFace = FunctionalRepository | ClassRepository

export interface TracedRepositoryOptions extends TelemetryOptions {
  /**
   * The repository's name in span names (`handle account`) and the `aett.repository` attribute. By default
   * `aggregate` or `saga` for the functional faces, and the class's name for the class faces.
   */
  readonly name?: string
  /** The type of a command (or of a saga's event) as the `aett.command.type` attribute; its `type` or `kind` by default. */
  readonly typeOf?: (input: unknown) => string | undefined
}

const defaultTypeOf = (input: unknown): string | undefined => {
  if (typeof input !== 'object' || input === null) return undefined
  const { type, kind } = input as { type?: unknown; kind?: unknown }
  return typeof type === 'string' ? type : typeof kind === 'string' ? kind : undefined
}

// -------------------------------------------------------------------------------------
// outcomes as attributes
// -------------------------------------------------------------------------------------

const num = (span: Span, key: string, v: unknown): void => {
  if (typeof v === 'number') span.setAttribute(key, v)
}

/** What a `Right` tells: where the stream stands after a command, or what was loaded. */
const describeRight = (span: Span, v: unknown): void => {
  if (typeof v !== 'object' || v === null) return
  const o = v as Record<string, unknown>
  switch (o['_tag']) {
    case 'Appended': {
      num(span, ATTR.revision, o['revision'])
      num(span, ATTR.sequence, o['commitSequence'])
      num(span, ATTR.checkpoint, o['checkpoint'])
      if (Array.isArray(o['events'])) span.setAttribute(ATTR.eventCount, o['events'].length)
      if (Array.isArray(o['commands'])) span.setAttribute(ATTR.commands, o['commands'].length)
      if (o['snapshotFailure'] !== undefined) span.setAttribute(ATTR.snapshotFailure, tagOf(o['snapshotFailure']))
      return
    }
    case 'NothingToDo':
      num(span, ATTR.revision, o['revision'])
      return
    case 'AlreadyCommitted':
      if (typeof o['commitId'] === 'string') span.setAttribute(ATTR.commitId, o['commitId'])
      return
    default:
      // A loaded state (`StateAt`), a loaded instance, or a stored snapshot.
      num(span, ATTR.revision, o['version'] ?? o['streamRevision'])
      num(span, ATTR.sequence, o['commitSequence'])
  }
}

/** What a `Left` tells beyond its tag. */
const describeLeft = (span: Span, e: unknown): void => {
  if (typeof e !== 'object' || e === null) return
  const o = e as Record<string, unknown>
  switch (o['_tag']) {
    case 'Rejected':
      span.setAttribute(ATTR.rejection, tagOf(o['error']))
      return
    case 'ConflictDetected':
      if (Array.isArray(o['missed'])) span.setAttribute(ATTR.missedCommits, o['missed'].length)
      return
    case 'RetriesExhausted':
      num(span, ATTR.attempts, o['attempts'])
      return
    case 'WrongExpectedVersion':
      num(span, ATTR.expected, o['expected'])
      num(span, ATTR.actual, o['actual'])
      return
  }
}

/** What the traced store saw inside the operation (when it is traced and a context manager carries the scope). */
const describeScope = (span: Span, scope: OperationScope): void => {
  if (scope.ops === 0) return
  span.setAttribute(ATTR.commitsRead, scope.commitsRead)
  span.setAttribute(ATTR.eventsRead, scope.eventsRead)
  span.setAttribute(ATTR.fromSnapshot, scope.snapshotRevision !== undefined)
  if (scope.snapshotRevision !== undefined) span.setAttribute(ATTR.loadSnapshotRevision, scope.snapshotRevision)
  if (scope.attempts > 0) {
    span.setAttribute(ATTR.attempts, scope.attempts)
    span.setAttribute(ATTR.retries, scope.attempts - 1)
    span.setAttribute(ATTR.conflicts, scope.conflicts)
  }
}

// -------------------------------------------------------------------------------------
// the decorator
// -------------------------------------------------------------------------------------

const isClassFace = (r: object): r is ClassRepository => {
  const either = (r as { either?: unknown }).either
  return typeof either === 'object' && either !== null && typeof (either as { save?: unknown }).save === 'function'
}

const isFunctionalFace = (r: object): r is FunctionalRepository =>
  typeof (r as { handle?: unknown }).handle === 'function' && typeof (r as { load?: unknown }).load === 'function'

/**
 * Wraps a repository face with a span per operation (kind INTERNAL) and returns the same type, so the wrapped one
 * is used exactly as the original:
 * - `deciderRepository` / `sagaRepository`: `handle`, `load`, `loadAt`, `snapshot`, `snapshotAt`;
 * - `AggregateRepository` / `SagaRepository`: `get`, `getTo`, `save`, `snapshot`, `snapshotAt`, thrown or `either`.
 *
 * A span carries the stream id, the command's type, the outcome (`aett.outcome`: `Appended`, `NothingToDo`,
 * `AlreadyCommitted`, or the error's tag with status ERROR) and what the outcome tells (revision, checkpoint, a
 * rejection's own tag, the attempts of `RetriesExhausted`, ...). With the store traced too (`tracedStore`) and a
 * context manager registered, it also carries what only the store sees: commits and events read, whether the load
 * started from a snapshot, commit attempts, retries and conflicts. `handle` and `save` are measured by the
 * `aett.command.duration` histogram (s), by repository and outcome.
 */
export const tracedRepository = <R extends RepositoryFace>(repository: R, options: TracedRepositoryOptions = {}): R => {
  const tracer = tracerOf(options)
  const instruments = instrumentsOf(options)
  const typeOf = options.typeOf ?? defaultTypeOf
  /** Metric attributes by repository name, operation and outcome, built once each. */
  const metricAttrs = new Map<string, Map<string, Record<string, Attributes>>>()
  const metricOf = (name: string, op: string, outcome: string): Attributes => {
    let byOp = metricAttrs.get(name)
    if (byOp === undefined) metricAttrs.set(name, (byOp = new Map()))
    let byOutcome = byOp.get(op)
    if (byOutcome === undefined) byOp.set(op, (byOutcome = {}))
    return (byOutcome[outcome] ??= { [ATTR.repository]: name, [ATTR.operation]: op, [ATTR.outcome]: outcome })
  }
  const spanNames = new Map<string, Record<string, string>>()
  const spanNameOf = (op: string, name: string): string => {
    let byOp = spanNames.get(name)
    if (byOp === undefined) spanNames.set(name, (byOp = {}))
    return (byOp[op] ??= `${op} ${name}`)
  }

  /**
   * Runs one operation in its span: attributes and the scope only when the span records, the clock only when a
   * meter is there; with neither, the call is all there is (a span that does not record needs no `end()`).
   */
  const run = <T extends EitherLike>(
    name: string,
    op: string,
    attributes: () => Attributes,
    call: () => Promise<T>,
    measured: boolean,
  ): Promise<T> => {
    const parent = context.active()
    const span = tracer.startSpan(spanNameOf(op, name), { kind: SpanKind.INTERNAL }, parent)
    const recording = span.isRecording()
    const measure = measured ? instruments() : undefined
    const live = measure?.live === true
    let ctx = withSpan(parent, span)
    if (!recording && !live) return runIn(ctx, parent, call)
    const started = live ? performance.now() : 0
    let scope: OperationScope | undefined
    if (recording) {
      span.setAttribute(ATTR.repository, name)
      span.setAttribute(ATTR.operation, op)
      span.setAttributes(attributes())
      scope = newScope()
      ctx = withScope(ctx, scope)
    }
    return runIn(ctx, parent, call).then(
      (r) => {
        if (live) {
          const outcome = r._tag === 'Left' ? tagOf(r.left) : rightTag(r.right)
          measure?.commandDuration.record((performance.now() - started) / 1000, metricOf(name, op, outcome))
        }
        if (recording) {
          if (r._tag === 'Left') describeLeft(span, r.left)
          else describeRight(span, r.right)
          if (scope !== undefined) describeScope(span, scope)
          endWith(span, r)
        }
        return r
      },
      (cause: unknown) => {
        endWithThrow(span, cause)
        throw cause
      },
    )
  }

  if (isClassFace(repository)) return classFace(repository, options.name, run) as R
  if (!isFunctionalFace(repository)) throw new TypeError('tracedRepository: not a repository face (no `handle`/`load` tasks, no `either.save`)')

  const face = repository as unknown as Record<string, ((...args: unknown[]) => Task) | undefined>
  // A saga's functional face takes events (and has no snapshots); a decider's takes commands.
  const saga = typeof face['snapshot'] !== 'function'
  const name = options.name ?? (saga ? 'saga' : 'aggregate')
  const inputKey = saga ? ATTR.eventType : ATTR.commandType
  const overrides: Record<string, (...args: unknown[]) => Task> = {}
  const wrap = (op: string, attributes: (args: readonly unknown[]) => Attributes, measured = false): void => {
    const f = face[op]
    if (typeof f !== 'function') return
    overrides[op] = (...args: unknown[]) => () => run(name, op, () => ({ [ATTR.stream]: String(args[0]), ...attributes(args) }), () => f.apply(repository, args)(), measured)
  }
  wrap('load', ([, maxVersion]) => (typeof maxVersion === 'number' ? { [ATTR.maxRevision]: maxVersion } : {}))
  wrap('loadAt', ([, time]) => (time instanceof Date ? { [ATTR.maxTime]: timeOf(time) } : {}))
  wrap('snapshot', ([, version]) => (typeof version === 'number' ? { [ATTR.maxRevision]: version } : {}))
  wrap('snapshotAt', ([, time]) => (time instanceof Date ? { [ATTR.maxTime]: timeOf(time) } : {}))
  wrap('handle', ([, input, handleOptions]) => inputAttributes(inputKey, typeOf(input), handleOptions), true)
  return delegate(repository, overrides as Partial<R>)
}

type Run = <T extends EitherLike>(name: string, op: string, attributes: () => Attributes, call: () => Promise<T>, measured: boolean) => Promise<T>

/**
 * The class faces: their throwing methods call `this.either`, so the traced repository is the original one
 * underneath (its prototype) with traced `either` operations of its own; `instanceof` still holds.
 */
const classFace = (repository: ClassRepository, given: string | undefined, run: Run): ClassRepository => {
  const ops = repository.either as unknown as Record<string, ((...args: unknown[]) => Outcome) | undefined>
  const typeName = (t: unknown): string => given ?? (typeof t === 'function' && t.name !== '' ? t.name : 'instance')
  const overrides: Record<string, (...args: unknown[]) => Outcome> = {}
  const byType = (op: string, attributes: (args: readonly unknown[]) => Attributes): void => {
    const f = ops[op]
    if (typeof f !== 'function') return
    overrides[op] = (...args: unknown[]) =>
      run(typeName(args[0]), op, () => ({ [ATTR.stream]: String(args[1]), ...attributes(args) }), () => f.apply(repository.either, args), false)
  }
  byType('get', ([, , maxVersion]) => (typeof maxVersion === 'number' ? { [ATTR.maxRevision]: maxVersion } : {}))
  byType('getTo', ([, , time]) => (time instanceof Date ? { [ATTR.maxTime]: timeOf(time) } : {}))
  byType('snapshot', ([, , version]) => (typeof version === 'number' ? { [ATTR.maxRevision]: version } : {}))
  byType('snapshotAt', ([, , time]) => (time instanceof Date ? { [ATTR.maxTime]: timeOf(time) } : {}))
  const save = ops['save']
  if (typeof save === 'function') {
    overrides['save'] = (...args: unknown[]) => {
      const instance = args[0] as { readonly id?: unknown; readonly version?: unknown; readonly constructor?: unknown } | null
      return run(
        typeName(instance?.constructor),
        'save',
        () => ({
          [ATTR.stream]: String(instance?.id),
          ...(typeof instance?.version === 'number' ? { [ATTR.version]: instance.version } : {}),
          ...inputAttributes(ATTR.commandType, undefined, args[1]),
        }),
        () => save.apply(repository.either, args),
        true,
      )
    }
  }
  const either = delegate(repository.either as object, overrides)
  return Object.create(repository as object, { either: { value: either, enumerable: true } }) as ClassRepository
}

const rightTag = (v: unknown): string => {
  const tag = (v as { _tag?: unknown } | null | undefined)?._tag
  return typeof tag === 'string' ? tag : 'ok'
}

const inputAttributes = (key: string, type: string | undefined, options: unknown): Attributes => {
  const o = (typeof options === 'object' && options !== null ? options : {}) as { commitId?: unknown; expectedVersion?: unknown }
  return {
    ...(type === undefined ? {} : { [key]: type }),
    ...(typeof o.commitId === 'string' ? { [ATTR.commitId]: o.commitId } : {}),
    ...(typeof o.expectedVersion === 'number' ? { [ATTR.expectedVersion]: o.expectedVersion } : {}),
  }
}

const timeOf = (d: Date): string => (Number.isNaN(d.getTime()) ? String(d) : d.toISOString())
