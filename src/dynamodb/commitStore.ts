import * as E from 'fp-ts/lib/Either.js'
import { refusal, type Head } from '../eventstore/adapter/attempt.js'
import { UNBOUNDED, type Window } from '../eventstore/adapter/bounds.js'
import { firstRevision, type Commit, type CommitAttempt } from '../eventstore/Commit.js'
import { failed } from '../eventstore/adapter/reads.js'
import { concurrencyConflict, duplicateCommit, invalidArgument, invalidAttempt, type CommitError } from '../eventstore/errors.js'
import type { Reads } from '../eventstore/reads.js'
import { allocate, ensureFeedShards, fill, inTokenOrder } from './checkpoints.js'
import { deleteChunks, loadCommit, planBody, writeChunks } from './chunks.js'
import type { Item } from './connection.js'
import type { DynamoDbContext } from './context.js'
import { certainlyNotApplied, isConditionalCheckFailed } from './errors.js'
import { asReads, first, queryAll } from './paging.js'
import { commitItem, num, str, type TokenPlace } from './rows.js'
import { A, streamKey } from './schema.js'
import { feedShardOf } from './shards.js'
import { commitGet, commitIdQuery, commitPut, headQuery, sequenceFromQuery, streamFromQuery, streamToQuery, tenantToQuery } from './statements.js'

// -------------------------------------------------------------------------------------
// commit
// -------------------------------------------------------------------------------------

const commitTooLarge = (bytes: number, max: number): string =>
  `the commit's headers and events are ${bytes} bytes of JSON; this store takes at most ${max} (option maxCommitBytes). ` +
  'Split the events over several commits, or keep large payloads elsewhere and store a reference.'

/** The head of a stream, read strongly consistent from the keys-only revision index. */
const readHead = async (ctx: DynamoDbContext, pk: string): Promise<Head | undefined> => {
  const item = await first(ctx.connection, headQuery(ctx.config, pk))
  return item === undefined ? undefined : { commitSequence: num(item, A.sk), streamRevision: num(item, A.revision) }
}

const hasCommitId = async (ctx: DynamoDbContext, pk: string, commitId: string): Promise<boolean> =>
  (await first(ctx.connection, commitIdQuery(ctx.config, pk, commitId))) !== undefined

/**
 * What a writer behind the head missed: the commits from its first revision on, up to `head` where the attempt was
 * judged against one. This read comes after that judgement and may find commits stored since, which a
 * one-at-a-time store could not report (it answers before them; after them, one bearing the attempt's id would make
 * it a duplicate); a stream's sequences run without gaps, so those the judgement saw are the ones up to the head's.
 */
const missed = async (ctx: DynamoDbContext, a: CommitAttempt, pk: string, head?: Head): Promise<E.Right<Commit[]>> => {
  const commits: Commit[] = []
  for await (const c of overlapping(ctx, pk, { minRevision: firstRevision(a), maxRevision: UNBOUNDED }))
    if (head === undefined || c.commitSequence <= head.commitSequence) commits.push(c)
  return E.right(commits) as E.Right<Commit[]>
}

/** Why an attempt cannot continue its stream (SEMANTICS 3-4), or `undefined` when it can. */
const check = async (ctx: DynamoDbContext, a: CommitAttempt, pk: string): Promise<CommitError | undefined> => {
  // The head first, then the commit id: an id written after the head read is then either seen here, or its
  // commit holds the sequence this attempt needs, and the conditional put fails.
  const head = await readHead(ctx, pk)
  const duplicate = await hasCommitId(ctx, pk, a.commitId)
  return refusal(a, { duplicate, head }, () => missed(ctx, a, pk, head))
}

/**
 * Checks the attempt and allocates its token. A commit that fits one item allocates while the head is checked
 * (three round trips in a row instead of five) and fills the token if the attempt is refused. A chunked one
 * writes its chunks first and allocates last, so that writing them does not eat into the settle window.
 */
const prepare = async (
  ctx: DynamoDbContext,
  a: CommitAttempt,
  pk: string,
  chunks: readonly Item[],
  shard: number,
): Promise<E.Either<CommitError, Required<TokenPlace>>> => {
  if (chunks.length > 0) {
    const refused = await check(ctx, a, pk)
    if (refused !== undefined) return E.left(refused)
    await writeChunks(ctx, chunks)
    return E.right(await allocate(ctx, a.tenantId, shard))
  }
  const [checked, allocated] = await Promise.allSettled([check(ctx, a, pk), allocate(ctx, a.tenantId, shard)])
  const refused = checked.status === 'rejected' || checked.value !== undefined
  if (refused && allocated.status === 'fulfilled') await fill(ctx, allocated.value)
  if (checked.status === 'rejected') throw checked.reason
  if (checked.value !== undefined) return E.left(checked.value)
  if (allocated.status === 'rejected') throw allocated.reason
  return E.right(allocated.value)
}

/**
 * Appends one commit (SEMANTICS 3-4) without transactions: check the head and the commit id, allocate a
 * checkpoint token, then put the item on condition that its (stream, sequence) key is free, so that of two
 * writers of one sequence exactly one wins. The loser fills its token's place and reports a duplicate (if the
 * winner had its commit id) or a conflict.
 */
export const commit = async (ctx: DynamoDbContext, a: CommitAttempt): Promise<E.Either<CommitError, Commit>> => {
  const shards = ctx.config.feedShards
  const planned = planBody({ ...a, checkpointToken: 0 }, shards)
  const max = ctx.config.maxCommitBytes
  if (planned.bytes > max) return E.left(invalidAttempt(a.tenantId, a.streamId, commitTooLarge(planned.bytes, max)))
  await ensureFeedShards(ctx)
  const pk = streamKey(a.tenantId, a.streamId)
  const prepared = await prepare(ctx, a, pk, planned.chunks, feedShardOf(a.tenantId, a.streamId, shards))
  if (E.isLeft(prepared)) return prepared
  const place = prepared.right
  const stored: Commit = { ...a, checkpointToken: place.token }
  try {
    await ctx.connection.send(
      'PutItem',
      commitPut(ctx.config, commitItem(stored, place, planned.body, shards)),
      // Readers wait up to settleMs for an allocated token; a put sent later could land after they moved on.
      ctx.config.settleMs > 0 ? { deadline: place.allocatedAt + Math.floor(ctx.config.settleMs / 2) } : {},
    )
    return E.right(stored)
  } catch (cause) {
    if (!certainlyNotApplied(cause)) throw cause
    if (isConditionalCheckFailed(cause)) {
      // The SDK may have sent the put twice (a retry after a lost answer): then the item in the way is ours.
      const item = (await ctx.connection.send('GetItem', commitGet(ctx.config, pk, a.commitSequence))).Item
      if (item !== undefined && str(item, A.commitId) === a.commitId && num(item, A.token) === place.token) return E.right(stored)
    }
    await fill(ctx, place)
    await deleteChunks(ctx, planned.chunks)
    if (!isConditionalCheckFailed(cause)) throw cause
    // The commits in the way first, then the commit id: when the id is not there either, the attempt is answered
    // as a one-at-a-time store answers it at the first read (the id, never removed but by a delete, was not there).
    const commits = await missed(ctx, a, pk)
    if (await hasCommitId(ctx, pk, a.commitId)) return E.left(duplicateCommit(a.tenantId, a.streamId, a.commitId))
    return E.left(concurrencyConflict(a.tenantId, a.streamId, a.commitSequence, a.streamRevision, commits.right))
  }
}

// -------------------------------------------------------------------------------------
// reads
// -------------------------------------------------------------------------------------

/** The whole commits of a stream that overlap `[min, max]` (SEMANTICS 5), read strongly consistent. */
export async function* overlapping(ctx: DynamoDbContext, pk: string, { minRevision, maxRevision }: Window): AsyncGenerator<Commit> {
  // Revisions are not keys of the table: the revision index finds where to start, so a load after a snapshot
  // does not read the stream from its beginning.
  let fromSequence = 1
  if (minRevision > 1) {
    const from = await first(ctx.connection, sequenceFromQuery(ctx.config, pk, minRevision))
    if (from === undefined) return
    fromSequence = num(from, A.sk)
  }
  for await (const item of queryAll(ctx.connection, streamFromQuery(ctx.config, pk, fromSequence), ctx.config.pageSize)) {
    if (num(item, A.firstRevision) > maxRevision) return
    yield await loadCommit(ctx, item)
  }
}

export const get = (ctx: DynamoDbContext, tenantId: string, streamId: string, window: Window): Reads<Commit> =>
  asReads(overlapping(ctx, streamKey(tenantId, streamId), window))

async function* loaded(ctx: DynamoDbContext, items: AsyncIterable<Item>): AsyncGenerator<Commit> {
  for await (const item of items) yield await loadCommit(ctx, item)
}

/** A stream's commits stamped at or before `maxTime` (SEMANTICS 6). */
export const getTo = (ctx: DynamoDbContext, tenantId: string, streamId: string, maxTime: Date): Reads<Commit> =>
  asReads(loaded(ctx, queryAll(ctx.connection, streamToQuery(ctx.config, streamKey(tenantId, streamId), maxTime.getTime()), ctx.config.pageSize)))

/**
 * A tenant's commits stamped at or before `maxTime`, from the tenant index: in checkpoint order with one shard; with
 * several, each shard's part in its token order, merged by commit stamp (ties by shard), holding one page a shard.
 */
export const getAllTo = (ctx: DynamoDbContext, tenantId: string, maxTime: Date): Reads<Commit> => {
  const ofShard = (shard: number) => loaded(ctx, queryAll(ctx.connection, tenantToQuery(ctx.config, tenantId, maxTime.getTime(), shard), ctx.config.pageSize))
  const shards = ctx.config.feedShards
  return asReads(shards === 1 ? ofShard(0) : mergedByStamp(Array.from({ length: shards }, (_, k) => ofShard(k))))
}

/** Merges reads each ascending by commit stamp into one, ascending by stamp (ties: the earlier read first). */
async function* mergedByStamp(reads: readonly AsyncGenerator<Commit>[]): AsyncGenerator<Commit> {
  const heads = await Promise.all(reads.map((r) => r.next()))
  try {
    for (;;) {
      let at = -1
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i] as IteratorResult<Commit>
        if (h.done === true) continue
        const best = at < 0 ? undefined : (heads[at] as IteratorYieldResult<Commit>).value
        if (best === undefined || h.value.commitStamp.getTime() < best.commitStamp.getTime()) at = i
      }
      if (at < 0) return
      yield (heads[at] as IteratorYieldResult<Commit>).value
      heads[at] = await (reads[at] as AsyncGenerator<Commit>).next()
    }
  } finally {
    await Promise.all(reads.map((r) => r.return(undefined)))
  }
}

/**
 * Commits with a token in `(from, to]`, ascending, never past a token still in flight (checkpoints.ts). On a table
 * of several feed shards there is no single order that keeps that promise: the log is read one shard at a time.
 */
export const getFromTo = (ctx: DynamoDbContext, from: number, to: number, tenantId: string | undefined): Reads<Commit> =>
  ctx.config.feedShards > 1 ? failed(notOneFeed('getFrom', ctx.config.feedShards)) : asReads(inTokenOrder(ctx, from, to, tenantId))

/** A shard's commits with a token in `(from, to]`, ascending, never past a token still in flight. */
export const getShardFromTo = (ctx: DynamoDbContext, shard: number, from: number, to: number, tenantId: string | undefined): Reads<Commit> =>
  asReads(inTokenOrder(ctx, from, to, tenantId, shard))

export const notOneFeed = (operation: string, shards: number) =>
  invalidArgument(
    operation,
    `this store's log is split into ${shards} feed shards, each in its own order: read one with store.feed(k).getFrom(...) ` +
      `(k from 0 to ${shards - 1}), and subscribe to each shard (docs/stores/dynamodb.md, "Feed shards")`,
  )
