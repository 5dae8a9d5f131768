/**
 * `aett/sagas`: a saga's commands delivered, and the log's events fed to the sagas that should see them, both on
 * `subscribe` (aett/subscriptions): named, leased, fenced, never skipping. It runs on any store that keeps
 * subscriptions. See docs/sagas.md.
 */
export { dispatchCommands, replayParkedCommands, type Command, type CommandHandler, type Dispatcher, type DispatcherOptions } from './dispatcher.js'
export { byCorrelationId, replayParkedEvents, routeEvents, type Feed, type Routed, type Router, type RouterOptions, type SagaIds } from './router.js'
export { sagaClassFeed, sagaFeed } from './feeds.js'
export { commandKey, eventKey, ROUTED_FROM, storedCommands, type StoredCommand } from './keys.js'
export type { RunOptions, SagaSource } from './common.js'
export {
  isCommandDecodeFailed,
  isEventDecodeFailed,
  type CommandAt,
  type CommandDecodeFailed,
  type CommandFailed,
  type DispatchError,
  type EventAt,
  type EventDecodeFailed,
  type FeedFailed,
  type RouteError,
} from './errors.js'
export { allCaughtUp, type CatchingUp } from './settle.js'
