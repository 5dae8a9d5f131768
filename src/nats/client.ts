import * as E from 'fp-ts/lib/Either.js'
import type * as JetStream from '@nats-io/jetstream'
import type * as Transport from '@nats-io/transport-node'
import { clientMissing, type ClientMissing } from '../brokers/errors.js'

/** The two packages of the official NATS client (v3), loaded on first use so that importing `aett/nats` loads neither. */
export interface NatsClient {
  readonly transport: typeof Transport
  readonly jetstream: typeof JetStream
}

export const NATS_PACKAGES = ['@nats-io/transport-node', '@nats-io/jetstream'] as const

let loading: Promise<E.Either<ClientMissing, NatsClient>> | undefined

/** Loads the client once; a failure (not installed) is answered as a `ClientMissing` and tried again next time. */
export const loadNats = (): Promise<E.Either<ClientMissing, NatsClient>> => {
  loading ??= (async () => {
    try {
      const [transport, jetstream] = await Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream')])
      return E.right({ transport, jetstream })
    } catch (cause) {
      loading = undefined
      return E.left(clientMissing(NATS_PACKAGES, cause))
    }
  })()
  return loading
}
