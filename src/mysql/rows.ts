import { createHash } from 'node:crypto'
import { firstRevision, type Commit, type CommitAttempt, type EventMessage } from '../eventstore/Commit.js'
import type { Headers, Json } from '../eventstore/Json.js'
import type { Snapshot, StreamHead, StreamInfo } from '../eventstore/Snapshot.js'
import type { Checkpoint, Lease, ParkedCommit } from '../eventstore/subscriptionStore.js'
import { num, parseJson, text } from '../sql/rows.js'

// -------------------------------------------------------------------------------------
// keys
// -------------------------------------------------------------------------------------

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest()

/** Lookup key of a tenant. */
export const tenantKey = (tenantId: string): Buffer => sha256(tenantId)

/** Lookup key of a stream: a JSON pair, so that no (tenant, stream) pair can spell another. */
export const streamKey = (tenantId: string, streamId: string): Buffer => sha256(JSON.stringify([tenantId, streamId]))

/** Lookup key of a commit id within its stream. */
export const commitKey = (commitId: string): Buffer => sha256(commitId)

/** Lookup key of a subscription name, and of a lease holder. */
export const nameKey = (name: string): Buffer => sha256(name)

// -------------------------------------------------------------------------------------
// commits
// -------------------------------------------------------------------------------------

/** Parameters of the append routine, in its order. */
export const appendParameters = (a: CommitAttempt): readonly unknown[] => [
  tenantKey(a.tenantId),
  streamKey(a.tenantId, a.streamId),
  commitKey(a.commitId),
  a.tenantId,
  a.streamId,
  a.commitId,
  a.commitSequence,
  a.streamRevision,
  firstRevision(a),
  a.commitStamp.getTime(),
  JSON.stringify(a.headers),
  JSON.stringify(a.events),
]

export interface CommitRow {
  readonly checkpoint_token: unknown
  readonly tenant_id: unknown
  readonly stream_id: unknown
  readonly commit_id: unknown
  readonly commit_sequence: unknown
  readonly stream_revision: unknown
  readonly commit_stamp: unknown
  readonly headers: unknown
  readonly events: unknown
}

/** A commit row back to a commit; throws on a row that does not parse (`mapRows` turns that into a StorageError). */
export const toCommit = (row: CommitRow): Commit => ({
  tenantId: text(row.tenant_id),
  streamId: text(row.stream_id),
  streamRevision: num(row.stream_revision),
  commitId: text(row.commit_id),
  commitSequence: num(row.commit_sequence),
  commitStamp: new Date(num(row.commit_stamp)),
  headers: parseJson<Headers>(row.headers),
  events: parseJson<readonly EventMessage[]>(row.events),
  checkpointToken: num(row.checkpoint_token),
})

/** What the append routine answers: the new token (or null), the duplicate flag and the head. */
export interface OutcomeRow {
  readonly checkpoint_token: unknown
  readonly duplicate: unknown
  readonly head_sequence: unknown
  readonly head_revision: unknown
}

export interface AppendOutcome {
  readonly checkpointToken: number | null
  readonly duplicate: boolean
  /** The head the attempt was checked against (its commits are those a refused attempt missed). */
  readonly head: { readonly commitSequence: number; readonly streamRevision: number }
}

/** A CALL answers with its result sets first and a status packet last; the outcome is the first set's row. */
export const toOutcome = (result: unknown): AppendOutcome | undefined => {
  const first: unknown = Array.isArray(result) ? result[0] : undefined
  const row = (Array.isArray(first) ? first[0] : undefined) as OutcomeRow | undefined
  if (row === undefined) return undefined
  return {
    checkpointToken: row.checkpoint_token === null ? null : num(row.checkpoint_token),
    duplicate: num(row.duplicate) > 0,
    head: { commitSequence: num(row.head_sequence), streamRevision: num(row.head_revision) },
  }
}

// -------------------------------------------------------------------------------------
// snapshots
// -------------------------------------------------------------------------------------

export const snapshotParameters = (s: Snapshot): readonly unknown[] => [
  streamKey(s.tenantId, s.streamId),
  s.streamRevision,
  tenantKey(s.tenantId),
  s.tenantId,
  s.streamId,
  s.commitSequence,
  JSON.stringify(s.payload),
  JSON.stringify(s.headers),
]

export interface SnapshotRow {
  readonly tenant_id: unknown
  readonly stream_id: unknown
  readonly stream_revision: unknown
  readonly commit_sequence: unknown
  readonly payload: unknown
  readonly headers: unknown
}

export const toSnapshot = (row: SnapshotRow): Snapshot => ({
  tenantId: text(row.tenant_id),
  streamId: text(row.stream_id),
  streamRevision: num(row.stream_revision),
  commitSequence: num(row.commit_sequence),
  payload: parseJson<Json>(row.payload),
  headers: parseJson<Headers>(row.headers),
})

export interface StreamHeadRow {
  readonly stream_key: unknown
  readonly tenant_id: unknown
  readonly stream_id: unknown
  readonly head_revision: unknown
  readonly snapshot_revision: unknown
}

/** A head together with its stream key, the cursor of the next page. */
export const toStreamHead = (row: StreamHeadRow): { readonly item: StreamHead; readonly cursor: Buffer } => ({
  item: {
    tenantId: text(row.tenant_id),
    streamId: text(row.stream_id),
    headRevision: num(row.head_revision),
    snapshotRevision: num(row.snapshot_revision),
  },
  cursor: Buffer.from(row.stream_key as Uint8Array),
})

export interface StreamListRow {
  readonly stream_key: unknown
  readonly stream_id: unknown
  readonly head_sequence: unknown
  readonly head_revision: unknown
  readonly commit_stamp: unknown
}

/** A stream of the catalog together with its stream key, the cursor of the next page. */
export const toStreamInfo =
  (tenantId: string) =>
  (row: StreamListRow): { readonly item: StreamInfo; readonly cursor: Buffer } => ({
    item: {
      tenantId,
      streamId: text(row.stream_id),
      headSequence: num(row.head_sequence),
      headRevision: num(row.head_revision),
      lastCommitStamp: new Date(num(row.commit_stamp)),
    },
    cursor: Buffer.from(row.stream_key as Uint8Array),
  })

export interface TenantRow {
  readonly tenant_key: unknown
  readonly tenant_id: unknown
}

export const toTenant = (row: TenantRow): { readonly item: string; readonly cursor: Buffer } => ({
  item: text(row.tenant_id),
  cursor: Buffer.from(row.tenant_key as Uint8Array),
})

// -------------------------------------------------------------------------------------
// subscriptions
// -------------------------------------------------------------------------------------

/** A subscription row as `lease` selects it, with the server's clock at the time of the read. */
export interface LeaseRow {
  readonly holder_key: unknown
  readonly holder: unknown
  readonly epoch: unknown
  readonly expires_at: unknown
  readonly released: unknown
  readonly now_ms: unknown
}

/** A lease row, read: whether it is live (by the server's clock) and whose it is. */
export interface StoredLease {
  readonly lease: Lease
  readonly holderKey: Buffer
  readonly live: boolean
}

export const toStoredLease = (name: string, row: LeaseRow): StoredLease => {
  const expiresAt = num(row.expires_at)
  return {
    lease: { name, holder: text(row.holder), epoch: num(row.epoch), expiresAt: new Date(expiresAt) },
    holderKey: Buffer.from(row.holder_key as Uint8Array),
    live: num(row.released) === 0 && expiresAt > num(row.now_ms),
  }
}

/** The fence's parameters: the lease's name, holder and epoch, in the order the statements name them. */
export const leaseParameters = (lease: Lease): readonly unknown[] => [nameKey(lease.name), nameKey(lease.holder), lease.epoch]

/** A checkpoint as stored: its positions as one JSON object; `undefined` (none) is NULL. */
export const encodeCheckpoint = (c: Checkpoint | undefined): string | null => (c === undefined ? null : JSON.stringify(c.positions))

/** The stored checkpoint, a fresh object. Throws on text that is not an object of whole numbers. */
export const toCheckpoint = (v: unknown): Checkpoint => {
  const positions = parseJson<unknown>(v)
  if (typeof positions !== 'object' || positions === null || Array.isArray(positions))
    throw new TypeError('a stored checkpoint is not an object of positions')
  for (const [shard, p] of Object.entries(positions))
    if (!Number.isSafeInteger(p)) throw new TypeError(`a stored checkpoint's position of shard ${JSON.stringify(shard)} is not a whole number`)
  return { positions: positions as Record<string, number> }
}

/** Parameters of `park`: the record is filed under the lease's name. */
export const parkParameters = (lease: Lease, p: ParkedCommit): readonly unknown[] => [
  nameKey(lease.name),
  p.checkpointToken,
  lease.name,
  p.tenantId,
  p.streamId,
  JSON.stringify(p.error) ?? 'null',
  p.parkedAt.getTime(),
]

export interface ParkedRow {
  readonly name: unknown
  readonly checkpoint_token: unknown
  readonly tenant_id: unknown
  readonly stream_id: unknown
  readonly error: unknown
  readonly parked_at: unknown
}

export const toParked = (row: ParkedRow): ParkedCommit => ({
  name: text(row.name),
  checkpointToken: num(row.checkpoint_token),
  tenantId: text(row.tenant_id),
  streamId: text(row.stream_id),
  error: parseJson<Json>(row.error),
  parkedAt: new Date(num(row.parked_at)),
})
