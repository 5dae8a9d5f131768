import * as E from 'fp-ts/lib/Either.js'
import { checkAgainstHead, gapAfterHead, validateAttempt, type Head } from '../eventstore/attempt.js'
import { firstRevision, type Commit, type CommitAttempt } from '../eventstore/Commit.js'
import {
  concurrencyConflict,
  duplicateCommit,
  invalidAttempt,
  storageError,
  type CommitError,
} from '../eventstore/errors.js'
import type { RevisionRange } from '../eventstore/ports.js'
import { toArray, type Reads } from '../eventstore/reads.js'
import type { DynamoDbConfig } from './config.js'
import { certainlyNotApplied, isConditionalCheckFailed, type Driver, type Item } from './driver.js'
import { deleteChunks, loadCommit, planBody, writeChunks } from './chunks.js'
import { commitItem, N, num, S, str, type TokenPlace } from './items.js'
import { first, guarded, queryAll } from './paging.js'
import { A, I, MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES, streamKey, tenantCounter, utf8 } from './schema.js'
import { allocate, fill } from './tokens.js'
import { upperRevision } from '../eventstore/ports.js'

export interface CommitContext {
  readonly driver: Driver
  readonly config: DynamoDbConfig
}

// -------------------------------------------------------------------------------------
// append
// -------------------------------------------------------------------------------------

/** Why DynamoDB could not key or hold this attempt, if it could not. */
const tooLarge = (a: CommitAttempt): string | undefined => {
  const pk = utf8(streamKey(a.tenantId, a.streamId))
  if (pk > MAX_PARTITION_KEY_BYTES) return `tenant and stream ids encode to ${pk} bytes; DynamoDB partition keys hold ${MAX_PARTITION_KEY_BYTES}`
  if (utf8(tenantCounter(a.tenantId)) > MAX_PARTITION_KEY_BYTES) return `tenant id is too long for a DynamoDB partition key`
  if (utf8(a.commitId) > MAX_SORT_KEY_BYTES) return `commit id is ${utf8(a.commitId)} bytes; DynamoDB sort keys hold ${MAX_SORT_KEY_BYTES}`
  return undefined
}

const commitTooLarge = (bytes: number, max: number): string =>
  `the commit's headers and events are ${bytes} bytes of JSON; this store takes at most ${max} (option maxCommitBytes). ` +
  'Split the events over several commits, or keep large payloads elsewhere and store a reference.'

/** The head of a stream, read strongly consistent from the keys-only revision index. */
const readHead = async (ctx: CommitContext, pk: string): Promise<Head | undefined> => {
  const item = await first(ctx.driver, {
    TableName: ctx.config.commitsTable,
    IndexName: I.byRevision,
    KeyConditionExpression: '#pk = :pk',
    ExpressionAttributeNames: { '#pk': A.pk },
    ExpressionAttributeValues: { ':pk': S(pk) },
    ScanIndexForward: false,
    ConsistentRead: true,
  })
  return item === undefined ? undefined : { commitSequence: num(item, A.sk), streamRevision: num(item, A.revision) }
}

const hasCommitId = async (ctx: CommitContext, pk: string, commitId: string): Promise<boolean> =>
  (await first(ctx.driver, {
    TableName: ctx.config.commitsTable,
    IndexName: I.byCommitId,
    KeyConditionExpression: '#pk = :pk AND #cid = :cid',
    ExpressionAttributeNames: { '#pk': A.pk, '#cid': A.commitId },
    ExpressionAttributeValues: { ':pk': S(pk), ':cid': S(commitId) },
    ConsistentRead: true,
  })) !== undefined

const conflict = async (ctx: CommitContext, a: CommitAttempt): Promise<E.Either<CommitError, Commit>> => {
  const missed = await toArray(get(ctx, a.tenantId, a.streamId, { minRevision: firstRevision(a) }))
  if (E.isLeft(missed)) return missed
  return E.left(concurrencyConflict(a.tenantId, a.streamId, a.commitSequence, a.streamRevision, missed.right))
}

/** Whether an attempt continues its stream (SEMANTICS 3-4); a `Left` is the answer to give without writing. */
const check = async (ctx: CommitContext, a: CommitAttempt, pk: string): Promise<E.Either<CommitError, void>> => {
  // The head first, then the commit id: an id written after the head read is then either seen here, or its
  // commit holds the sequence this attempt needs, and the conditional put fails.
  const head = await readHead(ctx, pk)
  if (await hasCommitId(ctx, pk, a.commitId)) return E.left(duplicateCommit(a.tenantId, a.streamId, a.commitId))
  switch (checkAgainstHead(a, head)) {
    case 'behind':
      return E.map(() => undefined)(await conflict(ctx, a))
    case 'gap':
      return E.left(gapAfterHead(a, head))
    case 'continues':
      return E.right(undefined)
  }
}

/**
 * Checks the attempt and allocates its token. A commit that fits one item allocates while the head is checked
 * (three round trips in a row instead of five) and fills the token if the attempt is refused. A chunked one
 * writes its chunks first and allocates last, so that writing them does not eat into the settle window.
 */
const prepare = async (ctx: CommitContext, a: CommitAttempt, pk: string, chunks: readonly Item[]): Promise<E.Either<CommitError, Required<TokenPlace>>> => {
  if (chunks.length > 0) {
    const checked = await check(ctx, a, pk)
    if (E.isLeft(checked)) return checked
    await writeChunks(ctx, chunks)
    return E.right(await allocate(ctx, a.tenantId))
  }
  const [checked, allocated] = await Promise.allSettled([check(ctx, a, pk), allocate(ctx, a.tenantId)])
  const refused = checked.status === 'rejected' || E.isLeft(checked.value)
  if (refused && allocated.status === 'fulfilled') await fill(ctx, allocated.value)
  if (checked.status === 'rejected') throw checked.reason
  if (E.isLeft(checked.value)) return checked.value
  if (allocated.status === 'rejected') throw allocated.reason
  return E.right(allocated.value)
}

/**
 * Appends one commit (SEMANTICS 3-4) without transactions: check the head and the commit id, allocate a
 * checkpoint token, then put the item on condition that its (stream, sequence) key is free, so that of two
 * writers of one sequence exactly one wins. The loser fills its token's place and reports a duplicate (if the
 * winner had its commit id) or a conflict.
 */
export const append = async (ctx: CommitContext, attempt: CommitAttempt): Promise<E.Either<CommitError, Commit>> => {
  const valid = validateAttempt(attempt)
  if (E.isLeft(valid)) return valid
  const a = valid.right
  const refuse = (reason: string) => E.left(invalidAttempt(a.tenantId, a.streamId, reason))
  const keys = tooLarge(a)
  if (keys !== undefined) return refuse(keys)
  const planned = planBody({ ...a, checkpointToken: 0 })
  if (planned.bytes > ctx.config.maxCommitBytes) return refuse(commitTooLarge(planned.bytes, ctx.config.maxCommitBytes))
  const pk = streamKey(a.tenantId, a.streamId)
  try {
    const prepared = await prepare(ctx, a, pk, planned.chunks)
    if (E.isLeft(prepared)) return prepared
    const place = prepared.right
    const commit: Commit = { ...a, checkpointToken: place.token }
    try {
      await ctx.driver.send(
        'PutItem',
        {
          TableName: ctx.config.commitsTable,
          Item: commitItem(commit, place, planned.body),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': A.pk },
        },
        // Readers wait up to settleMs for an allocated token; a put sent later could land after they moved on.
        ctx.config.settleMs > 0 ? { deadline: place.allocatedAt + Math.floor(ctx.config.settleMs / 2) } : {},
      )
      return E.right(commit)
    } catch (cause) {
      if (!certainlyNotApplied(cause)) throw cause
      if (isConditionalCheckFailed(cause)) {
        // The SDK may have sent the put twice (a retry after a lost answer): then the item in the way is ours.
        const existing = await ctx.driver.send('GetItem', {
          TableName: ctx.config.commitsTable,
          Key: { [A.pk]: S(pk), [A.sk]: N(a.commitSequence) },
          ConsistentRead: true,
        })
        const item = existing.Item
        if (item !== undefined && str(item, A.commitId) === a.commitId && num(item, A.token) === place.token) {
          return E.right(commit)
        }
      }
      await fill(ctx, place)
      await deleteChunks(ctx, planned.chunks)
      if (!isConditionalCheckFailed(cause)) throw cause
      if (await hasCommitId(ctx, pk, a.commitId)) return E.left(duplicateCommit(a.tenantId, a.streamId, a.commitId))
      return await conflict(ctx, a)
    }
  } catch (cause) {
    return E.left(storageError('commit', cause))
  }
}

// -------------------------------------------------------------------------------------
// stream reads
// -------------------------------------------------------------------------------------

const validKey = (tenantId: string, streamId: string): boolean =>
  tenantId.length > 0 && streamId.length > 0 && utf8(streamKey(tenantId, streamId)) <= MAX_PARTITION_KEY_BYTES

/** The sequence of the first commit whose last revision reaches `minRevision`, from the revision index. */
const firstSequenceFrom = async (ctx: CommitContext, pk: string, minRevision: number): Promise<number | undefined> => {
  const item = await first(ctx.driver, {
    TableName: ctx.config.commitsTable,
    IndexName: I.byRevision,
    KeyConditionExpression: '#pk = :pk AND #rev >= :min',
    ExpressionAttributeNames: { '#pk': A.pk, '#rev': A.revision },
    ExpressionAttributeValues: { ':pk': S(pk), ':min': N(minRevision) },
    ConsistentRead: true,
  })
  return item === undefined ? undefined : num(item, A.sk)
}

/** The whole commits that overlap `[min, max]` (SEMANTICS 5), read strongly consistent. */
export const get = (ctx: CommitContext, tenantId: string, streamId: string, range: RevisionRange = {}): Reads<Commit> =>
  guarded('get', async function* () {
    if (!validKey(tenantId, streamId)) return
    const pk = streamKey(tenantId, streamId)
    const min = range.minRevision !== undefined && range.minRevision > 1 ? range.minRevision : 1
    const max = upperRevision(range.maxRevision)
    // Revisions are not keys of the table: the revision index finds where to start, so a load after a snapshot
    // does not read the stream from its beginning.
    const from = min > 1 ? await firstSequenceFrom(ctx, pk, min) : 1
    if (from === undefined) return
    const input = {
      TableName: ctx.config.commitsTable,
      KeyConditionExpression: '#pk = :pk AND #sk >= :from',
      ExpressionAttributeNames: { '#pk': A.pk, '#sk': A.sk },
      ExpressionAttributeValues: { ':pk': S(pk), ':from': N(from) },
      ConsistentRead: true,
    }
    for await (const item of queryAll(ctx.driver, input, ctx.config.pageSize)) {
      if (num(item, A.firstRevision) > max) return
      yield await loadCommit(ctx, item)
    }
  })

/** A stream's commits stamped at or before `maxTime` (SEMANTICS 6). */
export const getTo = (ctx: CommitContext, tenantId: string, streamId: string, maxTime: Date): Reads<Commit> =>
  guarded('getTo', async function* () {
    if (!validKey(tenantId, streamId)) return
    const input = {
      TableName: ctx.config.commitsTable,
      KeyConditionExpression: '#pk = :pk',
      FilterExpression: '#ts <= :max',
      ExpressionAttributeNames: { '#pk': A.pk, '#ts': A.stamp },
      ExpressionAttributeValues: { ':pk': S(streamKey(tenantId, streamId)), ':max': N(maxTime.getTime()) },
      ConsistentRead: true,
    }
    for await (const item of queryAll(ctx.driver, input, ctx.config.pageSize)) yield await loadCommit(ctx, item)
  })

/** A tenant's commits stamped at or before `maxTime`, in checkpoint order, from the tenant index. */
export const getAllTo = (ctx: CommitContext, tenantId: string, maxTime: Date): Reads<Commit> =>
  guarded('getAllTo', async function* () {
    if (tenantId.length === 0 || utf8(tenantId) > MAX_PARTITION_KEY_BYTES) return
    const input = {
      TableName: ctx.config.commitsTable,
      IndexName: I.byTenant,
      KeyConditionExpression: '#t = :t',
      FilterExpression: '#ts <= :max AND attribute_not_exists(#f)',
      ExpressionAttributeNames: { '#t': A.tenant, '#ts': A.stamp, '#f': A.filler },
      ExpressionAttributeValues: { ':t': S(tenantId), ':max': N(maxTime.getTime()) },
    }
    for await (const item of queryAll(ctx.driver, input, ctx.config.pageSize)) yield await loadCommit(ctx, item)
  })
