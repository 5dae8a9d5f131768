import * as E from 'fp-ts/lib/Either.js'
import { refusal, type Known } from '../eventstore/adapter/attempt.js'
import { UNBOUNDED, type Window } from '../eventstore/adapter/bounds.js'
import { empty, paged } from '../eventstore/adapter/reads.js'
import { firstRevision, type Commit, type CommitAttempt } from '../eventstore/Commit.js'
import { storageError, type CommitError, type HookRejected, type StorageError } from '../eventstore/errors.js'
import type { Reads } from '../eventstore/reads.js'
import { mapRows, num } from '../sql/rows.js'
import { run, type Row } from './connection.js'
import type { Context } from './context.js'
import { inlineOf } from './inline.js'
import { violatedConstraint } from './errors.js'
import { horizonReads } from './horizonReads.js'
import { appendParams, timeBound, toCommit } from './rows.js'

// -------------------------------------------------------------------------------------
// append
// -------------------------------------------------------------------------------------

/**
 * Appends in one round trip (see `statements.append`); a second one only when the attempt is behind the head or
 * raced another writer, to fetch the commits the writer missed (and to tell a duplicate from a conflict).
 */
export const commit = async (ctx: Context, attempt: CommitAttempt): Promise<E.Either<CommitError, Commit>> => {
  const inline = inlineOf(ctx)
  let rejected: HookRejected | undefined
  const result =
    inline === undefined
      ? await ctx.db.query('commit', ctx.sql.append, appendParams(attempt))
      : // With inline projections (issue 15): the append statement and the projections in one transaction; a
        // refusal rolls both back. The statement's row is inspected inside, so that a refused or duplicate append
        // runs no projection.
        await ctx.db.transaction('commit', async (client): Promise<E.Either<StorageError, readonly Row[]>> => {
          const rows = await run(client, 'commit', ctx.sql.append, appendParams(attempt))
          if (E.isLeft(rows)) return rows
          const token = rows.right[0]?.['checkpoint_token']
          if (token === null || token === undefined) return rows
          const stored = { ...attempt, checkpointToken: num(token) }
          for (const apply of inline) {
            const r = await apply(client, stored)
            if (E.isLeft(r)) {
              rejected = r.left
              return E.left(storageError('commit', r.left))
            }
          }
          return rows
        })
  if (rejected !== undefined) return E.left(rejected)
  if (E.isLeft(result)) {
    const constraint = violatedConstraint(result.left.cause)
    const { sequence, commitId } = ctx.names.constraints
    return constraint === sequence || constraint === commitId ? raced(ctx, attempt) : result
  }
  const row = result.right[0]
  if (row === undefined) return E.left(storageError('commit', new Error('the append statement returned no row')))
  const token = row['checkpoint_token']
  if (token !== null && token !== undefined) {
    ctx.committed()
    return E.right({ ...attempt, checkpointToken: num(token) })
  }
  const head =
    row['head_sequence'] === null || row['head_sequence'] === undefined
      ? undefined
      : { commitSequence: num(row['head_sequence']), streamRevision: num(row['head_revision']) }
  return refused(attempt, { duplicate: row['duplicate'] === true, head }, () => collisions(ctx, attempt))
}

const refused = async (
  attempt: CommitAttempt,
  known: Known,
  missed: () => Promise<E.Either<StorageError, readonly Commit[]>>,
): Promise<E.Either<CommitError, Commit>> =>
  E.left((await refusal(attempt, known, missed)) ?? storageError('commit', new Error('the attempt continued the head but was not stored')))

/** The commits an attempt collided with: the one bearing its commit id, and those it had not seen. */
const collisions = async (ctx: Context, a: CommitAttempt): Promise<E.Either<StorageError, readonly Commit[]>> => {
  const operation = 'commit (reading the conflict)'
  const rows = await ctx.db.query(operation, ctx.sql.collisions, [a.tenantId, a.streamId, a.commitSequence, firstRevision(a), a.commitId])
  return E.isLeft(rows) ? rows : mapRows(operation, rows.right, toCommit)
}

/**
 * Another writer committed the same sequence or commit id after the append statement's snapshot was taken, and a
 * unique constraint caught it. Its commits are the stream's newest, so the last collision is the head.
 */
const raced = async (ctx: Context, attempt: CommitAttempt): Promise<E.Either<CommitError, Commit>> => {
  const commits = await collisions(ctx, attempt)
  if (E.isLeft(commits)) return commits
  const duplicate = commits.right.some((c) => c.commitId === attempt.commitId)
  return refused(attempt, { duplicate, head: commits.right[commits.right.length - 1] }, async () => commits)
}

// -------------------------------------------------------------------------------------
// reads
// -------------------------------------------------------------------------------------

/** A stream read, paged by commit sequence, after `start` (0: from the stream's first commit). */
const streamPages = (ctx: Context, operation: string, text: string, values: (after: number, limit: number) => unknown[], start = 0): Reads<Commit> =>
  paged(
    start,
    ctx.pageSize,
    async (after: number, limit): Promise<E.Either<StorageError, readonly Commit[]>> => {
      const rows = await ctx.db.query(operation, text, values(after, limit))
      return E.isLeft(rows) ? rows : mapRows(operation, rows.right, toCommit)
    },
    (c) => c.commitSequence,
  )

/**
 * SEMANTICS 5, paged by commit sequence after `afterSequence` (a read that goes on from a page it already has). The
 * whole stream (the common load) needs no revision bounds, so it is one plain range of the sequence index.
 */
export const get = (ctx: Context, tenantId: string, streamId: string, { minRevision, maxRevision }: Window, afterSequence = 0): Reads<Commit> =>
  minRevision <= 1 && maxRevision >= UNBOUNDED
    ? streamPages(ctx, 'get', ctx.sql.streamPageAll, (after, limit) => [tenantId, streamId, after, limit], afterSequence)
    : streamPages(ctx, 'get', ctx.sql.streamPage, (after, limit) => [tenantId, streamId, after, minRevision, maxRevision, limit], afterSequence)

export const getTo = (ctx: Context, tenantId: string, streamId: string, maxTime: Date): Reads<Commit> => {
  const ms = timeBound(maxTime)
  if (ms === undefined) return empty()
  return streamPages(ctx, 'getTo', ctx.sql.streamPageTo, (after, limit) => [tenantId, streamId, after, ms, limit])
}

export const getAllTo = (ctx: Context, tenantId: string, maxTime: Date): Reads<Commit> => {
  const ms = timeBound(maxTime)
  if (ms === undefined) return empty()
  return horizonReads(ctx, {
    operation: 'getAllTo',
    start: 0,
    page: (after, limit) => [ctx.sql.tenantPageTo, [tenantId, after, ms, limit]],
    next: (after) => [ctx.sql.nextTenantTo, [after, tenantId, ms]],
  })
}

export const getFromTo = (ctx: Context, from: number, to: number, tenantId: string | undefined): Reads<Commit> =>
  horizonReads(ctx, {
    operation: tenantId === undefined ? 'getFromTo' : 'getFromTo (tenant)',
    start: from,
    page: (after, limit) =>
      tenantId === undefined ? [ctx.sql.globalPage, [after, to, limit]] : [ctx.sql.tenantGlobalPage, [after, to, limit, tenantId]],
    next: (after) => (tenantId === undefined ? [ctx.sql.nextGlobal, [after, to]] : [ctx.sql.nextTenant, [after, to, tenantId]]),
  })
