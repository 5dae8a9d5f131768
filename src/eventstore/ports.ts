import type { Either } from 'fp-ts/lib/Either.js'
import type { Option } from 'fp-ts/lib/Option.js'
import type { Commit, CommitAttempt } from './Commit.js'
import type { CommitError, ReadError, SnapshotError, StorageError } from './errors.js'
import type { Reads } from './reads.js'
import type { Snapshot, StreamHead, StreamInfo } from './Snapshot.js'

/** Bounds of a stream read. A missing or non-positive bound means "from the start" / "to the end". */
export interface RevisionRange {
  readonly minRevision?: number
  readonly maxRevision?: number
}

/**
 * Writes and reads commits (SEMANTICS 1-8, 13-15). Every method returns its failures as values; reads are
 * async iterables that page internally.
 */
export interface CommitStore {
  /** Appends an attempt whole or not at all. */
  commit(attempt: CommitAttempt): Promise<Either<CommitError, Commit>>
  /** The whole commits of a stream that overlap `[minRevision, maxRevision]`, oldest first. */
  get(tenantId: string, streamId: string, range?: RevisionRange): Reads<Commit>
  /** A stream's commits stamped at or before `maxTime`, oldest first. */
  getTo(tenantId: string, streamId: string, maxTime: Date): Reads<Commit>
  /** A tenant's commits stamped at or before `maxTime`, in checkpoint order. */
  getAllTo(tenantId: string, maxTime: Date): Reads<Commit>
  /** Commits with a checkpoint token above `checkpoint`, ascending; optionally one tenant's only. */
  getFrom(checkpoint: number, tenantId?: string): Reads<Commit>
  /** Commits with a checkpoint token in `(from, to]`, ascending; optionally one tenant's only. */
  getFromTo(from: number, to: number, tenantId?: string): Reads<Commit>
}

/** Keeps snapshots (SEMANTICS 9-11). Adding a snapshot at a revision that has one replaces it. */
export interface SnapshotStore {
  /** The newest snapshot at or below `maxRevision` (any, when absent or non-positive). */
  getSnapshot(tenantId: string, streamId: string, maxRevision?: number): Promise<Either<ReadError, Option<Snapshot>>>
  /** Refuses, as an `InvalidAttempt` and before any I/O, a snapshot that cannot be stored exactly. */
  addSnapshot(snapshot: Snapshot): Promise<Either<SnapshotError, void>>
  /** Stream heads whose head revision minus newest snapshot revision is at least `threshold`. */
  streamsToSnapshot(tenantId: string, threshold: number): Reads<StreamHead>
}

/**
 * One item of a `readLatest` read: the snapshot a load starts from (at most one, and only as the first item), or
 * a commit after it.
 */
export type Latest =
  | { readonly _tag: 'Snapshot'; readonly snapshot: Snapshot }
  | { readonly _tag: 'Commit'; readonly commit: Commit }

/**
 * A load in one statement (one round trip), which a store may offer: repositories use it when it is there and
 * fall back to `getSnapshot` then `get` when it is not.
 */
export interface LatestReader {
  /**
   * The newest snapshot at or below `maxRevision` (any, when absent or non-positive), then the whole commits that
   * overlap `(snapshot revision, maxRevision]`, oldest first: exactly what `getSnapshot(tenantId, streamId, max)`
   * and then `get(tenantId, streamId, { minRevision: snapshot revision + 1, maxRevision: max })` answer, without a
   * snapshot from revision 1. The first page comes back with the snapshot; a long stream pages on like `get`.
   */
  readonly readLatest?: (tenantId: string, streamId: string, maxRevision?: number) => Reads<Latest>
}

/**
 * Where a stream stood when a `changeStamp` was taken: `shared` changes whenever anything but this store object's
 * own writes to the stream may have changed the store (another connection or process committing, a purge); `own`
 * counts this store object's settled writes to the stream.
 */
export interface ChangeStamp {
  readonly shared: string
  readonly own: number
}

/**
 * A cheap, synchronous "has this stream changed since?", which a store may offer (repositories with a state cache
 * use it to skip a read that would find nothing). The promise: if a stamp taken at time T equals one taken later
 * (`shared` and `own` alike), then nothing was committed to the stream, by anyone in any process, between T and
 * the later stamp. Stamps may differ when nothing changed (a needless read, never a missed commit).
 */
export interface StreamStamps {
  /**
   * The stream's stamp now; `undefined` when the store cannot tell (not connected yet, closed, one of its own
   * writes to the stream still in flight). `own` grows by exactly one when an append of this store object to the
   * stream settles (whatever its answer), and by at least one for any other write of it that touches the stream.
   */
  readonly changeStamp?: (tenantId: string, streamId: string) => ChangeStamp | undefined
}

/** What a store holds, for tools and operators (the `aett` command line lists streams with it). */
export interface StreamCatalog {
  /** Every stream of a tenant with its head, paged inside the store; the order is the store's own, stable between calls. */
  listStreams(tenantId: string): Reads<StreamInfo>
  /** Every tenant that holds at least one commit, paged inside the store, in the store's own stable order. */
  listTenants(): Reads<string>
}

/** Lifecycle of a store's schema and data (SEMANTICS 12). */
export interface PersistenceManagement {
  /** Creates (or migrates) what the store needs; safe to call again. */
  initialize(): Promise<Either<StorageError, void>>
  /** Removes everything the store created. */
  drop(): Promise<Either<StorageError, void>>
  /** Deletes one tenant's commits and snapshots, or every tenant's when none is given. */
  purge(tenantId?: string): Promise<Either<StorageError, void>>
  deleteStream(tenantId: string, streamId: string): Promise<Either<StorageError, void>>
  /** Releases connections the store opened itself (never one the caller passed in). Idempotent. */
  close(): Promise<void>
}

/** A complete store: what every backend of the kit implements and the contract suite checks. */
export interface Persistence extends CommitStore, SnapshotStore, LatestReader, StreamStamps, StreamCatalog, PersistenceManagement {
  /** A short name for messages and benchmarks, such as `sqlite` or `postgres`. */
  readonly name: string
}

/** The parts of a store a repository uses (the domain layer's port); every `Persistence` is one. */
export type EventStore = CommitStore & SnapshotStore & LatestReader & StreamStamps
