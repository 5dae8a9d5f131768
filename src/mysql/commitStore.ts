import * as E from 'fp-ts/lib/Either.js'
import { collidesWith, refusal } from '../eventstore/adapter/attempt.js'
import { UNBOUNDED, type Window } from '../eventstore/adapter/bounds.js'
import { paged } from '../eventstore/adapter/reads.js'
import { firstRevision, type Commit, type CommitAttempt } from '../eventstore/Commit.js'
import { storageError, type CommitError, type StorageError } from '../eventstore/errors.js'
import { toArray, type Reads } from '../eventstore/reads.js'
import { mapRows } from '../sql/rows.js'
import { execute, selectRows } from './connection.js'
import type { MysqlContext } from './context.js'
import { isRetryable } from './errors.js'
import { appendParameters, streamKey, tenantKey, toCommit, toOutcome, type AppendOutcome, type CommitRow } from './rows.js'

// -------------------------------------------------------------------------------------
// append
// -------------------------------------------------------------------------------------

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Calls the append routine, running it again (bounded, with jittered back-off) after it lost a race. */
const callAppend = async (ctx: MysqlContext, attempt: CommitAttempt): Promise<E.Either<StorageError, AppendOutcome>> => {
  const values = appendParameters(attempt)
  for (let retry = 0; ; retry++) {
    const result = await execute(ctx.pool, 'append', ctx.statements.append, values)
    if (E.isLeft(result)) {
      if (retry >= ctx.config.appendRetries || !isRetryable(result.left.cause)) return result
      ctx.config.onRetry(result.left.cause, retry + 1)
      await pause(Math.random() * 5 * 2 ** retry)
      continue
    }
    const outcome = toOutcome(result.right)
    return outcome === undefined ? E.left(storageError('append', new Error('the append routine returned no outcome'))) : E.right(outcome)
  }
}

/**
 * Appends in one round trip (SEMANTICS 1-4, 7-8). The routine inserts only when the attempt continues the head
 * exactly; otherwise it returns the head, and the shared `refusal` says whether that is a duplicate, a conflict
 * or a gap. A conflict costs one more read, for the commits the writer missed.
 */
export const commit = async (ctx: MysqlContext, attempt: CommitAttempt): Promise<E.Either<CommitError, Commit>> => {
  const called = await callAppend(ctx, attempt)
  if (E.isLeft(called)) return called
  const { checkpointToken, duplicate, head } = called.right
  if (checkpointToken !== null) return E.right({ ...attempt, checkpointToken })
  const refused = await refusal(attempt, { duplicate, head }, () => missedBy(ctx, attempt))
  return E.left(refused ?? storageError('append', new Error('the append routine refused an attempt that continues the head')))
}

/**
 * The stored commits a writer behind the head had not seen. A commit's revision is at least its sequence, so
 * every commit that collides with the attempt lies at or above the smaller of its sequence and first revision.
 */
const missedBy = async (ctx: MysqlContext, attempt: CommitAttempt): Promise<E.Either<StorageError, readonly Commit[]>> => {
  const minRevision = Math.min(attempt.commitSequence, firstRevision(attempt))
  const commits = await toArray(get(ctx, attempt.tenantId, attempt.streamId, { minRevision, maxRevision: Number.MAX_SAFE_INTEGER }))
  if (E.isLeft(commits)) return E.left(commits.left._tag === 'StorageError' ? commits.left : storageError('append', commits.left))
  return E.right(commits.right.filter(collidesWith(attempt)))
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

export const getAllTo = (ctx: MysqlContext, tenantId: string, maxTime: Date): Reads<Commit> => {
  const key = tenantKey(tenantId)
  const t = maxTime.getTime()
  const fetch = commitPage(ctx, 'getAllTo', ctx.statements.tenantTo, (after, limit) => [key, t, after, limit])
  return paged(0, ctx.pageSize, fetch, byToken)
}

/**
 * Commits in `(from, to]` in checkpoint order. Tokens are handed out in commit order (see schema.ts), so every
 * page sees a prefix of the history and the next page can safely continue after the last token seen.
 */
export const getFromTo = (ctx: MysqlContext, from: number, to: number, tenantId: string | undefined): Reads<Commit> => {
  if (tenantId === undefined) {
    const fetch = commitPage(ctx, 'getFrom', ctx.statements.window, (after, limit) => [after, to, limit])
    return paged(from, ctx.pageSize, fetch, byToken)
  }
  const key = tenantKey(tenantId)
  const fetch = commitPage(ctx, 'getFrom', ctx.statements.tenantWindow, (after, limit) => [key, after, to, limit])
  return paged(from, ctx.pageSize, fetch, byToken)
}
