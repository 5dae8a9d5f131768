import type { Commit, CommitAttempt, EventMessage } from '../eventstore/Commit.js'
import type { Headers, Json } from '../eventstore/Json.js'
import type { Snapshot, StreamHead } from '../eventstore/Snapshot.js'

/**
 * A commit row as read in raw mode, in the order of `commitColumns`: checkpoint, tenant, stream, revision,
 * commit id, sequence, stamp (epoch ms), payload.
 */
export type CommitRow = readonly [number, string, string, number, string, number, number, string]

/** A snapshot row in the order of `snapshotColumns`. */
export type SnapshotRow = readonly [string, string, number, number, string, string]

/** A `streamsToSnapshot` row: stream, head revision, newest snapshot revision (0 for none). */
export type CandidateRow = readonly [string, number, number]

/** What the `payload` column holds: a commit's headers and its events, as one JSON document. */
interface Payload {
  readonly headers: Headers
  readonly events: readonly EventMessage[]
}

/** One `JSON.stringify` per commit: its headers and every event's body and headers. Throws on what JSON cannot hold. */
export const encodePayload = (a: CommitAttempt): string => JSON.stringify({ headers: a.headers, events: a.events })

/** Positional parameters of the insert statements, in column order. */
export const insertParams = (a: CommitAttempt, payload: string): readonly unknown[] => [
  a.tenantId,
  a.streamId,
  a.streamRevision,
  a.events.length,
  a.commitId,
  a.commitSequence,
  a.commitStamp.getTime(),
  payload,
]

/** The stored commit: the attempt as given, with its token. Throws on a payload that is not valid JSON. */
export const toCommit = (row: CommitRow): Commit => {
  const payload = JSON.parse(row[7]) as Payload
  return {
    tenantId: row[1],
    streamId: row[2],
    streamRevision: row[3],
    commitId: row[4],
    commitSequence: row[5],
    commitStamp: new Date(row[6]),
    headers: payload.headers,
    events: payload.events,
    checkpointToken: row[0],
  }
}

export const toSnapshot = (row: SnapshotRow): Snapshot => ({
  tenantId: row[0],
  streamId: row[1],
  streamRevision: row[2],
  commitSequence: row[3],
  payload: JSON.parse(row[4]) as Json,
  headers: JSON.parse(row[5]) as Headers,
})

export const snapshotParams = (s: Snapshot): readonly unknown[] => [
  s.tenantId,
  s.streamId,
  s.streamRevision,
  s.commitSequence,
  JSON.stringify(s.payload),
  JSON.stringify(s.headers),
]

export const toStreamHead = (tenantId: string, row: CandidateRow): StreamHead => ({
  tenantId,
  streamId: row[0],
  headRevision: row[1],
  snapshotRevision: row[2],
})
