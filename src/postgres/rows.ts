import * as E from 'fp-ts/lib/Either.js'
import type { Commit, CommitAttempt } from '../eventstore/Commit.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import type { Headers, Json } from '../eventstore/Json.js'
import type { Snapshot, StreamHead } from '../eventstore/Snapshot.js'

type Row = Record<string, unknown>

// bigint columns arrive as strings from pg's default parsers, or as numbers/bigints when a caller registered other
// parsers on their pool; Number() takes all three. Values above 2^53 would lose precision (see the docs).
const num = (v: unknown): number => Number(v as string)

const text = (v: unknown): string => String(v)

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

const parseJson = <A>(v: unknown): A => JSON.parse(text(v)) as A

/** A stored commit from its row; a row that does not parse (edited by hand, say) is a storage error. */
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

/** Maps every row, turning a parse failure into a storage error instead of a throw. */
export const mapRows = <A>(
  operation: string,
  rows: readonly Row[],
  f: (row: Row) => A,
): E.Either<StorageError, readonly A[]> =>
  E.tryCatch(
    () => rows.map(f),
    (cause) => storageError(`${operation} (decoding a row)`, cause),
  )

// -------------------------------------------------------------------------------------
// bounds
// -------------------------------------------------------------------------------------

const maxBound = Number.MAX_SAFE_INTEGER

/** An integer checkpoint bound: tokens are integers, so `token > 1.5` is `token > 1`; NaN reads as 0. */
export const tokenBound = (n: number): number =>
  Number.isNaN(n) ? 0 : Math.max(-maxBound, Math.min(maxBound, Math.floor(n)))

/** The lowest revision a read asks for; a missing or non-positive bound means from the start. */
export const minRevisionBound = (n: number | undefined): number =>
  n !== undefined && n > 0 ? Math.min(maxBound, Math.ceil(n)) : 1

/** The highest revision a read asks for; a missing or non-positive bound means to the end. */
export const maxRevisionBound = (n: number | undefined): number =>
  n !== undefined && n > 0 ? Math.min(maxBound, Math.floor(n)) : maxBound

/** Milliseconds of a `maxTime`, clamped to what PostgreSQL timestamps hold; an invalid Date is the far future. */
export const timeBound = (d: Date): number => {
  const ms = d.getTime()
  return Number.isNaN(ms) ? maxTimestampMs : Math.max(minTimestampMs, Math.min(maxTimestampMs, ms))
}

// PostgreSQL timestamps run from 4713 BC to 294276 AD; JavaScript Dates from -271821 to 275760, so only the
// lower end needs clamping, but both ends are kept explicit.
const minTimestampMs = Date.UTC(-4712, 11, 31)
const maxTimestampMs = 8_640_000_000_000_000
