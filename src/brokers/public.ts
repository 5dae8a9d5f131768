/** What `aett/nats` and `aett/rabbitmq` both export: the broker-agnostic model of forwarding and taking commands in. */
export { HEADER, messageId, messagesOf, encodeHeaderValue, decodeHeaderValue, type MessageKind, type OutboundMessage } from './messages.js'
export type { BrokerRetry, Forwarder, ForwarderCounts, ForwarderOptions, ForwarderStatus } from './forward.js'
export { commitIdOfMessage, jsonBody } from './inbound.js'
export type {
  CommandConsumer,
  CommandConsumerOptions,
  CommandHandle,
  ConsumerState,
  ConsumerStatus,
  ConsumerStopped,
  InboundMessage,
  InboundReport,
  Route,
  RoutedCommand,
} from './inbound.js'
export type {
  BrokerError,
  BrokerName,
  ClientMissing,
  DeliveryError,
  ForwardFailure,
  Interrupted,
  MessageError,
  RetryReason,
  Unroutable,
} from './errors.js'
