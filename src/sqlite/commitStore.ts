import * as E from 'fp-ts/lib/Either.js'
import { refusal, type Head, type Known } from '../eventstore/adapter/attempt.js'
import { UNBOUNDED, type Window } from '../eventstore/adapter/bounds.js'
import { paged } from '../eventstore/adapter/reads.js'
import { firstRevision, type Commit, type CommitAttempt } from '../eventstore/Commit.js'
import { storageError, type CommitError, type HookRejected, type StorageError } from '../eventstore/errors.js'
import type { Reads } from '../eventstore/reads.js'
import { mapRows } from '../sql/rows.js'
import { retryIfBusy, underLock, withRetry } from './connection.js'
import { statements, type SqliteContext } from './context.js'
import { isUniqueViolation } from './errors.js'
import { batcher, type Batcher, type GroupCommitConfig } from './groupCommit.js'
import { inlineOf, runInline, type InlineApply } from './inline.js'
import { appended, encodePayload, insertParams, toCommit, type CommitRow } from './rows.js'
import type { Statements } from './statements.js'

// -------------------------------------------------------------------------------------
// commit
// -------------------------------------------------------------------------------------

/** What the store saw under the write lock when it did not append an attempt. */
interface NotAppended extends Known {
  readonly _tag: 'NotAppended'
  /** The commits from the first one the attempt collides with, read under the same lock. */
  readonly missed: readonly CommitRow[]
}

/**
 * Appends a commit (SEMANTICS 1-4). The common case is one statement that inserts only when the attempt
 * continues the head; anything else (a conflict, a duplicate, a gap, a unique index refusing the row because
 * another process won a race) is looked at again under the write lock, where the answer is stable, and
 * `refusal` says what it is.
 */
export const commit = (ctx: SqliteContext, a: CommitAttempt): Promise<E.Either<CommitError, Commit>> => {
  const payload = encodePayload(a)
  if (ctx.groupCommit !== undefined) return inBatch(ctx, ctx.groupCommit, a, payload)
  const r = appendAlone(ctx, a, payload)
  // The common case answers without a further promise: the first try appended the commit.
  return r instanceof Promise ? r.then((done) => settle(a, done)) : settle(a, r)
}

/** One append in a transaction of its own (with its inline projections, if any), busy retries included. */
const appendAlone = (ctx: SqliteContext, a: CommitAttempt, payload: string): Outcome | Promise<Outcome> => {
  const inline = inlineOf(ctx)
  return retryIfBusy('commit', ctx.retry, () => (inline === undefined ? appendOnce(ctx, a, payload) : appendInline(ctx, a, payload, inline)))
}

/** The answer to an attempt, given what the lock showed when it was not appended. */
const settle = (a: CommitAttempt, r: E.Either<NotAppended | StorageError | HookRejected, Commit>): Promise<E.Either<CommitError, Commit>> =>
  E.isRight(r) || r.left._tag !== 'NotAppended' ? Promise.resolve(r as E.Either<StorageError | HookRejected, Commit>) : refused(a, r.left)

const refused = async (a: CommitAttempt, seen: NotAppended): Promise<E.Either<CommitError, Commit>> => {
  const answer = await refusal(a, seen, async () => mapRows('commit', seen.missed, toCommit))
  return E.left(answer ?? storageError('commit', new Error('the attempt continues the head but was not appended')))
}

/** The hot path's statement: inserts the row only when the attempt continues the stored head (or none at 0, 0). */
const insertIfContinues = (st: Statements, a: CommitAttempt, payload: string) => {
  const headSequence = a.commitSequence - 1
  const headRevision = a.streamRevision - a.events.length
  return st.appendIfContinues.run(...insertParams(a, payload), headSequence, headRevision, a.tenantId, a.streamId, headSequence, headRevision)
}

/**
 * `insertIfContinues`, answering the commit it appended, or undefined when it appended nothing: the attempt does
 * not continue the head, or a unique index refused the row (SQLite then backs out that statement alone). Throws
 * every other driver error.
 */
const tryInsert = (st: Statements, a: CommitAttempt, payload: string): Commit | undefined => {
  try {
    const r = insertIfContinues(st, a, payload)
    return r.changes === 1 ? appended(a, r.lastInsertRowid) : undefined
  } catch (cause) {
    if (!isUniqueViolation(cause)) throw cause
    return undefined
  }
}

const appendOnce = (ctx: SqliteContext, a: CommitAttempt, payload: string): E.Either<NotAppended, Commit> => {
  const st = statements(ctx)
  const fast = tryInsert(st, a, payload)
  if (fast !== undefined) return E.right(fast)
  return underLock(ctx.db, () => {
    // A known commit id wins over every other answer (SEMANTICS 4).
    if (st.hasCommitId.get(a.tenantId, a.streamId, a.commitId) !== undefined)
      return E.left({ _tag: 'NotAppended', duplicate: true, head: undefined, missed: [] })
    // The stream may have changed between the fast path and the lock (e.g. it was deleted): try again. A unique
    // index refusing the row now, with the head checked under the lock, is a StorageError.
    const r = insertIfContinues(st, a, payload)
    if (r.changes === 1) return E.right(appended(a, r.lastInsertRowid))
    const head = st.head.get(a.tenantId, a.streamId) as Head | undefined
    const missed = st.missed.all(a.tenantId, a.streamId, a.commitSequence, firstRevision(a)) as CommitRow[]
    return E.left({ _tag: 'NotAppended', duplicate: false, head, missed })
  })
}

/**
 * An append with inline projections (issue 15): the row and the projections' writes in one `BEGIN IMMEDIATE`
 * transaction, so that a refusing projection rolls the append back with its own writes. Not appended: the lock's
 * answer, as for a lone append.
 */
const appendInline = (ctx: SqliteContext, a: CommitAttempt, payload: string, inline: readonly InlineApply[]): E.Either<NotAppended | HookRejected, Commit> => {
  const st = statements(ctx)
  return underLock(ctx.db, (): E.Either<NotAppended | HookRejected, Commit> => {
    const commit = tryInsert(st, a, payload)
    if (commit === undefined) return E.left(notAppended(st, a))
    return runInline(ctx.db, inline, commit) ?? E.right(commit)
  })
}

// -------------------------------------------------------------------------------------
// group commit
// -------------------------------------------------------------------------------------

type Outcome = E.Either<NotAppended | StorageError | HookRejected, Commit>

/** An append waiting for its batch's transaction. */
interface Pending {
  readonly a: CommitAttempt
  readonly payload: string
  readonly resolve: (outcome: Outcome) => void
}

const batchers = new WeakMap<SqliteContext, Batcher<Pending>>()

/** Group commit: the append joins the batch of this turn; answered once the batch's transaction committed. */
const inBatch = (ctx: SqliteContext, group: GroupCommitConfig, a: CommitAttempt, payload: string): Promise<E.Either<CommitError, Commit>> => {
  let b = batchers.get(ctx)
  if (b === undefined) batchers.set(ctx, (b = batcher(group, (batch) => writeBatch(ctx, batch))))
  const queued = b
  return new Promise<Outcome>((resolve) => queued.add({ a, payload, resolve })).then((r) => settle(a, r))
}

/**
 * Writes a batch in one `BEGIN IMMEDIATE` transaction (one sync), in the order the appends were made, each checked
 * on its own under the lock exactly as a lone append would be. The outcomes are handed out only after `COMMIT`
 * returned; when the transaction fails (a driver error, a busy database once the retries are spent), nothing of it
 * is stored and every append in it gets the failure. A batch of one is a lone append (one autocommit statement in
 * the common case): the same outcome and the same single sync, without the transaction statements around it.
 */
const writeBatch = (ctx: SqliteContext, batch: readonly Pending[]): void => {
  const only = batch.length === 1 ? batch[0] : undefined
  if (only !== undefined) {
    const r = appendAlone(ctx, only.a, only.payload)
    if (r instanceof Promise) void r.then(only.resolve)
    else only.resolve(r)
    return
  }
  const r = retryIfBusy('commit', ctx.retry, () => {
    const st = statements(ctx)
    const inline = inlineOf(ctx)
    return underLock(ctx.db, () => E.right(batch.map((p) => (inline === undefined ? appendInBatch(st, p) : appendInSavepoint(ctx, st, p, inline)))))
  })
  const deliver = (done: E.Either<StorageError, readonly Outcome[]>) =>
    batch.forEach((p, i) => p.resolve(E.isLeft(done) ? done : (done.right[i] as Outcome)))
  if (r instanceof Promise) void r.then(deliver)
  else deliver(r)
}

/**
 * One append of a batch without inline projections, under the batch's lock; throws the driver's error. It needs
 * no savepoint: its one statement either inserts the row or changes nothing (a constraint refusal backs out that
 * statement alone and leaves the transaction open), so a refused attempt leaves nothing and the others go on.
 */
const appendInBatch = (st: Statements, { a, payload }: Pending): Outcome => {
  const commit = tryInsert(st, a, payload)
  return commit === undefined ? E.left(notAppended(st, a)) : E.right(commit)
}

/** One append of a batch with inline projections, in a savepoint of its own: a refusal rolls back this append only. */
const appendInSavepoint = (ctx: SqliteContext, st: Statements, { a, payload }: Pending, inline: readonly InlineApply[]): Outcome => {
  ctx.db.exec('SAVEPOINT aett_append')
  const commit = tryInsert(st, a, payload)
  const refusedBy = commit === undefined ? undefined : runInline(ctx.db, inline, commit)
  if (commit !== undefined && refusedBy === undefined) {
    ctx.db.exec('RELEASE aett_append')
    return E.right(commit)
  }
  // Not appended, or refused by a projection: nothing of this attempt stays, and the others go on.
  ctx.db.exec('ROLLBACK TO aett_append')
  ctx.db.exec('RELEASE aett_append')
  return refusedBy ?? E.left(notAppended(st, a))
}

/** What the lock shows about an attempt that was not appended (SEMANTICS 4: a known commit id wins). */
const notAppended = (st: Statements, a: CommitAttempt): NotAppended => {
  if (st.hasCommitId.get(a.tenantId, a.streamId, a.commitId) !== undefined) return { _tag: 'NotAppended', duplicate: true, head: undefined, missed: [] }
  const head = st.head.get(a.tenantId, a.streamId) as Head | undefined
  const missed = st.missed.all(a.tenantId, a.streamId, a.commitSequence, firstRevision(a)) as CommitRow[]
  return { _tag: 'NotAppended', duplicate: false, head, missed }
}

// -------------------------------------------------------------------------------------
// reads
// -------------------------------------------------------------------------------------

/** One page of commits; a busy database is retried, a driver failure or an unreadable row is a StorageError. */
const commitPage = (ctx: SqliteContext, operation: string, query: (st: Statements) => unknown[]) =>
  withRetry(operation, ctx.retry, () => mapRows(operation, query(statements(ctx)) as CommitRow[], toCommit))

/** SEMANTICS 5: the whole commits overlapping `[min, max]`, paged by revision. */
export const get = (ctx: SqliteContext, tenantId: string, streamId: string, { minRevision, maxRevision: max }: Window): Reads<Commit> =>
  paged(
    minRevision,
    ctx.pageSize,
    // A read to the end (the common load) needs no upper bound, so it is one plain range of the revision index.
    max >= UNBOUNDED
      ? (cursor, limit) => commitPage(ctx, 'get', (st) => st.streamPageAll.all(tenantId, streamId, cursor, limit))
      : (cursor, limit) => commitPage(ctx, 'get', (st) => st.streamPage.all(tenantId, streamId, cursor, tenantId, streamId, max, max, max, limit)),
    (c) => c.streamRevision + 1,
  )

/** SEMANTICS 6: a stream's commits stamped at or before `maxTime`, paged by revision. */
export const getTo = (ctx: SqliteContext, tenantId: string, streamId: string, maxTime: Date): Reads<Commit> => {
  const t = maxTime.getTime()
  return paged(
    0,
    ctx.pageSize,
    (cursor, limit) => commitPage(ctx, 'getTo', (st) => st.streamToPage.all(tenantId, streamId, cursor, t, limit)),
    (c) => c.streamRevision,
  )
}

/** SEMANTICS 6: a tenant's commits stamped at or before `maxTime`, paged by checkpoint. */
export const getAllTo = (ctx: SqliteContext, tenantId: string, maxTime: Date): Reads<Commit> => {
  const t = maxTime.getTime()
  return paged(
    0,
    ctx.pageSize,
    (cursor, limit) => commitPage(ctx, 'getAllTo', (st) => st.tenantToPage.all(tenantId, cursor, t, limit)),
    (c) => c.checkpointToken,
  )
}

/** SEMANTICS 7: commits with a token in `(from, to]`, ascending, optionally one tenant's, paged by checkpoint. */
export const getFromTo = (ctx: SqliteContext, from: number, to: number, tenantId: string | undefined): Reads<Commit> =>
  paged(
    from,
    ctx.pageSize,
    (cursor, limit) =>
      commitPage(ctx, 'getFromTo', (st) =>
        tenantId === undefined ? st.windowPage.all(cursor, to, limit) : st.tenantWindowPage.all(tenantId, cursor, to, limit),
      ),
    (c) => c.checkpointToken,
  )
