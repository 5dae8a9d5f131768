import type { Commit, CommitAttempt, EventMessage } from '../eventstore/Commit.js'
import type { Headers, Json } from '../eventstore/Json.js'
import type { Snapshot, StreamHead, StreamInfo } from '../eventstore/Snapshot.js'
import type { Checkpoint, Lease, ParkedCommit } from '../eventstore/subscriptionStore.js'
import { num, parseJson, text } from '../sql/rows.js'

/**
 * A commit row as read in raw mode, in the order of `commitColumns`: checkpoint, tenant, stream, revision,
 * commit id, sequence, stamp (epoch ms), payload.
 */
export type CommitRow = readonly unknown[]

/** A snapshot row in the order of `snapshotColumns`: tenant, stream, revision, sequence, payload, headers. */
export type SnapshotRow = readonly unknown[]

/** A `streamsToSnapshot` row: stream, head revision, newest snapshot revision (0 for none). */
export type CandidateRow = readonly unknown[]

/** What the `payload` column holds: a commit's headers and its events, as one JSON document. */
interface Payload {
  readonly headers: Headers
  readonly events: readonly EventMessage[]
}

/**
 * One `JSON.stringify` per commit: its headers and every event's body and headers. The shell has already
 * reduced the attempt to its JSON image, so this cannot meet a value JSON cannot hold.
 */
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

/** The commit just appended: the attempt (the shell's own copy) with its token. */
export const appended = (a: CommitAttempt, token: number | bigint): Commit => ({
  tenantId: a.tenantId,
  streamId: a.streamId,
  streamRevision: a.streamRevision,
  commitId: a.commitId,
  commitSequence: a.commitSequence,
  commitStamp: a.commitStamp,
  headers: a.headers,
  events: a.events,
  checkpointToken: Number(token),
})

/** The stored commit. Throws on a row that does not parse (the caller turns that into a StorageError). */
export const toCommit = (row: CommitRow): Commit => {
  const payload = parseJson<Payload>(row[7])
  return {
    tenantId: text(row[1]),
    streamId: text(row[2]),
    streamRevision: num(row[3]),
    commitId: text(row[4]),
    commitSequence: num(row[5]),
    commitStamp: new Date(num(row[6])),
    headers: payload.headers,
    events: payload.events,
    checkpointToken: num(row[0]),
  }
}

export const toSnapshot = (row: SnapshotRow): Snapshot => ({
  tenantId: text(row[0]),
  streamId: text(row[1]),
  streamRevision: num(row[2]),
  commitSequence: num(row[3]),
  payload: parseJson<Json>(row[4]),
  headers: parseJson<Headers>(row[5]),
})

/** Positional parameters of the snapshot upsert, in the order of `snapshotColumns`. */
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
  streamId: text(row[0]),
  headRevision: num(row[1]),
  snapshotRevision: num(row[2]),
})

/** A `listStreams` row: stream, head sequence, head revision, head stamp (epoch ms). */
export const toStreamInfo = (tenantId: string, row: readonly unknown[]): StreamInfo => ({
  tenantId,
  streamId: text(row[0]),
  headSequence: num(row[1]),
  headRevision: num(row[2]),
  lastCommitStamp: new Date(num(row[3])),
})

// -------------------------------------------------------------------------------------
// subscriptions
// -------------------------------------------------------------------------------------

/** A lease row in the order of `leaseColumns`: holder, epoch, expiry (epoch ms by SQLite's clock). */
export type LeaseRow = readonly unknown[]

/** A parked row in the order of `parkedColumns`: name, token, tenant, stream, error (JSON text), parked at (epoch ms). */
export type ParkedRow = readonly unknown[]

export const toLease = (name: string, row: LeaseRow): Lease => ({
  name,
  holder: text(row[0]),
  epoch: num(row[1]),
  expiresAt: new Date(num(row[2])),
})

/** The named parameters that identify a lease in the fenced statements. */
export const leaseParams = (lease: Lease): { name: string; holder: string; epoch: number } => ({
  name: lease.name,
  holder: lease.holder,
  epoch: lease.epoch,
})

/** A checkpoint as stored: its positions as one JSON object. */
export const encodeCheckpoint = (c: Checkpoint): string => JSON.stringify(c.positions)

/** The stored checkpoint, a fresh object. Throws on text that is not an object of whole numbers. */
export const toCheckpoint = (v: unknown): Checkpoint => {
  const positions = parseJson<unknown>(v)
  if (typeof positions !== 'object' || positions === null || Array.isArray(positions))
    throw new TypeError('a stored checkpoint is not an object of positions')
  for (const [shard, p] of Object.entries(positions))
    if (!Number.isSafeInteger(p)) throw new TypeError(`a stored checkpoint's position of shard ${JSON.stringify(shard)} is not a whole number`)
  return { positions: positions as Record<string, number> }
}

/** The named parameters of `park`: the lease's, and the parked commit's columns (filed under the lease's name). */
export const parkedParams = (lease: Lease, p: ParkedCommit): Record<string, unknown> => ({
  ...leaseParams(lease),
  checkpointToken: p.checkpointToken,
  tenantId: p.tenantId,
  streamId: p.streamId,
  error: JSON.stringify(p.error) ?? 'null',
  parkedAt: p.parkedAt.getTime(),
})

export const toParked = (row: ParkedRow): ParkedCommit => ({
  name: text(row[0]),
  checkpointToken: num(row[1]),
  tenantId: text(row[2]),
  streamId: text(row[3]),
  error: parseJson<Json>(row[4]),
  parkedAt: new Date(num(row[5])),
})
