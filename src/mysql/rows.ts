import { createHash } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import { firstRevision, type Commit, type CommitAttempt } from '../eventstore/Commit.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import type { EventMessage } from '../eventstore/Commit.js'
import type { Headers, Json } from '../eventstore/Json.js'
import type { Snapshot, StreamHead } from '../eventstore/Snapshot.js'

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

/**
 * Ids travel as UTF-8, where a lone surrogate (a broken UTF-16 string) turns into U+FFFD and two different
 * strings would become one. Such ids are refused on write (see `wellFormedIds`); reads with them find nothing.
 */
export { isStorableId as isWellFormed } from '../eventstore/ids.js'

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

/** The columns every commit read selects, in the order `toCommit` expects. */
export const commitColumns =
  'checkpoint_token, tenant_id, stream_id, commit_id, commit_sequence, stream_revision, commit_stamp, headers, events'

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

/** BIGINT columns come back as numbers, or as strings from pools configured with `bigNumberStrings`. */
export const toNumber = (u: unknown): number => (typeof u === 'number' ? u : Number(u))

const toText = (u: unknown): string => (Buffer.isBuffer(u) ? u.toString('utf8') : String(u))

const parse = <A>(u: unknown): A => JSON.parse(toText(u)) as A

export const toCommit = (row: CommitRow): E.Either<StorageError, Commit> =>
  E.tryCatch(
    () => ({
      tenantId: toText(row.tenant_id),
      streamId: toText(row.stream_id),
      streamRevision: toNumber(row.stream_revision),
      commitId: toText(row.commit_id),
      commitSequence: toNumber(row.commit_sequence),
      commitStamp: new Date(toNumber(row.commit_stamp)),
      headers: parse<Headers>(row.headers),
      events: parse<readonly EventMessage[]>(row.events),
      checkpointToken: toNumber(row.checkpoint_token),
    }),
    (cause) => storageError('decode commit row', cause),
  )

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

export const toSnapshot = (row: SnapshotRow): E.Either<StorageError, Snapshot> =>
  E.tryCatch(
    () => ({
      tenantId: toText(row.tenant_id),
      streamId: toText(row.stream_id),
      streamRevision: toNumber(row.stream_revision),
      commitSequence: toNumber(row.commit_sequence),
      payload: parse<Json>(row.payload),
      headers: parse<Headers>(row.headers),
    }),
    (cause) => storageError('decode snapshot row', cause),
  )

export interface StreamHeadRow {
  readonly stream_key: unknown
  readonly tenant_id: unknown
  readonly stream_id: unknown
  readonly head_revision: unknown
  readonly snapshot_revision: unknown
}

export const toStreamHead = (row: StreamHeadRow): StreamHead => ({
  tenantId: toText(row.tenant_id),
  streamId: toText(row.stream_id),
  headRevision: toNumber(row.head_revision),
  snapshotRevision: toNumber(row.snapshot_revision),
})

/** Decodes every row of a page, stopping at the first that fails. */
export const decodeAll = <R, A>(rows: readonly R[], decode: (r: R) => E.Either<StorageError, A>): E.Either<StorageError, A[]> => {
  const out: A[] = []
  for (const row of rows) {
    const a = decode(row)
    if (E.isLeft(a)) return a
    out.push(a.right)
  }
  return E.right(out)
}
