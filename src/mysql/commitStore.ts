import * as E from 'fp-ts/lib/Either.js'
import { collidesWith, refusal } from '../eventstore/adapter/attempt.js'
import { UNBOUNDED, type Window } from '../eventstore/adapter/bounds.js'
import { paged } from '../eventstore/adapter/reads.js'
import { firstRevision, type Commit, type CommitAttempt } from '../eventstore/Commit.js'
import { storageError, type CommitError, type HookRejected, type ReadError, type StorageError } from '../eventstore/errors.js'
import { toArray, type Reads } from '../eventstore/reads.js'
import { mapRows, num } from '../sql/rows.js'
import type { MysqlPoolConnection } from './config.js'
import { execute, runText, selectRows, watched, withConnection } from './connection.js'
import type { MysqlContext } from './context.js'
import { isRetryable } from './errors.js'
import { inlineOf, type InlineApply } from './inline.js'
import { contextQueues, type GroupCommitConfig, type Queued as QueuedItem } from '../sql/groupCommit.js'
import { appendBatch, type Prepared } from './batchAppend.js'
import { appendParameters, streamKey, tenantKey, toCommit, toOutcome, type AppendOutcome, type CommitRow } from './rows.js'

// -------------------------------------------------------------------------------------
// append
// -------------------------------------------------------------------------------------

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** What an append answers before it is classified: the routine's outcome, or an inline projection's refusal. */
type Called = { readonly outcome: AppendOutcome } | { readonly rejected: HookRejected }

/** Runs `once` again (bounded, with jittered back-off) after it lost a race: a deadlock, or a duplicate key. */
const withRetries = async <A>(ctx: MysqlContext, once: () => Promise<E.Either<StorageError, A>>): Promise<E.Either<StorageError, A>> => {
  for (let retry = 0; ; retry++) {
    const result = await once()
    if (E.isRight(result) || retry >= ctx.config.appendRetries || !isRetryable(result.left.cause)) return result
    ctx.config.onRetry(result.left.cause, retry + 1)
    await pause(Math.random() * 5 * 2 ** retry)
  }
}

const outcomeOf = (result: unknown): E.Either<StorageError, AppendOutcome> => {
  const outcome = toOutcome(result)
  return outcome === undefined ? E.left(storageError('append', new Error('the append routine returned no outcome'))) : E.right(outcome)
}

/** The append routine, in one round trip: it runs its own transaction. */
const callAppend = async (ctx: MysqlContext, values: readonly unknown[]): Promise<E.Either<StorageError, Called>> => {
  const result = await execute(ctx.pool, 'append', ctx.statements.append, values)
  if (E.isLeft(result)) return result
  const outcome = outcomeOf(result.right)
  return E.isLeft(outcome) ? outcome : E.right({ outcome: outcome.right })
}

/**
 * An append with inline projections (issue 15): on one pooled connection, `START TRANSACTION`, the routine without
 * its own transaction control (schema version 4), the projections on that connection, then `COMMIT`. The counter
 * row the routine bumps first stays locked until that COMMIT, so tokens are still handed out in commit order, and
 * appends of other writers wait for the projections (they are part of the append). An attempt the routine did not
 * store (duplicate, conflict, gap) runs no projection; it and a refusal roll everything back, the counter included.
 * A failed ROLLBACK is reported instead, so that the connection is destroyed rather than reused mid-transaction.
 * Handlers get the connection `watched`, so that a deadlock in their statements cannot be mistaken for a live
 * transaction by the COMMIT.
 */
const callAppendInline = (ctx: MysqlContext, attempt: CommitAttempt, values: readonly unknown[], inline: readonly InlineApply[]) =>
  withConnection(ctx.pool, 'append', async (connection): Promise<E.Either<StorageError, Called>> => {
    const begun = await runText(connection, 'append', 'START TRANSACTION')
    if (E.isLeft(begun)) return begun
    const called = await execute(connection, 'append', ctx.statements.appendInTransaction, values)
    const outcome = E.isLeft(called) ? called : outcomeOf(called.right)
    if (E.isLeft(outcome)) return rollBack(connection, outcome)
    const { checkpointToken } = outcome.right
    if (checkpointToken === null) return rollBack(connection, E.right({ outcome: outcome.right }))
    const stored: Commit = { ...attempt, checkpointToken }
    // A handler's statement that ended the transaction (a deadlock victim) fails the append as that driver error,
    // whatever the handler made of it: the commit row is gone, and a deadlock is run again like the routine's own.
    let lost: unknown
    const handed = watched(connection, (cause) => (lost ??= cause))
    for (const apply of inline) {
      const r = await apply(handed, stored)
      if (lost !== undefined) return rollBack(connection, E.left(storageError('append', lost)))
      if (E.isLeft(r)) return rollBack(connection, E.right({ rejected: r.left }))
    }
    const committed = await runText(connection, 'append', 'COMMIT')
    return E.isLeft(committed) ? committed : E.right({ outcome: outcome.right })
  })

const rollBack = async <A>(connection: MysqlPoolConnection, answer: E.Either<StorageError, A>): Promise<E.Either<StorageError, A>> => {
  const rolledBack = await runText(connection, 'append', 'ROLLBACK')
  return E.isLeft(rolledBack) ? rolledBack : answer
}

// -------------------------------------------------------------------------------------
// group commit
// -------------------------------------------------------------------------------------

type Queued = QueuedItem<Prepared, E.Either<StorageError, Called>>

/**
 * Writes one batch of the queue: a lone append through the append routine (exactly as without group commit),
 * several in one transaction of their own (batchAppend.ts). Each append is answered with its own outcome once the
 * transaction holding it has committed; when that failed (after the retries), every append of the batch gets the
 * failure, and none of them is stored (the transaction rolled back).
 */
const writeBatch = async (ctx: MysqlContext, batch: readonly Queued[]): Promise<void> => {
  const [only] = batch
  if (only !== undefined && batch.length === 1) return only.answer(await withRetries(ctx, () => callAppend(ctx, only.values)))
  const called = await withRetries(ctx, () => appendBatch(ctx, batch))
  batch.forEach((q, i) => q.answer(E.isLeft(called) ? called : E.right({ outcome: called.right[i] as AppendOutcome })))
}

/** One queue per store context: every append of the store's pool goes through it. */
const queued = (ctx: MysqlContext, group: GroupCommitConfig, attempt: CommitAttempt, values: readonly unknown[]): Promise<E.Either<StorageError, Called>> =>
  enqueue(ctx, group, { attempt, values })

/**
 * Batches in flight at once. Two: while one batch waits for its sync, the next one already holds the counter row
 * (InnoDB releases row locks at commit, before the log is flushed) and runs, so the server overlaps the two.
 */
const maxBatchesInFlight = 2

const enqueue = contextQueues<MysqlContext, Prepared, E.Either<StorageError, Called>>(maxBatchesInFlight, writeBatch, (cause) =>
  E.left(storageError('append', cause)),
)

/**
 * Appends in one round trip (SEMANTICS 1-4, 7-8). The routine inserts only when the attempt continues the head
 * exactly; otherwise it returns the head, and the shared `refusal` says whether that is a duplicate, a conflict
 * or a gap. A conflict costs one more read, for the commits the writer missed. With group commit (the default),
 * the append joins the store's queue and may share one transaction with others made meanwhile
 * (answered just the same). With inline projections registered on this store object, the append and the
 * projections run in one explicit transaction of their own instead (`callAppendInline`), never batched, and a
 * refusal is the append's `HookRejected`.
 */
export const commit = async (ctx: MysqlContext, attempt: CommitAttempt): Promise<E.Either<CommitError, Commit>> => {
  const values = appendParameters(attempt)
  const inline = inlineOf(ctx)
  const group = ctx.config.groupCommit
  const called =
    inline !== undefined
      ? await withRetries(ctx, () => callAppendInline(ctx, attempt, values, inline))
      : group !== undefined
        ? await queued(ctx, group, attempt, values)
        : await withRetries(ctx, () => callAppend(ctx, values))
  if (E.isLeft(called)) return called
  if ('rejected' in called.right) return E.left(called.right.rejected)
  const { checkpointToken, duplicate, head } = called.right.outcome
  if (checkpointToken !== null) return E.right({ ...attempt, checkpointToken })
  const refused = await refusal(attempt, { duplicate, head }, () => missedBy(ctx, attempt, head))
  return E.left(refused ?? storageError('append', new Error('the append routine refused an attempt that continues the head')))
}

/**
 * The stored commits a writer behind the head had not seen. A commit's revision is at least its sequence, so
 * every commit that collides with the attempt lies at or above the smaller of its sequence and first revision.
 *
 * The attempt was checked against `head`, under the counter lock; this read comes after the lock was released and
 * may find commits stored since (the later attempts of its own batch, or any append after it). A one-at-a-time
 * store could not report those: it answers before them, without them. A stream's sequences run without gaps and
 * never move below its head, so the commits the check saw are exactly those up to the head's sequence.
 */
const missedBy = async (ctx: MysqlContext, attempt: CommitAttempt, head: AppendOutcome['head']): Promise<E.Either<StorageError, readonly Commit[]>> => {
  const minRevision = Math.min(attempt.commitSequence, firstRevision(attempt))
  const commits = await toArray(get(ctx, attempt.tenantId, attempt.streamId, { minRevision, maxRevision: Number.MAX_SAFE_INTEGER }))
  if (E.isLeft(commits)) return E.left(commits.left._tag === 'StorageError' ? commits.left : storageError('append', commits.left))
  return E.right(commits.right.filter((c) => c.commitSequence <= head.commitSequence).filter(collidesWith(attempt)))
}

// -------------------------------------------------------------------------------------
// reads
// -------------------------------------------------------------------------------------

const commitPage =
  (ctx: MysqlContext, operation: string, sql: string, values: (cursor: number, limit: number) => readonly unknown[]) =>
  async (cursor: number, limit: number): Promise<E.Either<StorageError, readonly Commit[]>> => {
    const rows = await selectRows<CommitRow>(ctx.pool, operation, sql, values(cursor, limit))
    return E.isLeft(rows) ? rows : mapRows(operation, rows.right, toCommit)
  }

const bySequence = (c: Commit): number => c.commitSequence
const byToken = (c: Commit): number => c.checkpointToken

/**
 * SEMANTICS 5, paged by commit sequence after `afterSequence` (a read that goes on from a page it already has). The
 * whole stream (the common load) needs no revision bounds, so it is one plain range of the (stream, sequence) key.
 */
export const get = (ctx: MysqlContext, tenantId: string, streamId: string, { minRevision, maxRevision }: Window, afterSequence = 0): Reads<Commit> => {
  const key = streamKey(tenantId, streamId)
  const fetch =
    minRevision <= 1 && maxRevision >= UNBOUNDED
      ? commitPage(ctx, 'get', ctx.statements.streamAll, (after, limit) => [key, after, limit])
      : commitPage(ctx, 'get', ctx.statements.streamRange, (after, limit) => [key, minRevision, maxRevision, after, limit])
  return paged(afterSequence, ctx.pageSize, fetch, bySequence)
}

export const getTo = (ctx: MysqlContext, tenantId: string, streamId: string, maxTime: Date): Reads<Commit> => {
  const key = streamKey(tenantId, streamId)
  const t = maxTime.getTime()
  const fetch = commitPage(ctx, 'getTo', ctx.statements.streamTo, (after, limit) => [key, t, after, limit])
  return paged(0, ctx.pageSize, fetch, bySequence)
}

/**
 * The horizon of a read by token: the counter's value once no append holds it, read under a shared lock that the
 * statement releases at its end. Every commit at or below it is visible to every later statement, and a read that
 * goes no further never passes a commit it has not seen.
 *
 * Tokens are handed out in commit order, but that alone does not make a plain read see a prefix of the history:
 * InnoDB builds a read view by walking its table of active transactions without stopping them, so a view may
 * count transaction A (token n) as active, then miss B (token n + 1), which took the counter once A committed and
 * committed itself during the walk: B visible, A not. A tailing reader then moved past n for good (it happened in
 * the torture test, and a scratch run of 16 writers and 4 readers skipped commits within 20 seconds). The shared
 * lock waits for the append holding the counter, and an append deregisters its transaction before it releases its
 * locks, so once it is granted nothing at or below the value is still active: a view built afterwards sees it all.
 * The cost is one statement per read (not per page), which waits at most for the appends queued before it.
 */
const horizon = async (ctx: MysqlContext, operation: string): Promise<E.Either<StorageError, number>> => {
  const rows = await selectRows<{ readonly value: unknown }>(ctx.pool, operation, ctx.statements.readHorizon, [])
  if (E.isLeft(rows)) return rows
  const [row] = rows.right
  return row === undefined ? E.left(storageError(operation, new Error('the checkpoint counter row is missing'))) : E.right(num(row.value))
}

/** A read by token that goes no further than `to` and the horizon taken when it starts. */
async function* belowHorizon(
  ctx: MysqlContext,
  operation: string,
  from: number,
  to: number,
  page: (upTo: number) => (after: number, limit: number) => readonly unknown[],
  sql: string,
): AsyncGenerator<E.Either<ReadError, Commit>, void, undefined> {
  const h = await horizon(ctx, operation)
  if (E.isLeft(h)) {
    yield h
    return
  }
  const upTo = Math.min(to, h.right)
  if (upTo <= from) return
  yield* paged(from, ctx.pageSize, commitPage(ctx, operation, sql, page(upTo)), byToken)
}

export const getAllTo = (ctx: MysqlContext, tenantId: string, maxTime: Date): Reads<Commit> => {
  const key = tenantKey(tenantId)
  const t = maxTime.getTime()
  return belowHorizon(ctx, 'getAllTo', 0, UNBOUNDED, (upTo) => (after, limit) => [key, t, after, upTo, limit], ctx.statements.tenantTo)
}

/** Commits in `(from, to]` in checkpoint order, each page continuing after the last token seen (see `horizon`). */
export const getFromTo = (ctx: MysqlContext, from: number, to: number, tenantId: string | undefined): Reads<Commit> => {
  if (tenantId === undefined) return belowHorizon(ctx, 'getFrom', from, to, (upTo) => (after, limit) => [after, upTo, limit], ctx.statements.window)
  const key = tenantKey(tenantId)
  return belowHorizon(ctx, 'getFrom', from, to, (upTo) => (after, limit) => [key, after, upTo, limit], ctx.statements.tenantWindow)
}
