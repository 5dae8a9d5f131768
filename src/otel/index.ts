/**
 * `aett/otel`: OpenTelemetry spans and metrics for the kit, through `@opentelemetry/api` only (an optional peer that
 * nothing else of the kit imports). Wrap the store and the repositories; register an SDK (or pass providers) to
 * see anything, since without one the API is a no-op and the decorators cost next to nothing.
 */
export { tracedStore, type TracedStoreOptions } from './store.js'
export { tracedRepository, type TracedRepositoryOptions, type RepositoryFace, type FunctionalRepository, type ClassRepository } from './repository.js'
export { tracedHandler, type TracedHandlerOptions, type BatchHandler, type BatchItem, type CommitLike } from './handler.js'
export { subscriptionLag, type SubscriptionLag, type SubscriptionLagOptions, type LagReading, type StatusSource } from './lag.js'
export {
  TRACEPARENT,
  TRACESTATE,
  commitContext,
  contextFromCommit,
  formatTraceparent,
  linkToCommit,
  parseTraceparent,
  traceHeaders,
  type WithHeaders,
} from './traceContext.js'
export { ATTR, METRIC, INSTRUMENTATION_SCOPE, type TelemetryOptions } from './telemetry.js'
