import { createContextKey, type Context } from '@opentelemetry/api'

/**
 * What a traced store saw while a traced repository operation was active: a repository's outcome does not say
 * how many events a load replayed, whether it started from a snapshot, or how many appends a save took, so the
 * repository decorator puts a scope in the OpenTelemetry context and the store decorator adds to it. It needs
 * both decorators and a context manager (e.g. `AsyncLocalStorageContextManager`); without them the repository
 * span simply lacks these attributes.
 */
export interface OperationScope {
  /** Store calls made in the scope. */
  ops: number
  commitsRead: number
  eventsRead: number
  /** Revision of the snapshot the last `getSnapshot` found, if it found one. */
  snapshotRevision: number | undefined
  /** Commit attempts, and how many of them met a concurrency conflict. */
  attempts: number
  conflicts: number
}

const SCOPE = createContextKey('aett operation scope')

export const newScope = (): OperationScope => ({ ops: 0, commitsRead: 0, eventsRead: 0, snapshotRevision: undefined, attempts: 0, conflicts: 0 })

export const withScope = (ctx: Context, scope: OperationScope): Context => ctx.setValue(SCOPE, scope)

export const scopeOf = (ctx: Context): OperationScope | undefined => ctx.getValue(SCOPE) as OperationScope | undefined
