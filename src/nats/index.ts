/**
 * `aett/nats`: the log as an outbox on NATS JetStream. `natsForwarder` sends a store's events (or its sagas'
 * commands) from a fenced, checkpointed subscription, each message once in the stream whatever crashes;
 * `natsCommandConsumer` takes commands in and hands them to a repository idempotently. Needs the optional peers
 * `@nats-io/transport-node` and `@nats-io/jetstream` (v3), loaded on first use.
 */
export { natsForwarder, type NatsForwarderOptions } from './forwarder.js'
export { natsCommandConsumer, type NatsCommandConsumerOptions } from './inbound.js'
export { subjectToken } from './subjects.js'
export * from '../brokers/public.js'
