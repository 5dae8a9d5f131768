/**
 * `aett/rabbitmq`: the log as an outbox on RabbitMQ. `rabbitMqForwarder` sends a store's events (or its sagas'
 * commands) from a fenced, checkpointed subscription with publisher confirms and `mandatory` routing, at least once;
 * `rabbitMqCommandConsumer` takes commands in and hands them to a repository idempotently. Needs the optional peer
 * `amqplib` (2.x), loaded on first use.
 */
export { rabbitMqForwarder, type RabbitMqForwarderOptions, type AmqpConnection } from './forwarder.js'
export { rabbitMqCommandConsumer, type RabbitMqCommandConsumerOptions } from './inbound.js'
export * from '../brokers/public.js'
