import type { DomainEvent } from '../../eventstore/codec/defineEvent.js'
import { route, type Handlers } from './Handlers.js'
import type { StreamInternals } from './internals.js'

/**
 * Where a class instance stands in its stream and what it has raised since: the bookkeeping `Aggregate` and
 * `Saga` share. A field of each (not a base class), so that nothing here shows up among a subclass's members.
 */
export class InstanceState<TEvent extends DomainEvent> {
  /** The revision of the last event applied, pending ones included. */
  version = 0
  /** The sequence of the last commit the instance knows. */
  commitSequence = 0
  /** Set when a load stopped inside a commit (saving is then refused, SEMANTICS 16). */
  partialAt: number | null = null
  /** Events raised since the last save, oldest first. */
  pending: TEvent[] = []

  /** Applies an event through its handler and records it as pending. */
  raise(handlers: Handlers<TEvent>, event: TEvent): void {
    route(handlers, event)
    this.pending.push(event)
    this.version += 1
  }

  /**
   * The part of the repository's view both classes share. `apply` runs a stored event through the handlers
   * (a saga wraps it to drop commands); `onCommitted` clears whatever else the class records for its next commit.
   */
  internals(
    handlers: Handlers<TEvent>,
    apply: (event: TEvent) => boolean = (event) => route(handlers, event),
    onCommitted: () => void = () => undefined,
  ): StreamInternals {
    return {
      replay: (event) => {
        if (!apply(event as TEvent)) return false
        this.version += 1
        return true
      },
      handles: (event) => Object.prototype.hasOwnProperty.call(handlers, event.type),
      committed: (revision, sequence, partialAt = null) => {
        this.version = revision
        this.commitSequence = sequence
        this.partialAt = partialAt
        this.pending = []
        onCommitted()
      },
      pending: this.pending,
      partialAt: this.partialAt,
    }
  }
}
