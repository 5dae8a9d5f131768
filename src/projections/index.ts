/**
 * `aett/projections`: read models kept in the store's own database. A transactional projection's handlers run in
 * one database transaction with its checkpoint write (fenced by its lease), so each commit's effect is applied
 * exactly once, also across crashes. It runs on a subscription (leases, catch-up, live wake-ups, retries,
 * parking): see docs/projections.md. On DynamoDB (no transactions) document projections run with one conditional
 * write per document on the token it last applied: exactly once in effect per document.
 */
export { projectionFor, type EventMeta, type HandlerAnswer, type Projection, type ProjectionDefinition, type ProjectionHandler, type ProjectionHandlers } from './define.js'
export { startProjection, type ConditionalProjectingStore, type ProjectingStore, type ProjectionOptions, type RunningProjection } from './run.js'
export {
  documentProjection,
  documentsOf,
  type Document,
  type DocumentProjection,
  type DocumentProjectionDefinition,
  type DocumentReader,
} from './documents.js'
export type { ProjectionBatchError, ProjectionRejected } from './errors.js'
export type {
  ConditionallyProjectable,
  ConditionalProjectionStore,
  DocumentChange,
  ProjectionMode,
  ProjectionStore,
  Projectable,
  ProjectionFence,
} from '../eventstore/projectionStore.js'
export { inlineProjection } from './inline.js'
export { rebuildDocuments, shadowOf, type RebuildError, type RebuildFrom, type RebuildOptions, type RebuildProgress, type RebuildReport } from './rebuild.js'
export { resetProjection, type ResetHook, type ResetProjectionError, type ResetRefused } from './reset.js'
