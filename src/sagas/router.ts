import * as E from 'fp-ts/lib/Either.js'
import { firstRevision, type Commit } from '../eventstore/Commit.js'
import type { TopicMap } from '../eventstore/codec/TopicMap.js'
import { invalidArgument, type InvalidArgument } from '../eventstore/errors.js'
import type { Headers } from '../eventstore/Json.js'
import { commitIdFrom } from '../domain/commitId.js'
import { replayParked } from '../subscriptions/manage.js'
import type { BatchContext } from '../subscriptions/options.js'
import type { ReplayError } from '../subscriptions/errors.js'
import type { ReplayReport } from '../subscriptions/parking.js'
import { subscribe, type Subscription } from '../subscriptions/subscribe.js'
import { answered, isObject, preparedOnce, runProblem, subscriptionOptions, type RunOptions } from './common.js'
import type { EventDecodeFailed, FeedFailed, RouteError } from './errors.js'
import { eventKey, ROUTED_FROM } from './keys.js'

type Typed = { readonly type: string }

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** One event of the log on its way to a saga. */
export interface Routed<Ev> {
  readonly event: Ev
  /** The event's own headers. */
  readonly headers: Headers
  /** The event's identity (`eventKey`): tenant, stream and revision. */
  readonly key: string
  /** `commitIdFrom(key)`: the commit id the saga stores the event under, so that a redelivery is `AlreadyCommitted`. */
  readonly commitId: string
  readonly revision: number
  /** The commit that holds the event. */
  readonly commit: Commit
  /**
   * Headers for the saga's commit: `aett.routedFrom` names where the event came from. The router never routes a
   * commit that carries it (it holds a copy of an event routed from its own stream), so store them with the event.
   */
  readonly sagaHeaders: Headers
}

/** Which sagas (by stream id, in the event's tenant) should see an event; none is fine. */
export type SagaIds<Ev> = (event: Ev, commit: Commit) => readonly string[]

/**
 * Feeds one event to saga `sagaId`: store it in the saga's stream under `routed.commitId`, with
 * `routed.sagaHeaders` (`sagaFeed` does both). A `Left` (or a throw) is retried, then parks the commit (default) or
 * stops the router. The router does not use the `Right`'s value (`R`: what the feed answers, for its callers).
 */
export type Feed<Ev, E, R = unknown> = (sagaId: string, routed: Routed<Ev>, context: BatchContext) => Promise<E.Either<E, R>>

export interface RouterOptions<Ev extends Typed, E> extends RunOptions {
  /** The events the sagas follow: events of other topics are not routed (nor decoded). */
  readonly topics: TopicMap<Ev>
  /** Default: `byCorrelationId()`, the saga whose id is the event's `correlationId`. */
  readonly to?: SagaIds<Ev>
  readonly feed: Feed<Ev, E>
}

/** A running router: the subscription's handle (`caughtUp`, `status`, `stop`, `replayParked`). */
export type Router<E> = Subscription<RouteError<E>>

/** The saga `sagaIdOf(event.correlationId)` (the correlation id itself by default); none for an event without one. */
export const byCorrelationId =
  <Ev extends Typed>(sagaIdOf: (correlationId: string) => string = (id) => id): SagaIds<Ev> =>
  (event) => {
    const cid = (event as { readonly correlationId?: unknown }).correlationId
    return typeof cid === 'string' ? [sagaIdOf(cid)] : []
  }

// -------------------------------------------------------------------------------------
// routing
// -------------------------------------------------------------------------------------

interface Delivery<Ev> {
  readonly sagaId: string
  readonly routed: Routed<Ev>
}

/** The sagas to feed each event of a commit to, in the commit's order, or the first event that does not decode. */
const deliveriesOf =
  <Ev extends Typed>(topics: TopicMap<Ev>, to: SagaIds<Ev>) =>
  (commit: Commit): E.Either<EventDecodeFailed, Delivery<Ev>[]> => {
    // A saga's copy of a routed event: the original is routed from its own stream.
    if (Object.hasOwn(commit.headers, ROUTED_FROM)) return E.right([])
    const out: Delivery<Ev>[] = []
    const first = firstRevision(commit)
    for (const [i, message] of commit.events.entries()) {
      const topic = (message.body as { readonly type?: unknown }).type
      if (typeof topic !== 'string' || !topics.has(topic)) continue
      const revision = first + i
      const key = eventKey(commit, revision)
      const decoded = topics.decodeMessage(message)
      if (E.isLeft(decoded)) {
        const at = { key, tenantId: commit.tenantId, streamId: commit.streamId, revision, checkpointToken: commit.checkpointToken }
        return E.left({ _tag: 'EventDecodeFailed', ...at, error: decoded.left })
      }
      const ids = to(decoded.right, commit)
      if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string'))
        throw new TypeError(`the router's \`to\` must return an array of saga ids, got ${JSON.stringify(ids)}`)
      // Never a saga's own commit: a saga is not fed what it stored itself.
      const sagaIds = [...new Set(ids)].filter((id) => id !== commit.streamId)
      if (sagaIds.length === 0) continue
      const routed: Routed<Ev> = {
        event: decoded.right,
        headers: message.headers,
        key,
        commitId: commitIdFrom(key),
        revision,
        commit,
        sagaHeaders: { [ROUTED_FROM]: { tenantId: commit.tenantId, streamId: commit.streamId, revision } },
      }
      for (const sagaId of sagaIds) out.push({ sagaId, routed })
    }
    return E.right(out)
  }

const parts = <Ev extends Typed, E>(options: RouterOptions<Ev, E>) => {
  const { select, of } = preparedOnce(deliveriesOf(options.topics, options.to ?? byCorrelationId<Ev>()))
  const handler = async (batch: readonly Commit[], context: BatchContext): Promise<E.Either<RouteError<E>, void>> => {
    // In token order, one event and one saga at a time; the whole batch even when `context.signal` aborts (see
    // the dispatcher).
    for (const commit of batch) {
      const deliveries = of(commit)
      if (E.isLeft(deliveries)) return deliveries
      for (const { sagaId, routed } of deliveries.right) {
        const r = answered('feed', await options.feed(sagaId, routed, context))
        if (E.isLeft(r)) {
          const failed: FeedFailed<E> = {
            _tag: 'FeedFailed',
            sagaId,
            key: routed.key,
            tenantId: commit.tenantId,
            streamId: commit.streamId,
            revision: routed.revision,
            checkpointToken: commit.checkpointToken,
            error: r.left,
          }
          return E.left(failed)
        }
      }
    }
    return E.right(undefined)
  }
  return { ...subscriptionOptions(options, ['topics', 'to', 'feed'], select), handler }
}

const problem = (options: unknown): string | undefined => {
  const run = runProblem(options)
  if (run !== undefined) return run
  const o = options as Record<string, unknown>
  const topics = o['topics']
  if (!isObject(topics) || typeof topics['has'] !== 'function' || typeof topics['decodeMessage'] !== 'function') return 'topics must be a topic map'
  if (o['to'] !== undefined && typeof o['to'] !== 'function') return 'to must be a function'
  if (typeof o['feed'] !== 'function') return 'feed must be a function'
  return undefined
}

/**
 * Starts a router: a subscription (named `options.name`) that feeds each event of `topics` in the log to the
 * sagas `to` names (by `correlationId` by default), in token order, at least once, through `feed`. It never feeds
 * a saga its own commits, nor routes a saga's copy of a routed event (`aett.routedFrom`). Each event reaches a
 * saga under the commit id `commitIdFrom(eventKey(...))`, so a redelivered event answers `AlreadyCommitted` and
 * never advances the saga twice. See docs/sagas.md.
 */
export const routeEvents = <Ev extends Typed, E = never>(options: RouterOptions<Ev, E>): E.Either<InvalidArgument, Router<E>> => {
  const bad = problem(options)
  if (bad !== undefined) return E.left(invalidArgument('routeEvents', bad))
  return subscribe<RouteError<E>>(parts(options))
}

/** Replays the router's parked commits while no instance of it runs (see `replayParkedCommands`). */
export const replayParkedEvents = async <Ev extends Typed, E = never>(
  options: RouterOptions<Ev, E> & { readonly tokens?: readonly number[] },
): Promise<E.Either<ReplayError, ReplayReport<RouteError<E>>>> => {
  const bad = problem(options)
  if (bad !== undefined) return E.left(invalidArgument('replayParkedEvents', bad))
  const p = parts(options)
  return replayParked<RouteError<E>>({
    store: p.store,
    name: p.name,
    source: p.source ?? {},
    handler: p.handler,
    ...(options.tokens === undefined ? {} : { tokens: options.tokens }),
    ...(options.parkStreamAfterFailure === undefined ? {} : { parkStreamAfterFailure: options.parkStreamAfterFailure }),
    ...(options.leaseTtlMs === undefined ? {} : { leaseTtlMs: options.leaseTtlMs }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  })
}
