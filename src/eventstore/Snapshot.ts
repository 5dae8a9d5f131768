import type { Headers, Json } from './Json.js'

/** A serialised picture of a stream's state at `streamRevision` (SEMANTICS "memento / snapshot"). */
export interface Snapshot {
  readonly tenantId: string
  readonly streamId: string
  readonly streamRevision: number
  readonly commitSequence: number
  readonly payload: Json
  readonly headers: Headers
}

/** A stream's head compared with its newest snapshot, as listed by `streamsToSnapshot`. */
export interface StreamHead {
  readonly tenantId: string
  readonly streamId: string
  readonly headRevision: number
  /** 0 when the stream has no snapshot. */
  readonly snapshotRevision: number
}

/** A stream as `listStreams` shows it: its head and when it was last written. */
export interface StreamInfo {
  readonly tenantId: string
  readonly streamId: string
  readonly headRevision: number
  readonly headSequence: number
  /** The commit stamp of the head commit. */
  readonly lastCommitStamp: Date
}
