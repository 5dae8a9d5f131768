import * as E from 'fp-ts/lib/Either.js'
import type * as Amqp from 'amqplib'
import { clientMissing, type ClientMissing } from '../brokers/errors.js'

/** amqplib, loaded on first use so that importing `aett/rabbitmq` does not load it. */
export type AmqpClient = typeof Amqp

export const AMQP_PACKAGES = ['amqplib'] as const

let loading: Promise<E.Either<ClientMissing, AmqpClient>> | undefined

/** Loads amqplib once; a failure (not installed) is answered as a `ClientMissing` and tried again next time. */
export const loadAmqp = (): Promise<E.Either<ClientMissing, AmqpClient>> => {
  loading ??= (async () => {
    try {
      const m = (await import('amqplib')) as AmqpClient & { default?: AmqpClient }
      return E.right(typeof m.connect === 'function' ? m : (m.default as AmqpClient))
    } catch (cause) {
      loading = undefined
      return E.left(clientMissing(AMQP_PACKAGES, cause))
    }
  })()
  return loading
}

/** A settled-once promise with its resolver, for confirms and events. */
export const deferred = <A>(): { promise: Promise<A>; resolve: (a: A) => void } => {
  let resolve: (a: A) => void = () => {}
  const promise = new Promise<A>((r) => {
    resolve = r
  })
  return { promise, resolve }
}
