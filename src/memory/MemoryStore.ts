import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { checkAgainstHead, gapAfterHead, validateAttempt } from '../eventstore/attempt.js'
import { firstRevision, type Commit, type CommitAttempt } from '../eventstore/Commit.js'
import {
  concurrencyConflict,
  duplicateCommit,
  storageError,
  type CommitError,
  type StorageError,
} from '../eventstore/errors.js'
import { lowerRevision, upperRevision, type Persistence, type RevisionRange } from '../eventstore/ports.js'
import { fromIterable, type Reads } from '../eventstore/reads.js'
import type { Snapshot, StreamHead } from '../eventstore/Snapshot.js'

interface StreamData {
  readonly commits: Commit[]
  readonly commitIds: Set<string>
  /** Ordered by revision ascending; one per revision. */
  snapshots: Snapshot[]
}

export interface MemoryStoreOptions {
  /** The store's name in messages; `memory` by default. */
  readonly name?: string
}

const deepFreeze = <A>(value: A): A => {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}

/**
 * Copies what a caller hands in, so that mutating it afterwards cannot change history, and freezes the copy
 * so that readers cannot either. `structuredClone` keeps Dates and rejects what JSON could not hold anyway.
 */
const own = <A>(value: A): E.Either<StorageError, A> =>
  E.tryCatch(
    () => deepFreeze(structuredClone(value)),
    (cause) => storageError('copy', cause),
  )

/**
 * What a reader gets: the stored commit with a Date of its own. Freezing cannot protect a Date (its time lives
 * in an internal slot that `setTime` changes), so each read hands out a copy and history stays unchanged.
 */
const handOut = (c: Commit): Commit => Object.freeze({ ...c, commitStamp: new Date(c.commitStamp.getTime()) })

const handOutAll = (commits: Iterable<Commit>): Reads<Commit> => fromIterable(Array.from(commits, handOut))

/**
 * The reference store: keeps the whole contract in process memory. Everything is synchronous underneath, so
 * an append is atomic with respect to every other call.
 */
export class MemoryStore implements Persistence {
  readonly name: string
  private readonly tenants = new Map<string, Map<string, StreamData>>()
  /** Every commit in checkpoint order. */
  private log: Commit[] = []
  private nextToken = 1

  constructor(options: MemoryStoreOptions = {}) {
    this.name = options.name ?? 'memory'
  }

  async commit(attempt: CommitAttempt): Promise<E.Either<CommitError, Commit>> {
    const valid = validateAttempt(attempt)
    if (E.isLeft(valid)) return valid
    const stream = this.stream(attempt.tenantId, attempt.streamId)
    if (stream?.commitIds.has(attempt.commitId)) {
      return E.left(duplicateCommit(attempt.tenantId, attempt.streamId, attempt.commitId))
    }
    const head = stream?.commits[stream.commits.length - 1]
    switch (checkAgainstHead(attempt, head)) {
      case 'behind': {
        // What the writer had not seen: every commit from the first one it collides with, on either number.
        const first = firstRevision(attempt)
        const missed = (stream?.commits ?? [])
          .filter((c) => c.commitSequence >= attempt.commitSequence || c.streamRevision >= first)
          .map(handOut)
        return E.left(
          concurrencyConflict(attempt.tenantId, attempt.streamId, attempt.commitSequence, attempt.streamRevision, missed),
        )
      }
      case 'gap':
        return E.left(gapAfterHead(attempt, head))
      case 'continues':
        break
    }
    const copy = own({ ...attempt, checkpointToken: this.nextToken })
    if (E.isLeft(copy)) return copy
    this.nextToken += 1
    const data = stream ?? this.createStream(attempt.tenantId, attempt.streamId)
    data.commits.push(copy.right)
    data.commitIds.add(attempt.commitId)
    this.log.push(copy.right)
    return E.right(handOut(copy.right))
  }

  get(tenantId: string, streamId: string, range: RevisionRange = {}): Reads<Commit> {
    const min = lowerRevision(range.minRevision)
    const max = upperRevision(range.maxRevision)
    const commits = this.stream(tenantId, streamId)?.commits ?? []
    // A commit overlaps [min, max] when its last revision reaches min and its first does not pass max.
    return handOutAll(commits.filter((c) => c.streamRevision >= min && firstRevision(c) <= max))
  }

  getTo(tenantId: string, streamId: string, maxTime: Date): Reads<Commit> {
    const t = maxTime.getTime()
    const commits = this.stream(tenantId, streamId)?.commits ?? []
    return handOutAll(commits.filter((c) => c.commitStamp.getTime() <= t))
  }

  getAllTo(tenantId: string, maxTime: Date): Reads<Commit> {
    const t = maxTime.getTime()
    return handOutAll(this.log.filter((c) => c.tenantId === tenantId && c.commitStamp.getTime() <= t))
  }

  getFrom(checkpoint: number, tenantId?: string): Reads<Commit> {
    return this.window(checkpoint, Number.MAX_SAFE_INTEGER, tenantId)
  }

  getFromTo(from: number, to: number, tenantId?: string): Reads<Commit> {
    return this.window(from, to, tenantId)
  }

  async getSnapshot(tenantId: string, streamId: string, maxRevision?: number): Promise<E.Either<StorageError, O.Option<Snapshot>>> {
    const max = upperRevision(maxRevision)
    const snapshots = this.stream(tenantId, streamId)?.snapshots ?? []
    let found: Snapshot | undefined
    for (const s of snapshots) if (s.streamRevision <= max) found = s
    return E.right(O.fromNullable(found))
  }

  async addSnapshot(snapshot: Snapshot): Promise<E.Either<StorageError, void>> {
    const copy = own(snapshot)
    if (E.isLeft(copy)) return copy
    const data = this.stream(snapshot.tenantId, snapshot.streamId) ?? this.createStream(snapshot.tenantId, snapshot.streamId)
    // One snapshot per revision: a later one at the same revision replaces the earlier.
    data.snapshots = [...data.snapshots.filter((s) => s.streamRevision !== snapshot.streamRevision), copy.right].sort(
      (a, b) => a.streamRevision - b.streamRevision,
    )
    return E.right(undefined)
  }

  streamsToSnapshot(tenantId: string, threshold: number): Reads<StreamHead> {
    const heads: StreamHead[] = []
    for (const [streamId, data] of this.tenants.get(tenantId) ?? []) {
      const head = data.commits[data.commits.length - 1]
      if (head === undefined) continue
      const snapshotRevision = data.snapshots[data.snapshots.length - 1]?.streamRevision ?? 0
      if (head.streamRevision - snapshotRevision >= threshold) {
        heads.push({ tenantId, streamId, headRevision: head.streamRevision, snapshotRevision })
      }
    }
    return fromIterable(heads)
  }

  async initialize(): Promise<E.Either<StorageError, void>> {
    return E.right(undefined)
  }

  async drop(): Promise<E.Either<StorageError, void>> {
    this.tenants.clear()
    this.log = []
    return E.right(undefined)
  }

  async purge(tenantId?: string): Promise<E.Either<StorageError, void>> {
    if (tenantId === undefined) return this.drop()
    this.tenants.delete(tenantId)
    this.log = this.log.filter((c) => c.tenantId !== tenantId)
    return E.right(undefined)
  }

  async deleteStream(tenantId: string, streamId: string): Promise<E.Either<StorageError, void>> {
    const streams = this.tenants.get(tenantId)
    if (streams?.delete(streamId)) {
      this.log = this.log.filter((c) => c.tenantId !== tenantId || c.streamId !== streamId)
    }
    return E.right(undefined)
  }

  async close(): Promise<void> {}

  private stream(tenantId: string, streamId: string): StreamData | undefined {
    return this.tenants.get(tenantId)?.get(streamId)
  }

  private createStream(tenantId: string, streamId: string): StreamData {
    let streams = this.tenants.get(tenantId)
    if (streams === undefined) {
      streams = new Map()
      this.tenants.set(tenantId, streams)
    }
    const data: StreamData = { commits: [], commitIds: new Set(), snapshots: [] }
    streams.set(streamId, data)
    return data
  }

  private window(from: number, to: number, tenantId: string | undefined): Reads<Commit> {
    // The log is sorted by token; find the first token above `from` by binary search.
    let lo = 0
    let hi = this.log.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((this.log[mid]?.checkpointToken ?? 0) <= from) lo = mid + 1
      else hi = mid
    }
    const out: Commit[] = []
    for (let i = lo; i < this.log.length; i++) {
      const c = this.log[i] as Commit
      if (c.checkpointToken > to) break
      if (tenantId === undefined || c.tenantId === tenantId) out.push(c)
    }
    return handOutAll(out)
  }
}

/** A new, empty in-memory store. */
export const memoryStore = (options: MemoryStoreOptions = {}): MemoryStore => new MemoryStore(options)
