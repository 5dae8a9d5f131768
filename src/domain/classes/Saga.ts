import type { DomainEvent } from '../../eventstore/codec/defineEvent.js'
import type { Headers, Json } from '../../eventstore/Json.js'
import { route, type Handlers } from './Handlers.js'
import { internals, type SagaInternals } from './internals.js'

/**
 * The seed's `Saga` (process manager), for OO callers. `transition(event)` applies an event through its handler
 * and records it; handlers call `dispatch(command)` to queue commands, which travel in the headers of the saga's
 * next commit (SEMANTICS 21). When a repository replays stored events, commands dispatched by the handlers are
 * dropped: they were stored with the commit that first produced them.
 *
 * @example
 * class Shipping extends Saga<OrderPlaced, Ship> {
 *   protected readonly handlers: Handlers<OrderPlaced> = {
 *     OrderPlaced: (e) => this.dispatch({ type: 'Ship', orderId: e.id }),
 *   }
 * }
 */
export abstract class Saga<TEvent extends DomainEvent = DomainEvent, TCommand = Json> {
  #version = 0
  #commitSequence = 0
  #partialAt: number | null = null
  #pending: TEvent[] = []
  #commands: TCommand[] = []
  #headers: Record<string, Json> = {}
  #replaying = false

  constructor(readonly id: string) {}

  protected abstract readonly handlers: Handlers<TEvent>

  /** The number of events the saga has seen, pending ones included. */
  get version(): number {
    return this.#version
  }

  get commitSequence(): number {
    return this.#commitSequence
  }

  /** Events transitioned since the last save. */
  get uncommittedEvents(): readonly TEvent[] {
    return this.#pending
  }

  /** Commands queued since the last save; they are stored with the next commit. */
  get undispatchedCommands(): readonly TCommand[] {
    return this.#commands
  }

  /** Headers for the next commit. */
  get headers(): Headers {
    return this.#headers
  }

  /** Sets a header of the next commit. */
  setHeader(key: string, value: Json): this {
    this.#headers = { ...this.#headers, [key]: value }
    return this
  }

  /** Applies an event through its handler and records it. */
  transition(event: TEvent): void {
    route(this.handlers, event)
    this.#pending.push(event)
    this.#version += 1
  }

  /** Queues a command to send once the saga's next commit is stored. */
  dispatch(command: TCommand): void {
    if (!this.#replaying) this.#commands.push(command)
  }

  /** @internal */
  get [internals](): SagaInternals {
    return {
      replay: (event) => {
        this.#replaying = true
        try {
          if (!route(this.handlers, event as TEvent)) return false
        } finally {
          this.#replaying = false
        }
        this.#version += 1
        return true
      },
      handles: (event) => Object.prototype.hasOwnProperty.call(this.handlers, event.type),
      committed: (revision, sequence, partialAt = null) => {
        this.#version = revision
        this.#commitSequence = sequence
        this.#partialAt = partialAt
        this.#pending = []
        this.#commands = []
        this.#headers = {}
      },
      pending: this.#pending,
      partialAt: this.#partialAt,
      commands: this.#commands,
      headers: this.#headers,
    }
  }
}
