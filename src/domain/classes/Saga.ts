import type { DomainEvent } from '../../eventstore/codec/defineEvent.js'
import type { Headers, Json } from '../../eventstore/Json.js'
import { route, type Handlers } from './Handlers.js'
import { InstanceState } from './InstanceState.js'
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
  readonly #state = new InstanceState<TEvent>()
  #commands: TCommand[] = []
  #headers: Record<string, Json> = {}
  #replaying = false

  constructor(readonly id: string) {}

  protected abstract readonly handlers: Handlers<TEvent>

  /** The number of events the saga has seen, pending ones included. */
  get version(): number {
    return this.#state.version
  }

  get commitSequence(): number {
    return this.#state.commitSequence
  }

  /** Events transitioned since the last save. */
  get uncommittedEvents(): readonly TEvent[] {
    return this.#state.pending
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
    this.#state.raise(this.handlers, event)
  }

  /** Queues a command to send once the saga's next commit is stored. */
  dispatch(command: TCommand): void {
    if (!this.#replaying) this.#commands.push(command)
  }

  /** @internal */
  get [internals](): SagaInternals {
    // Replaying runs the handlers with dispatching switched off; a commit clears the queued commands and headers.
    const replay = (event: TEvent) => {
      this.#replaying = true
      try {
        return route(this.handlers, event)
      } finally {
        this.#replaying = false
      }
    }
    const clear = () => {
      this.#commands = []
      this.#headers = {}
    }
    return {
      ...this.#state.internals(this.handlers, replay, clear),
      commands: this.#commands,
      headers: this.#headers,
    }
  }
}
