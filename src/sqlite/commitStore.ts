import * as E from 'fp-ts/lib/Either.js'
import { checkAgainstHead, gapAfterHead, validateAttempt, type Head } from '../eventstore/attempt.js'
import type { Commit, CommitAttempt } from '../eventstore/Commit.js'
import {
  concurrencyConflict,
  duplicateCommit,
  storageError,
  type CommitError,
} from '../eventstore/errors.js'
import type { RevisionRange } from '../eventstore/ports.js'
import { paged, type Reads } from '../eventstore/reads.js'
import { isUniqueViolation, retrying, withRetry, type RetryPolicy } from './errors.js'
import { encodePayload, insertParams, toCommit, type CommitRow } from './rows.js'
import type { Statements } from './statements.js'

/** What the commit and snapshot functions need from their store. */
export interface StoreContext {
  readonly retry: RetryPolicy
  readonly pageSize: number
  /** The store's prepared statements; throws the driver's error when they cannot be prepared. */
  readonly statements: () => Statements
}

const end = Number.MAX_SAFE_INTEGER

/** A bound that is missing or not positive means "from the start" / "to the end" (SEMANTICS 5). */
const bound = (n: number | undefined, otherwise: number): number => (n !== undefined && n > 0 ? n : otherwise)

// -------------------------------------------------------------------------------------
// append
// -------------------------------------------------------------------------------------

/** The attempt as stored, with its token; the caller's objects are kept, not copied. */
const stored = (a: CommitAttempt, token: number | bigint): Commit => ({
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

/**
 * Appends a commit (SEMANTICS 1-4). The common case is one statement that inserts only when the attempt
 * continues the head; anything else (a conflict, a duplicate, a gap, a unique index refusing the row because
 * another process won a race) is classified again under the write lock, where the answer is stable.
 */
export const append = (ctx: StoreContext, a: CommitAttempt): Promise<E.Either<CommitError, Commit>> => {
  const valid = validateAttempt(a)
  if (E.isLeft(valid)) return Promise.resolve(valid)
  let payload: string
  try {
    payload = encodePayload(a)
  } catch (cause) {
    return Promise.resolve(E.left(storageError('commit: encode events as JSON', cause)))
  }
  return withRetry('commit', ctx.retry, () => appendOnce(ctx.statements(), a, payload))
}

const appendOnce = (st: Statements, a: CommitAttempt, payload: string): E.Either<CommitError, Commit> => {
  const headSequence = a.commitSequence - 1
  const headRevision = a.streamRevision - a.events.length
  try {
    // The insert's columns, then the head it must continue: the stored one, or none at (0, 0).
    const r = st.appendIfContinues.run(...insertParams(a, payload), headSequence, headRevision, a.tenantId, a.streamId, headSequence, headRevision)
    if (r.changes === 1) return E.right(stored(a, r.lastInsertRowid))
  } catch (cause) {
    if (!isUniqueViolation(cause)) throw cause
  }
  return underLock(st, () => classify(st, a, payload))
}

/** Runs `f` in a `BEGIN IMMEDIATE` transaction, committing a Right and rolling back a Left or a throw. */
const underLock = <L, A>(st: Statements, f: () => E.Either<L, A>): E.Either<L, A> => {
  st.begin.run()
  try {
    const result = f()
    if (E.isRight(result)) st.commit.run()
    else st.rollback.run()
    return result
  } catch (cause) {
    try {
      st.rollback.run()
    } catch {
      // SQLite may already have rolled back on its own (e.g. after SQLITE_FULL); the original error matters.
    }
    throw cause
  }
}

const classify = (st: Statements, a: CommitAttempt, payload: string): E.Either<CommitError, Commit> => {
  // A known commit id wins over every other answer (SEMANTICS 4).
  if (st.hasCommitId.get(a.tenantId, a.streamId, a.commitId) !== undefined)
    return E.left(duplicateCommit(a.tenantId, a.streamId, a.commitId))
  const head = st.head.get(a.tenantId, a.streamId) as Head | undefined
  switch (checkAgainstHead(a, head)) {
    case 'continues': {
      // The stream changed between the fast path and the lock (e.g. it was deleted): insert now.
      try {
        return E.right(stored(a, st.insert.run(...insertParams(a, payload)).lastInsertRowid))
      } catch (cause) {
        if (isUniqueViolation(cause)) return E.left(storageError('commit: unique index refused a checked row', cause))
        throw cause
      }
    }
    case 'behind': {
      const first = a.streamRevision - a.events.length + 1
      const rows = st.missed.all(a.tenantId, a.streamId, a.commitSequence, first) as CommitRow[]
      return E.left(concurrencyConflict(a.tenantId, a.streamId, a.commitSequence, a.streamRevision, rows.map(toCommit)))
    }
    case 'gap':
      return E.left(gapAfterHead(a, head))
  }
}

// -------------------------------------------------------------------------------------
// reads
// -------------------------------------------------------------------------------------

/** One page of commits; a driver failure or an unreadable row becomes a StorageError. */
const commitPage = (ctx: StoreContext, operation: string, query: (st: Statements) => unknown[]) =>
  retrying(operation, ctx.retry, () => (query(ctx.statements()) as CommitRow[]).map(toCommit))

/** SEMANTICS 5: the whole commits overlapping `[min, max]`, paged by revision. */
export const get = (ctx: StoreContext, tenantId: string, streamId: string, range: RevisionRange = {}): Reads<Commit> => {
  const max = bound(range.maxRevision, end)
  return paged(
    bound(range.minRevision, 1),
    ctx.pageSize,
    (cursor, limit) =>
      commitPage(ctx, 'get', (st) => st.streamPage.all(tenantId, streamId, cursor, tenantId, streamId, max, max, max, limit)),
    (c) => c.streamRevision + 1,
  )
}

/** SEMANTICS 6: a stream's commits stamped at or before `maxTime`, paged by revision. */
export const getTo = (ctx: StoreContext, tenantId: string, streamId: string, maxTime: Date): Reads<Commit> => {
  const t = maxTime.getTime()
  return paged(
    0,
    ctx.pageSize,
    (cursor, limit) => commitPage(ctx, 'getTo', (st) => st.streamToPage.all(tenantId, streamId, cursor, t, limit)),
    (c) => c.streamRevision,
  )
}

/** SEMANTICS 6: a tenant's commits stamped at or before `maxTime`, paged by checkpoint. */
export const getAllTo = (ctx: StoreContext, tenantId: string, maxTime: Date): Reads<Commit> => {
  const t = maxTime.getTime()
  return paged(
    0,
    ctx.pageSize,
    (cursor, limit) => commitPage(ctx, 'getAllTo', (st) => st.tenantToPage.all(tenantId, cursor, t, limit)),
    (c) => c.checkpointToken,
  )
}

/** SEMANTICS 7: commits with a token in `(from, to]`, ascending, optionally one tenant's, paged by checkpoint. */
export const getFromTo = (ctx: StoreContext, from: number, to: number, tenantId?: string): Reads<Commit> =>
  paged(
    from,
    ctx.pageSize,
    (cursor, limit) =>
      commitPage(ctx, 'getFrom', (st) =>
        tenantId === undefined ? st.windowPage.all(cursor, to, limit) : st.tenantWindowPage.all(tenantId, cursor, to, limit),
      ),
    (c) => c.checkpointToken,
  )

export const getFrom = (ctx: StoreContext, checkpoint: number, tenantId?: string): Reads<Commit> =>
  getFromTo(ctx, checkpoint, end, tenantId)
