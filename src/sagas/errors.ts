import type { CodecError, DecodeError } from '../eventstore/errors.js'

/** Where a command is stored: the saga's commit and the command's index in it, and its idempotency key. */
export interface CommandAt {
  readonly key: string
  readonly index: number
  readonly tenantId: string
  readonly streamId: string
  readonly commitSequence: number
  readonly checkpointToken: number
}

/**
 * A command stored in a saga's commit did not decode through the dispatcher's codec. Its commit is parked (with
 * the saga's later commits behind it), never dropped: fix the codec (or the data) and replay it. Under
 * `onFailure: 'stop'` the dispatcher stops instead, with a `FilterFailed` whose `thrown` is this value.
 */
export interface CommandDecodeFailed extends CommandAt {
  readonly _tag: 'CommandDecodeFailed'
  readonly error: DecodeError
}

/** The handler answered `Left` for a command (after every retry, the commit is parked or the dispatcher stops). */
export interface CommandFailed<E> extends CommandAt {
  readonly _tag: 'CommandFailed'
  readonly error: E
}

/** What the dispatcher's batches fail with: the subscription's `E` (in `HandlerFailed`, in parked records). */
export type DispatchError<E> = CommandFailed<E> | CommandDecodeFailed

/** Where an event is stored, and its key (`eventKey`). */
export interface EventAt {
  readonly key: string
  readonly tenantId: string
  readonly streamId: string
  readonly revision: number
  readonly checkpointToken: number
}

/**
 * An event of one of the router's topics did not decode (`DecodeError`, or a topic the map reads under a former
 * name that it cannot read). Its commit is parked, never dropped; under `onFailure: 'stop'` the router stops with
 * a `FilterFailed` whose `thrown` is this value.
 */
export interface EventDecodeFailed extends EventAt {
  readonly _tag: 'EventDecodeFailed'
  readonly error: CodecError
}

/** Feeding an event to saga `sagaId` answered `Left` (after every retry, the commit is parked or the router stops). */
export interface FeedFailed<E> extends EventAt {
  readonly _tag: 'FeedFailed'
  readonly sagaId: string
  readonly error: E
}

/** What the router's batches fail with: the subscription's `E`. */
export type RouteError<E> = FeedFailed<E> | EventDecodeFailed

const tagged = (u: unknown, tag: string): boolean => typeof u === 'object' && u !== null && (u as { _tag?: unknown })._tag === tag

/** Whether a value (a `FilterFailed`'s `thrown`, say) is a `CommandDecodeFailed`. */
export const isCommandDecodeFailed = (u: unknown): u is CommandDecodeFailed => tagged(u, 'CommandDecodeFailed')

/** Whether a value (a `FilterFailed`'s `thrown`, say) is an `EventDecodeFailed`. */
export const isEventDecodeFailed = (u: unknown): u is EventDecodeFailed => tagged(u, 'EventDecodeFailed')
