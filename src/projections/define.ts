import type * as E from 'fp-ts/lib/Either.js'
import type { Commit } from '../eventstore/Commit.js'
import type { TopicMap } from '../eventstore/codec/TopicMap.js'
import type { Headers } from '../eventstore/Json.js'
import type { ProjectionMode } from '../eventstore/projectionStore.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What a handler is told of an event besides the event itself: its commit (without the events) and headers. */
export interface EventMeta {
  readonly commit: Omit<Commit, 'events'>
  readonly headers: Headers
  /** The event's place in its commit (0 for the first). */
  readonly index: number
}

/**
 * What a handler answers: nothing (or a `Right`) when it applied the event, a `Left` to refuse it. A `Left`, a
 * throw or a rejection rolls back the whole transaction (every event of the batch, and the checkpoint) and is
 * retried, then handled by the failure policy (`onFailure`: stop, or park the commit).
 */
export type HandlerAnswer = E.Either<unknown, unknown> | undefined

/**
 * One topic's handler. On a `'sync'` store (SQLite) it must answer at once: a handler that answers a promise does
 * not compile (a better-sqlite3 transaction cannot span an `await`). On an `'async'` store it answers a promise.
 */
export type ProjectionHandler<Tx, Mode extends ProjectionMode, Ev> = (
  tx: Tx,
  event: Ev,
  meta: EventMeta,
) => Mode extends 'sync' ? HandlerAnswer : Promise<HandlerAnswer>

/** A handler for every event type of the topic map: one left out does not compile. */
export type ProjectionHandlers<Tx, Mode extends ProjectionMode, Ev extends { readonly type: string }> = {
  readonly [K in Ev['type']]: ProjectionHandler<Tx, Mode, Extract<Ev, { readonly type: K }>>
}

/** A transactional projection: a name (its checkpoint and lease), the topics it decodes, and its handlers. */
export interface Projection<Tx, Mode extends ProjectionMode, Ev extends { readonly type: string }> {
  readonly kind: 'transactional'
  readonly name: string
  readonly mode: Mode
  readonly topics: TopicMap<Ev>
  readonly handlers: ProjectionHandlers<Tx, Mode, Ev>
}

/** What `projection(...)` takes. */
export interface ProjectionDefinition<Tx, Mode extends ProjectionMode, Ev extends { readonly type: string }> {
  /** The projection's name: its checkpoint and its lease, like a subscription name (a storable string of ≤ 256 bytes). */
  readonly name: string
  /** The topic map its events are decoded through; only these topics' events reach the handlers. */
  readonly topics: TopicMap<Ev>
  readonly handlers: NoInfer<ProjectionHandlers<Tx, Mode, Ev>>
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * The `projection` constructor of a store whose transaction handle is `Tx` (each SQL store exports its own:
 * `sqliteProjection`, `postgresProjection`, `mysqlProjection`). The event type comes from the topic map; the
 * handlers are checked against it. Pure: nothing runs until the projection is started on a store.
 */
export const projectionFor =
  <Tx, Mode extends ProjectionMode>(mode: Mode) =>
  <Ev extends { readonly type: string }>(definition: ProjectionDefinition<Tx, Mode, Ev>): Projection<Tx, Mode, Ev> => ({
    kind: 'transactional',
    name: definition.name,
    mode,
    topics: definition.topics,
    handlers: definition.handlers,
  })
