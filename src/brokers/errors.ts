import type { RepositoryError } from '../domain/errors.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

export type BrokerName = 'nats' | 'rabbitmq'

/**
 * The broker could not be reached, refused, or did not acknowledge in time. A forwarder or consumer retries it with
 * back-off for as long as it lasts (it never skips); `status()` and the reports show the last one.
 */
export interface BrokerError {
  readonly _tag: 'BrokerError'
  readonly broker: BrokerName
  readonly operation: string
  readonly message: string
  readonly cause: unknown
}

/**
 * RabbitMQ returned a `mandatory` message: no queue was bound for its routing key. A publisher confirm alone does not
 * say that a message was routed, so a returned message is a failure, retried like a broker error.
 */
export interface Unroutable {
  readonly _tag: 'Unroutable'
  readonly messageId: string
  readonly exchange: string
  readonly routingKey: string
  readonly replyCode: number
  readonly replyText: string
}

/** The optional peer that a broker entry point needs is not installed. Nothing can be sent until it is. */
export interface ClientMissing {
  readonly _tag: 'ClientMissing'
  readonly packages: readonly string[]
  readonly message: string
  readonly cause: unknown
}

/**
 * A function of the forwarder's options (the subject or routing key) threw or answered something that is not a
 * non-empty string, for the message of `checkpointToken`. The forwarder stops there (its checkpoint before the commit).
 */
export interface MessageError {
  readonly _tag: 'MessageError'
  readonly messageId: string
  readonly checkpointToken: number
  readonly reason: string
  readonly thrown: unknown
}

/** The batch in hand was cut short by `stop()` or a lost lease; it is sent again by whoever runs next. */
export interface Interrupted {
  readonly _tag: 'Interrupted'
  readonly name: string
}

/** What a forwarder's batch can fail with, as its subscription sees it (`HandlerFailed.error`). */
export type ForwardFailure = MessageError | ClientMissing | Interrupted

/** What a broker call can fail with, retried with back-off. */
export type DeliveryError = BrokerError | Unroutable

/**
 * Why an inbound message could not be handled yet: the broker (acknowledging, dead-lettering), or a repository error
 * that may pass (`StorageError`, a conflict that outlasted its retries), or a throw of the repository.
 */
export type RetryReason = DeliveryError | RepositoryError | { readonly _tag: 'Threw'; readonly thrown: unknown }

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const describe = (cause: unknown): string => {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code
    return code === undefined || String(cause.message).includes(String(code)) ? cause.message : `${cause.message} (${String(code)})`
  }
  return String(cause)
}

export const brokerError = (broker: BrokerName, operation: string, cause: unknown): BrokerError => ({
  _tag: 'BrokerError',
  broker,
  operation,
  message: `${broker}: ${operation} failed: ${describe(cause)}`,
  cause,
})

export const clientMissing = (packages: readonly string[], cause: unknown): ClientMissing => ({
  _tag: 'ClientMissing',
  packages,
  message: `install ${packages.join(' and ')} to use this entry point (${describe(cause)})`,
  cause,
})

export const messageError = (messageId: string, checkpointToken: number, reason: string, thrown?: unknown): MessageError => ({
  _tag: 'MessageError',
  messageId,
  checkpointToken,
  reason,
  thrown,
})

export const interrupted = (name: string): Interrupted => ({ _tag: 'Interrupted', name })
