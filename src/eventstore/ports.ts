import type { Either } from 'fp-ts/lib/Either.js'
import type { Option } from 'fp-ts/lib/Option.js'
import type { Commit, CommitAttempt } from './Commit.js'
import type { CommitError, StorageError } from './errors.js'
import type { Reads } from './reads.js'
import type { Snapshot, StreamHead } from './Snapshot.js'

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
  getSnapshot(tenantId: string, streamId: string, maxRevision?: number): Promise<Either<StorageError, Option<Snapshot>>>
  addSnapshot(snapshot: Snapshot): Promise<Either<StorageError, void>>
  /** Stream heads whose head revision minus newest snapshot revision is at least `threshold`. */
  streamsToSnapshot(tenantId: string, threshold: number): Reads<StreamHead>
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
export interface Persistence extends CommitStore, SnapshotStore, PersistenceManagement {
  /** A short name for messages and benchmarks, such as `sqlite` or `postgres`. */
  readonly name: string
}

/** The first revision a read starts at: a missing or non-positive bound means "from the start" (SEMANTICS 5). */
export const lowerRevision = (minRevision: number | undefined): number =>
  minRevision !== undefined && minRevision > 0 ? minRevision : 1

/** The last revision a read reaches: a missing or non-positive bound means "to the end" (SEMANTICS 5, 9). */
export const upperRevision = (maxRevision: number | undefined): number =>
  maxRevision !== undefined && maxRevision > 0 ? maxRevision : Number.MAX_SAFE_INTEGER
