import { context, ROOT_CONTEXT, SpanKind, type Link } from '@opentelemetry/api'
import type { Headers } from '../eventstore/Json.js'
import { ATTR, endWith, endWithThrow, runIn, tracerOf, withSpan, type TelemetryOptions } from './telemetry.js'
import { linkToCommit } from './traceContext.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What the batch span needs of a commit: its headers, and where it is when it says so. */
export interface CommitLike {
  readonly headers: Headers
  readonly streamId?: string
  readonly checkpointToken?: number
  readonly events?: readonly unknown[]
}

/** A batch item: a commit, or something that carries one (`{ commit, events }`, a decoded batch entry). */
export type BatchItem = CommitLike | { readonly commit: CommitLike }

type EitherLike = { readonly _tag: 'Left'; readonly left: unknown } | { readonly _tag: 'Right'; readonly right: unknown }

/** A batch handler as subscriptions call it: a batch of commits (and anything after it), answering an `Either`. */
export type BatchHandler<I extends BatchItem, A extends readonly unknown[], R extends EitherLike> = (batch: readonly I[], ...rest: A) => Promise<R>

export interface TracedHandlerOptions extends TelemetryOptions {
  /**
   * The subscription's name: the span is `process <name>` with an `aett.subscription` attribute. By default the
   * `name` of the batch context the handler is called with (`aett/subscriptions` passes one), if any.
   */
  readonly name?: string
  /**
   * Start every batch span as a root span (links only), whatever context is active when the handler is called;
   * `false` by default, so that a batch runs under the span of a traced subscription runtime when there is one.
   */
  readonly root?: boolean
}

const commitOf = (item: BatchItem): CommitLike | undefined => {
  if (typeof item !== 'object' || item === null) return undefined
  if ('headers' in item && typeof item.headers === 'object' && item.headers !== null) return item
  const inner = (item as { commit?: unknown }).commit
  return typeof inner === 'object' && inner !== null && typeof (inner as { headers?: unknown }).headers === 'object' ? (inner as CommitLike) : undefined
}

const nameOf = (batchContext: unknown): string | undefined => {
  const name = (batchContext as { name?: unknown } | null | undefined)?.name
  return typeof name === 'string' ? name : undefined
}

// -------------------------------------------------------------------------------------
// the decorator
// -------------------------------------------------------------------------------------

/**
 * Wraps a subscription's batch handler: each batch runs in a span `process <name>` (kind CONSUMER) that links to
 * the span that wrote each commit (its `traceparent` header, as `tracedStore` stores it), so that a trace leads
 * from a command to what handled its events. The handler runs in the span's context: commands it sends through
 * traced repositories are children of the batch. A `Left` sets status ERROR with its tag, a throw is recorded
 * and thrown again.
 *
 * @example
 * subscribe({ name: 'balances', store, handler: tracedHandler(async (commits) => E.right(undefined), { name: 'balances' }) })
 */
export const tracedHandler = <I extends BatchItem, A extends readonly unknown[], R extends EitherLike>(
  handler: BatchHandler<I, A, R>,
  options: TracedHandlerOptions = {},
): BatchHandler<I, A, R> => {
  const tracer = tracerOf(options)
  const names = new Map<string, string>()
  const spanNameOf = (name: string | undefined): string => {
    if (name === undefined) return 'process'
    let spanName = names.get(name)
    if (spanName === undefined) names.set(name, (spanName = `process ${name}`))
    return spanName
  }
  return (batch, ...rest) => {
    const name = options.name ?? nameOf(rest[0])
    const parent = options.root === true ? ROOT_CONTEXT : context.active()
    const links: Link[] = []
    let events = 0
    let first: number | undefined
    let last: number | undefined
    for (const item of batch) {
      const commit = commitOf(item)
      if (commit === undefined) continue
      const link = linkToCommit(commit)
      if (link !== undefined) links.push(link)
      if (Array.isArray(commit.events)) events += commit.events.length
      if (typeof commit.checkpointToken === 'number') {
        first ??= commit.checkpointToken
        last = commit.checkpointToken
      }
    }
    const span = tracer.startSpan(spanNameOf(name), { kind: SpanKind.CONSUMER, links }, parent)
    if (span.isRecording()) {
      span.setAttribute(ATTR.messagingOperation, 'process')
      span.setAttribute(ATTR.messagingBatchCount, batch.length)
      span.setAttribute(ATTR.eventsRead, events)
      if (name !== undefined) span.setAttribute(ATTR.subscription, name)
      if (first !== undefined) span.setAttribute(ATTR.firstCheckpoint, first)
      if (last !== undefined) span.setAttribute(ATTR.lastCheckpoint, last)
    }
    let result: Promise<R>
    try {
      result = runIn(withSpan(parent, span), context.active(), () => handler(batch, ...rest))
    } catch (cause) {
      endWithThrow(span, cause)
      throw cause
    }
    return result.then(
      (r) => {
        endWith(span, r)
        return r
      },
      (cause: unknown) => {
        endWithThrow(span, cause)
        throw cause
      },
    )
  }
}
