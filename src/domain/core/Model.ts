import type * as E from 'fp-ts/lib/Either.js'
import type { DecodeError } from '../../eventstore/errors.js'
import type { Json } from '../../eventstore/Json.js'
import type { Snapshot } from '../../eventstore/Snapshot.js'

/**
 * What the repository machinery needs to know about a kind of stream, whatever face the user writes it in:
 * a decider, a saga definition, or an `Aggregate`/`Saga` class. Every face is an adapter to this one shape, so
 * that loading, saving, retrying and snapshotting are written once.
 */
export interface Model<S, Ev> {
  /** The state of a stream with no events yet. */
  readonly initial: (streamId: string) => S
  readonly evolve: (state: S, event: Ev) => S
  /** Whether `evolve` knows this event; a stored event it does not know is reported as `UnknownTopic`. */
  readonly handles: (state: S, event: Ev) => boolean
  /** The state a snapshot pictures. */
  readonly restore: (snapshot: Snapshot) => E.Either<DecodeError, S>
  /** The snapshot payload of a state. */
  readonly capture: (state: S, streamId: string, version: number) => Json
  /**
   * The event as it is stored at `revision` of stream `streamId`. Aggregates stamp `id` and `version` so that
   * `decide` stays pure; sagas keep the events they follow as they are.
   */
  readonly stamp: (event: Ev, streamId: string, revision: number) => Ev
}

/**
 * Stamps a domain event with its stream id (`id`) and revision (`version`). Events without those fields are
 * kept as they are, so that deciders over plain events work too.
 */
export const stampDomainEvent = <Ev extends { readonly type: string }>(event: Ev, streamId: string, revision: number): Ev => {
  const e = event as Ev & { readonly id?: unknown; readonly version?: unknown }
  if (!('id' in e) || !('version' in e)) return event
  return e.id === streamId && e.version === revision ? event : { ...event, id: streamId, version: revision }
}

/** Keeps an event as it is. */
export const keepEvent = <Ev>(event: Ev): Ev => event
