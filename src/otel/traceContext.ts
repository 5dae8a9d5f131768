import { context, createTraceState, isSpanContextValid, trace, type Context, type Link, type SpanContext } from '@opentelemetry/api'
import type { Headers } from '../eventstore/Json.js'

// Trace context as stored with a commit: the W3C `traceparent` (and `tracestate`) header values, written and read
// here directly rather than through the global propagator, so that what is stored does not depend on which
// propagator a process registered (and a store written by one service is read alike by another).

/** The commit header keys, named as the W3C Trace Context headers so that a forwarder can copy them as they are. */
export const TRACEPARENT = 'traceparent'
export const TRACESTATE = 'tracestate'

/** Anything that carries commit headers: a `Commit`, a `CommitAttempt`. */
export interface WithHeaders {
  readonly headers: Headers
}

const hex2 = (n: number): string => (n & 0xff).toString(16).padStart(2, '0')

/** The `traceparent` value of a span context (version 00). */
export const formatTraceparent = (sc: SpanContext): string => `00-${sc.traceId}-${sc.spanId}-${hex2(sc.traceFlags)}`

const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/

/** A remote span context from a `traceparent` value (and a `tracestate`), or `undefined` when it is not valid. */
export const parseTraceparent = (traceparent: unknown, tracestate?: unknown): SpanContext | undefined => {
  if (typeof traceparent !== 'string') return undefined
  const m = traceparentPattern.exec(traceparent.trim())
  if (m === null) return undefined
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined]
  // Version ff is forbidden; version 00 has exactly four fields; later versions may add fields after them.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined
  const sc: SpanContext = {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16),
    isRemote: true,
    ...(typeof tracestate === 'string' && tracestate.length > 0 ? { traceState: createTraceState(tracestate) } : {}),
  }
  return isSpanContextValid(sc) ? sc : undefined
}

/** The trace context headers of a span context: `traceparent`, and `tracestate` when it has entries. */
export const headersOf = (sc: SpanContext): Headers => {
  const state = sc.traceState?.serialize()
  return state === undefined || state.length === 0 ? { [TRACEPARENT]: formatTraceparent(sc) } : { [TRACEPARENT]: formatTraceparent(sc), [TRACESTATE]: state }
}

/**
 * The trace context headers of the active span (`{}` when there is none), e.g. to pass as a command's `headers`
 * when the store itself is not traced: `handle(id, command, { headers: traceHeaders() })`.
 */
export const traceHeaders = (ctx: Context = context.active()): Headers => {
  const sc = trace.getSpanContext(ctx)
  return sc !== undefined && isSpanContextValid(sc) ? headersOf(sc) : {}
}

/** The span context stored with a commit (by `tracedStore`, or `traceHeaders`), or `undefined` when it has none. */
export const commitContext = (commit: WithHeaders): SpanContext | undefined =>
  parseTraceparent(commit.headers[TRACEPARENT], commit.headers[TRACESTATE])

/** Attributes a link to a commit carries, when the commit says where it is. */
interface CommitPlace extends WithHeaders {
  readonly streamId?: string
  readonly checkpointToken?: number
}

/**
 * A span link to the span that wrote a commit, for the spans of what processes it (a subscription batch, a
 * forward): the trace of a command then leads to its effects. `undefined` when the commit carries no trace
 * context.
 */
export const linkToCommit = (commit: CommitPlace): Link | undefined => {
  const sc = commitContext(commit)
  if (sc === undefined) return undefined
  const attributes: Record<string, string | number> = {}
  if (typeof commit.streamId === 'string') attributes['aett.stream.id'] = commit.streamId
  if (typeof commit.checkpointToken === 'number') attributes['aett.checkpoint'] = commit.checkpointToken
  return { context: sc, attributes }
}

/**
 * A context whose parent span is the one that wrote the commit, to continue its trace rather than link to it
 * (one commit processed on its own, e.g. a forward).
 */
export const contextFromCommit = (commit: WithHeaders, base: Context = context.active()): Context => {
  const sc = commitContext(commit)
  return sc === undefined ? base : trace.setSpanContext(base, sc)
}
