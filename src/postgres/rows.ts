import type { Commit, CommitAttempt } from '../eventstore/Commit.js'
import type { Headers, Json } from '../eventstore/Json.js'
import type { Snapshot, StreamHead } from '../eventstore/Snapshot.js'
import { num, parseJson, text } from '../sql/rows.js'
import type { Row } from './connection.js'

/** Parameters of the `append` statement, in order. */
export const appendParams = (a: CommitAttempt): unknown[] => [
  a.tenantId,
  a.streamId,
  a.commitId,
  a.streamRevision,
  a.events.length,
  a.commitSequence,
  a.commitStamp.getTime(),
  JSON.stringify(a.headers),
  JSON.stringify(a.events),
]

/** Parameters of the `addSnapshot` statement, in order. */
export const snapshotParams = (s: Snapshot): unknown[] => [
  s.tenantId,
  s.streamId,
  s.streamRevision,
  s.commitSequence,
  JSON.stringify(s.payload),
  JSON.stringify(s.headers),
]

// bigint columns arrive as strings from pg's default parsers, or as numbers/bigints when a caller registered other
// parsers on their pool; `num` takes all three. JSON columns are read as `::text`, whatever parsers are registered.

/** A stored commit from its row. */
export const toCommit = (row: Row): Commit => ({
  tenantId: text(row['tenant_id']),
  streamId: text(row['stream_id']),
  streamRevision: num(row['stream_revision']),
  commitId: text(row['commit_id']),
  commitSequence: num(row['commit_sequence']),
  commitStamp: new Date(num(row['stamp_ms'])),
  headers: parseJson<Headers>(row['headers']),
  events: parseJson<Commit['events']>(row['events']),
  checkpointToken: num(row['checkpoint_token']),
})

export const toSnapshot = (row: Row): Snapshot => ({
  tenantId: text(row['tenant_id']),
  streamId: text(row['stream_id']),
  streamRevision: num(row['stream_revision']),
  commitSequence: num(row['commit_sequence']),
  payload: parseJson<Json>(row['payload']),
  headers: parseJson<Headers>(row['headers']),
})

export const toStreamHead =
  (tenantId: string) =>
  (row: Row): StreamHead => ({
    tenantId,
    streamId: text(row['stream_id']),
    headRevision: num(row['head_revision']),
    snapshotRevision: num(row['snapshot_revision']),
  })

/**
 * The milliseconds of a `maxTime` for a statement, or `undefined` when the bound lies before every stamp
 * PostgreSQL can hold (24 November 4714 BC); the shell hands in valid Dates only. JavaScript Dates reach further
 * back than that, but not further ahead than PostgreSQL's end (294276 AD), so only the lower end is special.
 */
export const timeBound = (maxTime: Date): number | undefined => {
  const ms = maxTime.getTime()
  return ms < minTimestampMs ? undefined : ms
}

const minTimestampMs = Date.UTC(-4713, 10, 24)
