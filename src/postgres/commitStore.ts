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
import type { RevisionRange } from '../eventstore/ports.js'
import { fromIterable, paged, type Reads } from '../eventstore/reads.js'
import type { Context } from './context.js'
import { violatedConstraint } from './errors.js'
import { isStorableText } from './ids.js'
import { horizonReads } from './horizonReads.js'
import { appendParams, mapRows, maxRevisionBound, minRevisionBound, timeBound, toCommit, tokenBound } from './rows.js'

// -------------------------------------------------------------------------------------
// append
// -------------------------------------------------------------------------------------

/**
 * Appends in one round trip (see `statements.append`); a second one only when the attempt collided, to tell a
 * duplicate from a conflict and to fetch the commits the writer missed.
 */
export const commit = async (ctx: Context, attempt: CommitAttempt): Promise<E.Either<CommitError, Commit>> => {
  const valid = validateAttempt(attempt)
  if (E.isLeft(valid)) return valid
  // JSON.stringify throws on cycles and BigInts: a body that is not JSON is reported, not thrown.
  const params = E.tryCatch(() => appendParams(attempt), (cause) => storageError('commit', cause))
  if (E.isLeft(params)) return params
  const result = await ctx.db.query('commit', ctx.sql.append, params.right)
  if (E.isLeft(result)) {
    const constraint = violatedConstraint(result.left.cause)
    const { sequence, commitId } = ctx.names.constraints
    // Another writer committed the same sequence or commit id after this statement's snapshot was taken.
    return constraint === sequence || constraint === commitId ? collided(ctx, attempt) : result
  }
  const row = result.right[0]
  if (row === undefined) return E.left(storageError('commit', new Error('the append statement returned no row')))
  if (row['checkpoint_token'] !== null && row['checkpoint_token'] !== undefined) return E.right({ ...attempt, checkpointToken: Number(row['checkpoint_token']) })
  if (row['duplicate'] === true) return E.left(duplicateCommit(attempt.tenantId, attempt.streamId, attempt.commitId))
  const head =
    row['head_sequence'] === null
      ? undefined
      : { commitSequence: Number(row['head_sequence']), streamRevision: Number(row['head_revision']) }
  switch (checkAgainstHead(attempt, head)) {
    case 'gap':
      return E.left(gapAfterHead(attempt, head))
    case 'behind':
      return collided(ctx, attempt)
    case 'continues':
      return E.left(storageError('commit', new Error('the attempt continued the head but was not stored')))
  }
}

/** Duplicate commit id wins over a collision on sequence or revision (SEMANTICS 4). */
const collided = async (ctx: Context, attempt: CommitAttempt): Promise<E.Either<CommitError, Commit>> => {
  const first = firstRevision(attempt)
  const rows = await ctx.db.query('commit (reading the conflict)', ctx.sql.collisions, [
    attempt.tenantId,
    attempt.streamId,
    first,
    attempt.commitId,
  ])
  if (E.isLeft(rows)) return rows
  const commits = mapRows('commit (reading the conflict)', rows.right, toCommit)
  if (E.isLeft(commits)) return commits
  if (commits.right.some((c) => c.commitId === attempt.commitId)) {
    return E.left(duplicateCommit(attempt.tenantId, attempt.streamId, attempt.commitId))
  }
  return E.left(
    concurrencyConflict(attempt.tenantId, attempt.streamId, attempt.commitSequence, attempt.streamRevision, commits.right),
  )
}

// -------------------------------------------------------------------------------------
// reads
// -------------------------------------------------------------------------------------

const pages = <C>(
  ctx: Context,
  operation: string,
  start: C,
  fetch: (cursor: C, limit: number) => [string, unknown[]],
  next: (c: Commit) => C,
): Reads<Commit> =>
  paged(
    start,
    ctx.pageSize,
    async (cursor, limit): Promise<E.Either<StorageError, readonly Commit[]>> => {
      const [text, values] = fetch(cursor, limit)
      const rows = await ctx.db.query(operation, text, values)
      return E.isLeft(rows) ? rows : mapRows(operation, rows.right, toCommit)
    },
    next,
  )

// An id PostgreSQL cannot store names no stream; asking for it must not match the id it would be mangled into.
const unstorable = (...ids: readonly string[]): boolean => ids.some((id) => typeof id !== 'string' || !isStorableText(id))

export const get = (ctx: Context, tenantId: string, streamId: string, range: RevisionRange = {}): Reads<Commit> => {
  if (unstorable(tenantId, streamId)) return fromIterable([])
  const min = minRevisionBound(range.minRevision)
  const max = maxRevisionBound(range.maxRevision)
  return pages(
    ctx,
    'get',
    0,
    (after, limit) => [ctx.sql.streamPage, [tenantId, streamId, after, min, max, limit]],
    (c) => c.commitSequence,
  )
}

export const getTo = (ctx: Context, tenantId: string, streamId: string, maxTime: Date): Reads<Commit> => {
  if (unstorable(tenantId, streamId)) return fromIterable([])
  const ms = timeBound(maxTime)
  return pages(
    ctx,
    'getTo',
    0,
    (after, limit) => [ctx.sql.streamPageTo, [tenantId, streamId, after, ms, limit]],
    (c) => c.commitSequence,
  )
}

export const getAllTo = (ctx: Context, tenantId: string, maxTime: Date): Reads<Commit> => {
  if (unstorable(tenantId)) return fromIterable([])
  const ms = timeBound(maxTime)
  return horizonReads(ctx, {
    operation: 'getAllTo',
    start: 0,
    page: (after, limit) => [ctx.sql.tenantPageTo, [tenantId, after, ms, limit]],
    next: (after) => [ctx.sql.nextTenantTo, [after, tenantId, ms]],
  })
}

export const getFromTo = (ctx: Context, from: number, to: number, tenantId?: string): Reads<Commit> => {
  if (tenantId !== undefined && unstorable(tenantId)) return fromIterable([])
  const upper = tokenBound(to)
  return horizonReads(ctx, {
    operation: tenantId === undefined ? 'getFrom' : 'getFrom (tenant)',
    start: tokenBound(from),
    page: (after, limit) =>
      tenantId === undefined
        ? [ctx.sql.globalPage, [after, upper, limit]]
        : [ctx.sql.tenantGlobalPage, [after, upper, limit, tenantId]],
    next: (after) =>
      tenantId === undefined ? [ctx.sql.nextGlobal, [after, upper]] : [ctx.sql.nextTenant, [after, upper, tenantId]],
  })
}

export const getFrom = (ctx: Context, checkpoint: number, tenantId?: string): Reads<Commit> =>
  getFromTo(ctx, checkpoint, Number.MAX_SAFE_INTEGER, tenantId)
