import * as E from 'fp-ts/lib/Either.js'
import { refusal, type Head, type Known } from '../eventstore/adapter/attempt.js'
import { UNBOUNDED, type Window } from '../eventstore/adapter/bounds.js'
import { empty, paged } from '../eventstore/adapter/reads.js'
import { firstRevision, type Commit, type CommitAttempt } from '../eventstore/Commit.js'
import { storageError, type CommitError, type HookRejected, type StorageError } from '../eventstore/errors.js'
import type { Reads } from '../eventstore/reads.js'
import { mapRows, num } from '../sql/rows.js'
import { contextQueues, type Queued as QueuedItem } from '../sql/groupCommit.js'
import { appendBatch, lostRace, project, retryAlone, tokenOf, type Called, type Prepared } from './batchAppend.js'
import { run, type Row } from './connection.js'
import type { Context } from './context.js'
import { inlineOf } from './inline.js'
import { horizonReads } from './horizonReads.js'
import { appendParams, timeBound, toCommit } from './rows.js'

// -------------------------------------------------------------------------------------
// append
// -------------------------------------------------------------------------------------

/** The append statement on its own (its own transaction), or with inline projections in a transaction of its own. */
const appendAlone = async (ctx: Context, p: Prepared): Promise<E.Either<StorageError, Called>> => {
  const inline = inlineOf(ctx)
  let rejected: HookRejected | undefined
  const result =
    inline === undefined
      ? await ctx.db.query('commit', ctx.sql.append, [...p.values])
      : // With inline projections (issue 15): the append statement and the projections in one transaction; a
        // refusal rolls both back. The statement's row is inspected inside, so that a refused or duplicate append
        // runs no projection.
        await ctx.db.transaction('commit', async (client): Promise<E.Either<StorageError, readonly Row[]>> => {
          const rows = await run(client, 'commit', ctx.sql.append, [...p.values])
          if (E.isLeft(rows)) return rows
          const token = rows.right[0] === undefined ? undefined : tokenOf(rows.right[0])
          if (token === undefined) return rows
          rejected = await project(client, inline, { ...p.attempt, checkpointToken: token })
          return rejected === undefined ? rows : E.left(storageError('commit', rejected))
        })
  if (rejected !== undefined) return E.right({ rejected })
  if (E.isLeft(result)) return lostRace(ctx, result.left) ? E.right({ raced: true }) : result
  const row = result.right[0]
  return row === undefined ? E.left(storageError('commit', new Error('the append statement returned no row'))) : E.right({ row })
}

// -------------------------------------------------------------------------------------
// group commit
// -------------------------------------------------------------------------------------

type Queued = QueuedItem<Prepared, E.Either<StorageError, Called>>

/**
 * Writes one batch of the queue: a lone append exactly as without group commit, several in one transaction
 * (batchAppend.ts). Each append is answered once the transaction holding it has committed; when that failed, every
 * append of the batch gets the failure and none is stored, except when it lost a race to another writer (or a
 * deadlock to another batch): then the batch is written again one append at a time, in order, each resolving its
 * own race as a lone append does.
 */
const writeBatch = async (ctx: Context, batch: readonly Queued[]): Promise<void> => {
  const [only] = batch
  if (only !== undefined && batch.length === 1) return only.answer(await appendAlone(ctx, only))
  const called = await appendBatch(ctx, batch)
  if (E.isLeft(called) && retryAlone(ctx, called.left)) {
    for (const q of batch) q.answer(await appendAlone(ctx, q))
    return
  }
  batch.forEach((q, i) => q.answer(E.isLeft(called) ? called : E.right(called.right[i] as Called)))
}

/**
 * Batches in flight at once, each on a connection of its own. PostgreSQL lets concurrent commits share a WAL
 * flush, so batches in flight together share syncs too, and while some wait for theirs the next batch gathers.
 */
const maxBatchesInFlight = 2

const enqueue = contextQueues<Context, Prepared, E.Either<StorageError, Called>>(maxBatchesInFlight, writeBatch, (cause) =>
  E.left(storageError('commit', cause)),
)

/**
 * Appends in one round trip (see `statements.append`); a second one only when the attempt is behind the head or
 * raced another writer, to fetch the commits the writer missed (and to tell a duplicate from a conflict). With
 * group commit (the default) the append joins the store's queue and may share one transaction with others made
 * meanwhile, answered just the same.
 */
export const commit = async (ctx: Context, attempt: CommitAttempt): Promise<E.Either<CommitError, Commit>> => {
  const p: Prepared = { attempt, values: appendParams(attempt) }
  const called = ctx.groupCommit === undefined ? await appendAlone(ctx, p) : await enqueue(ctx, ctx.groupCommit, p)
  if (E.isLeft(called)) return called
  const c = called.right
  if ('rejected' in c) return E.left(c.rejected)
  if ('failed' in c) return E.left(c.failed)
  if ('raced' in c) return raced(ctx, attempt)
  const token = tokenOf(c.row)
  if (token !== undefined) {
    ctx.committed()
    return E.right({ ...attempt, checkpointToken: token })
  }
  const head =
    c.row['head_sequence'] === null || c.row['head_sequence'] === undefined
      ? undefined
      : { commitSequence: num(c.row['head_sequence']), streamRevision: num(c.row['head_revision']) }
  return refused(attempt, { duplicate: c.row['duplicate'] === true, head }, () => collisions(ctx, attempt, head))
}

const refused = async (
  attempt: CommitAttempt,
  known: Known,
  missed: () => Promise<E.Either<StorageError, readonly Commit[]>>,
): Promise<E.Either<CommitError, Commit>> =>
  E.left((await refusal(attempt, known, missed)) ?? storageError('commit', new Error('the attempt continued the head but was not stored')))

/**
 * The commits an attempt collided with: the one bearing its commit id, and those it had not seen.
 *
 * A refused attempt was checked against `seen`, the head in its statement's snapshot, and is answered as a
 * one-at-a-time store answers it there: duplicate or not, conflict or gap, were all decided on that snapshot, so
 * the commits it missed are those up to that head, no more. This read comes later (after the batch committed, or
 * after a lone append's statement), and may find commits stored since: the later attempts of the attempt's own
 * transaction, and those of another batch in flight or another process. A one-at-a-time store could not report
 * those: it answers either before them (without them) or after them (and then the same commit id stored since,
 * as in `c seq 1 id w` refused while a concurrent batch stored `c seq 2 id w`, is a duplicate, not a conflict). A
 * stream's sequences run without gaps and never move below its head, so the commits of the snapshot are exactly
 * those at or below the head's sequence. Without `seen` (a lost race, see `raced`) every collision is kept.
 */
const collisions = async (ctx: Context, a: CommitAttempt, seen?: Head): Promise<E.Either<StorageError, readonly Commit[]>> => {
  const operation = 'commit (reading the conflict)'
  const rows = await ctx.db.query(operation, ctx.sql.collisions, [a.tenantId, a.streamId, a.commitSequence, firstRevision(a), a.commitId])
  const commits = E.isLeft(rows) ? rows : mapRows(operation, rows.right, toCommit)
  if (E.isLeft(commits) || seen === undefined) return commits
  return E.right(commits.right.filter((c) => c.commitSequence <= seen.commitSequence))
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
