import type { EncodedEvent, Headers } from './Json.js'

/** One event of a commit: the encoded body and its own headers. */
export interface EventMessage {
  readonly body: EncodedEvent
  readonly headers: Headers
}

/**
 * What a writer asks a store to append. `streamRevision` is the revision of the last event, so the first
 * event has revision `streamRevision - events.length + 1` (SEMANTICS 1).
 */
export interface CommitAttempt {
  readonly tenantId: string
  readonly streamId: string
  readonly streamRevision: number
  readonly commitId: string
  readonly commitSequence: number
  /** UTC, millisecond precision; stores keep exactly what is given. */
  readonly commitStamp: Date
  readonly headers: Headers
  readonly events: readonly EventMessage[]
}

/** A stored commit. `checkpointToken` grows strictly in commit order across the whole store. */
export interface Commit extends CommitAttempt {
  readonly checkpointToken: number
}

/** Revision of the first event of a commit or attempt. */
export const firstRevision = (c: Pick<CommitAttempt, 'streamRevision' | 'events'>): number =>
  c.streamRevision - c.events.length + 1
