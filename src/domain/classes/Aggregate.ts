import * as E from 'fp-ts/lib/Either.js'
import type { DomainEvent } from '../../eventstore/codec/defineEvent.js'
import { decodeError, type DecodeError } from '../../eventstore/errors.js'
import type { Memento } from '../Memento.js'
import type { Handlers } from './Handlers.js'
import { InstanceState } from './InstanceState.js'
import { internals, type AggregateInternals } from './internals.js'

/**
 * The seed's `Aggregate`, for OO callers: a mutable shell whose state changes only through events. A subclass
 * lists one handler per event type (`handlers`, checked by the compiler) and says how it pictures itself in a
 * memento. Repositories load it by folding stored events through the same handlers (see `AggregateRepository`).
 *
 * Restoring from a memento happens after construction (`restore`), because TypeScript runs a subclass's field
 * initialisers after the base constructor: a memento applied there would be overwritten by `value = 0`.
 *
 * @example
 * class Counter extends Aggregate<{ count: number }, Incremented> {
 *   count = 0
 *   protected readonly handlers: Handlers<Incremented> = { Incremented: () => { this.count += 1 } }
 *   getMemento() { return { id: this.id, version: this.version, payload: { count: this.count } } }
 *   applyMemento(m: Memento<{ count: number }>) { this.count = m.payload.count }
 * }
 */
export abstract class Aggregate<TMemento, TEvent extends DomainEvent = DomainEvent> {
  readonly #state = new InstanceState<TEvent>()

  constructor(readonly id: string) {}

  /** One handler per event type; they change the instance's fields. */
  protected abstract readonly handlers: Handlers<TEvent>

  /** The revision of the last event applied, pending ones included. */
  get version(): number {
    return this.#state.version
  }

  /** The sequence of the last commit the instance knows. */
  get commitSequence(): number {
    return this.#state.commitSequence
  }

  /** Events raised since the last save, oldest first. */
  get uncommittedEvents(): readonly TEvent[] {
    return this.#state.pending
  }

  /** Applies an event through its handler and records it as pending. */
  raiseEvent(event: TEvent): void {
    this.#state.raise(this.handlers, event)
  }

  abstract getMemento(): Memento<TMemento>

  /** Sets the instance's fields from a memento's payload (the id has been checked already). */
  abstract applyMemento(memento: Memento<TMemento>): void

  /** Restores the instance from a memento; refuses one whose id is not this aggregate's. */
  restore(memento: Memento<TMemento>, commitSequence = 0): E.Either<DecodeError, this> {
    if (memento.id !== this.id) {
      return E.left(decodeError('Memento', [{ path: 'Memento/id', expected: JSON.stringify(this.id), actual: memento.id }]))
    }
    this.applyMemento(memento)
    this.#state.version = memento.version
    this.#state.commitSequence = commitSequence
    this.#state.pending = []
    return E.right(this)
  }

  /** @internal */
  get [internals](): AggregateInternals {
    return {
      ...this.#state.internals(this.handlers),
      restore: (memento, sequence) => E.map(() => undefined)(this.restore(memento as Memento<TMemento>, sequence)),
    }
  }
}
