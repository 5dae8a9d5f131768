import type * as E from 'fp-ts/lib/Either.js'
import type { DecodeError } from '../../eventstore/errors.js'
import type { DomainEvent } from '../../eventstore/codec/defineEvent.js'
import type { Headers } from '../../eventstore/Json.js'
import type { Memento } from '../Memento.js'

/**
 * What repositories call on class instances and users should not: kept behind a symbol that the package entry
 * points do not export. Parameters use the widest event type; each class checks events by its handler map.
 */
export const internals: unique symbol = Symbol('aett.internals')

export interface StreamInternals {
  /** Applies a stored event without recording it as pending; `false` when the class has no handler for it. */
  replay(event: DomainEvent): boolean
  /** Whether the class has a handler for this event. */
  handles(event: DomainEvent): boolean
  /**
   * The instance now stands at `revision` and `sequence` with nothing pending: after a save, or after a load
   * (`partialAt` set when the load stopped inside a commit, so that saving it is refused as SEMANTICS 16 says).
   */
  committed(revision: number, sequence: number, partialAt?: number | null): void
  readonly pending: readonly DomainEvent[]
  readonly partialAt: number | null
}

export interface AggregateInternals extends StreamInternals {
  restore(memento: Memento<unknown>, commitSequence: number): E.Either<DecodeError, void>
}

export interface SagaInternals extends StreamInternals {
  readonly commands: readonly unknown[]
  readonly headers: Headers
}
