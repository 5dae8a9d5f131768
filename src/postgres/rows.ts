import type { Commit, CommitAttempt } from '../eventstore/Commit.js'
import type { Headers, Json } from '../eventstore/Json.js'
import type { Snapshot, StreamHead, StreamInfo } from '../eventstore/Snapshot.js'
import type { Checkpoint, Lease, ParkedCommit } from '../eventstore/subscriptionStore.js'
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

export const toStreamInfo =
  (tenantId: string) =>
  (row: Row): StreamInfo => ({
    tenantId,
    streamId: text(row['stream_id']),
    headRevision: num(row['stream_revision']),
    headSequence: num(row['commit_sequence']),
    lastCommitStamp: new Date(num(row['stamp_ms'])),
  })

// -------------------------------------------------------------------------------------
// subscriptions
// -------------------------------------------------------------------------------------

export const toLease =
  (name: string) =>
  (row: Row): Lease =>
    Object.freeze({ name, holder: text(row['holder']), epoch: num(row['epoch']), expiresAt: new Date(num(row['expires_ms'])) })

/** A stored checkpoint: `{ positions: { shard: token } }`, every position a whole number. */
export const toCheckpoint = (row: Row): Checkpoint => {
  const stored = parseJson<unknown>(row['checkpoint'])
  const positions = typeof stored === 'object' && stored !== null ? (stored as { positions?: unknown }).positions : undefined
  if (typeof positions !== 'object' || positions === null || Array.isArray(positions)) throw new TypeError('a checkpoint without positions')
  const out: Record<string, number> = {}
  for (const [shard, token] of Object.entries(positions as Record<string, unknown>)) {
    if (typeof token !== 'number' || !Number.isSafeInteger(token)) throw new TypeError(`checkpoint position ${JSON.stringify(shard)} is not a whole number`)
    out[shard] = token
  }
  return { positions: out }
}

export const checkpointJson = (c: Checkpoint | undefined): string | null =>
  c === undefined ? null : JSON.stringify({ positions: c.positions })

export const toParked = (row: Row): ParkedCommit => ({
  name: text(row['name']),
  checkpointToken: num(row['checkpoint_token']),
  tenantId: text(row['tenant_id']),
  streamId: text(row['stream_id']),
  error: parseJson<Json>(row['error']),
  parkedAt: new Date(num(row['parked_ms'])),
})

/** Parameters of the `park` statement after the lease's three (name, holder, epoch), in order. */
export const parkedParams = (p: ParkedCommit): unknown[] => [p.checkpointToken, p.tenantId, p.streamId, JSON.stringify(p.error), p.parkedAt.getTime()]

// -------------------------------------------------------------------------------------
// the horizon
// -------------------------------------------------------------------------------------

/**
 * The transaction that holds the gap-free horizon back: the oldest one still in flight, whose commits (and every
 * later one's) global reads cannot hand out until it ends. A session (from `pg_stat_activity`, of any database of
 * the cluster: transaction ids are global), or a prepared transaction that nobody committed (`prepared` is its gid;
 * it has no session).
 */
export interface HorizonHolder {
  /** The backend's process id, for `pg_terminate_backend`; undefined for a prepared transaction. */
  readonly pid: number | undefined
  readonly applicationName: string | undefined
  readonly database: string | undefined
  /** `active`, `idle in transaction`, ...; undefined for a prepared transaction (or without the privilege to see it). */
  readonly state: string | undefined
  /** When its transaction started (a prepared transaction: when it was prepared); undefined without the privilege. */
  readonly xactStart: Date | undefined
  /** Its transaction id, as PostgreSQL shows it (32 bits). */
  readonly xid: string
  readonly prepared: string | undefined
}

const optionalText = (v: unknown): string | undefined => (v === null || v === undefined ? undefined : String(v))

export const toHorizonHolder = (row: Row): HorizonHolder => ({
  pid: row['pid'] === null || row['pid'] === undefined ? undefined : Number(row['pid']),
  applicationName: optionalText(row['application_name']),
  database: optionalText(row['datname']),
  state: optionalText(row['state']),
  xactStart: row['xact_start_ms'] === null || row['xact_start_ms'] === undefined ? undefined : new Date(Number(row['xact_start_ms'])),
  xid: String(row['xid']),
  prepared: optionalText(row['prepared']),
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
