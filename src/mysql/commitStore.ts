import * as E from 'fp-ts/lib/Either.js'
import { checkAgainstHead, gapAfterHead, validateAttempt } from '../eventstore/attempt.js'
import { firstRevision, type Commit, type CommitAttempt } from '../eventstore/Commit.js'
import {
  concurrencyConflict,
  duplicateCommit,
  storageError,
  type CommitError,
  type StorageError,
} from '../eventstore/errors.js'
import { lowerRevision, type RevisionRange } from '../eventstore/ports.js'
import { fromIterable, paged, toArray, type Reads } from '../eventstore/reads.js'
import { run, selectRows, type MysqlContext } from './db.js'
import { isRetryable } from './errors.js'
import {
  appendParameters,
  decodeAll,
  isWellFormed,
  streamKey,
  tenantKey,
  toCommit,
  toNumber,
  type CommitRow,
} from './rows.js'

// -------------------------------------------------------------------------------------
// append
// -------------------------------------------------------------------------------------

/** What the append routine answers: the new token, or why it did not insert. */
interface AppendOutcome {
  readonly checkpointToken: number | null
  readonly duplicate: boolean
  readonly head: { readonly commitSequence: number; readonly streamRevision: number }
}

interface OutcomeRow {
  readonly checkpoint_token: unknown
  readonly duplicate: unknown
  readonly head_sequence: unknown
  readonly head_revision: unknown
}

/** A CALL answers with its result sets first and a status packet last; the outcome is the first set's row. */
const readOutcome = (result: unknown): AppendOutcome | undefined => {
  const first: unknown = Array.isArray(result) ? result[0] : undefined
  const row = (Array.isArray(first) ? first[0] : undefined) as OutcomeRow | undefined
  if (row === undefined) return undefined
  return {
    checkpointToken: row.checkpoint_token === null ? null : toNumber(row.checkpoint_token),
    duplicate: toNumber(row.duplicate) > 0,
    head: { commitSequence: toNumber(row.head_sequence), streamRevision: toNumber(row.head_revision) },
  }
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Calls the append routine, running it again (bounded, with jittered back-off) after it lost a race. */
const callAppend = async (ctx: MysqlContext, attempt: CommitAttempt): Promise<E.Either<StorageError, AppendOutcome>> => {
  const pool = await ctx.pool()
  if (E.isLeft(pool)) return pool
  const values = appendParameters(attempt)
  for (let retry = 0; ; retry++) {
    const result = await run(pool.right, 'append', ctx.statements.append, values)
    if (E.isLeft(result)) {
      if (retry >= ctx.config.appendRetries || !isRetryable(result.left.cause)) return result
      ctx.config.onRetry(result.left.cause, retry + 1)
      await pause(Math.random() * 5 * 2 ** retry)
      continue
    }
    const outcome = readOutcome(result.right)
    return outcome === undefined ? E.left(storageError('append', new Error('the append routine returned no outcome'))) : E.right(outcome)
  }
}

/**
 * Appends in one round trip (SEMANTICS 1-4, 7-8). The routine inserts only when the attempt continues the head
 * exactly; otherwise it returns the head, and the shared rules say whether that is a conflict or a gap. A
 * conflict costs one more read, for the commits the writer missed.
 */
export const appendCommit = async (ctx: MysqlContext, attempt: CommitAttempt): Promise<E.Either<CommitError, Commit>> => {
  const valid = validateAttempt(attempt)
  if (E.isLeft(valid)) return valid
  const called = await callAppend(ctx, attempt)
  if (E.isLeft(called)) return called
  const { checkpointToken, duplicate, head } = called.right
  if (checkpointToken !== null) return E.right({ ...attempt, checkpointToken })
  if (duplicate) return E.left(duplicateCommit(attempt.tenantId, attempt.streamId, attempt.commitId))
  switch (checkAgainstHead(attempt, head)) {
    case 'behind': {
      const missed = await toArray(readStream(ctx, attempt.tenantId, attempt.streamId, { minRevision: firstRevision(attempt) }))
      if (E.isLeft(missed)) return missed
      return E.left(
        concurrencyConflict(attempt.tenantId, attempt.streamId, attempt.commitSequence, attempt.streamRevision, missed.right),
      )
    }
    case 'gap':
      return E.left(gapAfterHead(attempt, head))
    case 'continues':
      return E.left(storageError('append', new Error('the append routine refused an attempt that continues the head')))
  }
}

// -------------------------------------------------------------------------------------
// reads
// -------------------------------------------------------------------------------------

const unbounded = Number.MAX_SAFE_INTEGER

const commitPage =
  (ctx: MysqlContext, operation: string, sql: string, values: (cursor: number, limit: number) => readonly unknown[]) =>
  async (cursor: number, limit: number): Promise<E.Either<StorageError, readonly Commit[]>> => {
    const rows = await selectRows<CommitRow>(ctx, operation, sql, values(cursor, limit))
    return E.isLeft(rows) ? rows : decodeAll(rows.right, toCommit)
  }

/** Ids that cannot have been written (see `isWellFormed`) name no stream: reading them finds nothing. */
const nothingFor = (...ids: readonly string[]): boolean => ids.some((id) => !isWellFormed(id))

const bySequence = (c: Commit): number => c.commitSequence
const byToken = (c: Commit): number => c.checkpointToken

export const readStream = (ctx: MysqlContext, tenantId: string, streamId: string, range: RevisionRange = {}): Reads<Commit> => {
  if (nothingFor(tenantId, streamId)) return fromIterable([])
  const min = lowerRevision(range.minRevision)
  const max = range.maxRevision !== undefined && range.maxRevision > 0 ? range.maxRevision : unbounded
  const key = streamKey(tenantId, streamId)
  const fetch = commitPage(ctx, 'get', ctx.statements.streamRange, (after, limit) => [key, min, max, after, limit])
  return paged(0, ctx.config.pageSize, fetch, bySequence)
}

export const readStreamTo = (ctx: MysqlContext, tenantId: string, streamId: string, maxTime: Date): Reads<Commit> => {
  if (nothingFor(tenantId, streamId)) return fromIterable([])
  const key = streamKey(tenantId, streamId)
  const t = maxTime.getTime()
  const fetch = commitPage(ctx, 'getTo', ctx.statements.streamTo, (after, limit) => [key, t, after, limit])
  return paged(0, ctx.config.pageSize, fetch, bySequence)
}

export const readTenantTo = (ctx: MysqlContext, tenantId: string, maxTime: Date): Reads<Commit> => {
  if (nothingFor(tenantId)) return fromIterable([])
  const key = tenantKey(tenantId)
  const t = maxTime.getTime()
  const fetch = commitPage(ctx, 'getAllTo', ctx.statements.tenantTo, (after, limit) => [key, t, after, limit])
  return paged(0, ctx.config.pageSize, fetch, byToken)
}

/**
 * Commits in `(from, to]` in checkpoint order. Tokens are handed out in commit order (see schema.ts), so every
 * page sees a prefix of the history and the next page can safely continue after the last token seen.
 */
export const readWindow = (ctx: MysqlContext, from: number, to: number, tenantId?: string): Reads<Commit> => {
  if (tenantId === undefined) {
    const fetch = commitPage(ctx, 'getFrom', ctx.statements.window, (after, limit) => [after, to, limit])
    return paged(from, ctx.config.pageSize, fetch, byToken)
  }
  if (nothingFor(tenantId)) return fromIterable([])
  const key = tenantKey(tenantId)
  const fetch = commitPage(ctx, 'getFrom', ctx.statements.tenantWindow, (after, limit) => [key, after, to, limit])
  return paged(from, ctx.config.pageSize, fetch, byToken)
}

export const unboundedToken = unbounded
