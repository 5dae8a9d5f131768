import type * as E from 'fp-ts/lib/Either.js'
import type { NewEvent } from '../../eventstore/codec/defineEvent.js'
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
   * The version of the state's shape that `restore` reads and `capture` writes (1 when absent); a snapshot of
   * another version is ignored and the stream replayed from its start.
   */
  readonly stateVersion?: number | undefined
  /**
   * The event as it is stored at `revision` of stream `streamId`. Aggregates stamp `id` and `version` so that
   * `decide` stays pure (and may leave them out: a `NewEvent`); sagas keep the events they follow as they are.
   */
  readonly stamp: (event: NewEvent<Ev>, streamId: string, revision: number) => Ev
}

/**
 * Stamps a domain event with its stream id (`id`) and revision (`version`), whether `decide` wrote them or left
 * them out (a `NewEvent`). A domain event is one that carries any of the meta fields `id`, `version` or
 * `timestamp` (every domain event has a `timestamp`); other events (plain `{ type, ... }` values) are kept as they
 * are, so that deciders over plain events work too.
 */
export const stampDomainEvent = <Ev extends { readonly type: string }>(event: NewEvent<Ev>, streamId: string, revision: number): Ev => {
  const e = event as unknown as Ev & { readonly id?: unknown; readonly version?: unknown }
  if (!('id' in e) && !('version' in e) && !('timestamp' in e)) return e
  return e.id === streamId && e.version === revision ? e : { ...e, id: streamId, version: revision }
}

/** Keeps an event as it is (the events a saga follows are complete already). */
export const keepEvent = <Ev>(event: NewEvent<Ev>): Ev => event as Ev
