import * as E from 'fp-ts/lib/Either.js'
import type { RetryPolicy } from '../subscriptions/options.js'
import { backoff, sleep } from '../subscriptions/timing.js'
import { brokerError, type BrokerError, type BrokerName, type ClientMissing } from './errors.js'
import { Tally, type CommandConsumer, type CommandConsumerOptions } from './inbound.js'

/**
 * The life of an inbound command consumer, the same on every broker: start (or not, when the signal is already
 * aborted), connect and consume until the connection breaks, back off and reconnect until stopped; `stop()` wakes
 * any back-off and waits for the messages in hand. A broker's consumer says how to load its client, how to run
 * one session, and how to stop delivery; everything else (status, reports, retries) lives here.
 */
export abstract class ConsumerLoop<C, Err, Client> implements CommandConsumer<Err> {
  protected readonly tally: Tally<Err>
  protected stopping = false
  protected readonly wake = new AbortController()
  /** The back-off between reconnects and before a redelivery. */
  protected readonly retry: RetryPolicy
  private done: Promise<void> = Promise.resolve()

  protected constructor(
    private readonly broker: BrokerName,
    private readonly options: CommandConsumerOptions<C, Err>,
  ) {
    this.tally = new Tally(options.onReport)
    const initialDelayMs = options.retry?.initialDelayMs ?? 200
    this.retry = { attempts: Number.MAX_SAFE_INTEGER, initialDelayMs, maxDelayMs: Math.max(initialDelayMs, options.retry?.maxDelayMs ?? 10_000) }
  }

  /** Loads the broker's client library. */
  protected abstract loadClient(): Promise<E.Either<ClientMissing, Client>>
  /** One connection: consume until it breaks (a `BrokerError`) or the consumer stops. */
  protected abstract session(client: Client): Promise<E.Either<BrokerError, void>>
  /** Stops delivery on the current connection, so that `session` returns once the messages in hand are done. */
  protected abstract halt(): Promise<void> | void
  /** Runs once the loop has ended (closes what outlives one session). */
  protected finish(): Promise<void> | void {}

  start(): this {
    if (this.options.signal?.aborted === true) {
      this.stopping = true
      this.tally.stopped()
      return this
    }
    this.options.signal?.addEventListener('abort', () => void this.stop(), { once: true })
    this.done = this.run().finally(() => this.tally.stopped())
    return this
  }

  started() {
    return this.tally.started()
  }

  status() {
    return this.tally.status()
  }

  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true
      this.wake.abort()
      await this.halt()
    }
    await this.done
  }

  private async run(): Promise<void> {
    const client = await this.loadClient()
    if (E.isLeft(client)) {
      this.tally.lastError = { ...brokerError(this.broker, 'load the client', client.left.cause), message: client.left.message }
      return
    }
    try {
      for (let failures = 0; !this.stopping; ) {
        const r = await this.session(client.right)
        if (E.isRight(r)) failures = 0
        else {
          failures += 1
          this.tally.lastError = r.left
          if (!this.stopping) this.tally.state = 'reconnecting'
        }
        if (!this.stopping) await sleep(backoff(this.retry, Math.max(failures, 1)), this.wake.signal)
      }
    } finally {
      await this.finish()
    }
  }
}
