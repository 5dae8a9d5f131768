import { randomUUID } from 'node:crypto'
import type { Commit } from '../eventstore/Commit.js'
import type { Item } from './connection.js'
import type { DynamoDbContext } from './context.js'
import { batchWrite, queryAll } from './paging.js'
import { chunksOf, commitItem, commitOf, encodeBody, itemBytes, N, S, type BodyPlace } from './rows.js'
import { A, CHUNK_PREFIX, MAX_ITEM_BYTES } from './schema.js'
import { chunksQuery, deleteRequest, putRequest } from './statements.js'

/**
 * Commits larger than one item. DynamoDB items hold 400 KB; a commit whose item would be larger keeps its body
 * (the JSON of headers and events) in chunk items of at most 350 KB each, under a partition key of their own,
 * written before the commit item. The commit item stays the one that decides the race: chunks are keyed by a
 * random id, never by sequence, so a losing writer's chunks cannot overwrite the winner's (the loser deletes
 * its own). A commit is visible only through its commit item, which is put after all its chunks exist.
 */

const CHUNK_BYTES = 350 * 1024

/**
 * On a table with local indexes, the 400 KB limit covers the item and its entries in those indexes together;
 * the keys-only entries take at most about 3 KB each, so an inline body leaves room for them.
 */
const INLINE_LIMIT = MAX_ITEM_BYTES - 8 * 1024

export interface PlannedBody {
  readonly body: BodyPlace
  /** Chunk items to write before the commit item; empty when the body is inline. */
  readonly chunks: readonly Item[]
  /** The whole body in bytes, for the size limit. */
  readonly bytes: number
}

/** Decides where the body goes: inline when the item fits, else in chunks. */
export const planBody = (c: Commit, shards = 1): PlannedBody => {
  const json = encodeBody(c)
  const inline: BodyPlace = { inline: json }
  // Token 1 is shard 0's: the item is sized with the tenant index key of a sharded table, when it has one.
  const sized = commitItem(c, { token: 1, previous: 0, tenantId: c.tenantId, allocatedAt: 0 }, inline, shards)
  const bytes = Buffer.byteLength(json, 'utf8')
  if (itemBytes(sized) <= INLINE_LIMIT) return { body: inline, chunks: [], bytes }
  const data = Buffer.from(json, 'utf8')
  const chunkKey = `${CHUNK_PREFIX}${randomUUID()}`
  const chunks: Item[] = []
  for (let offset = 0, i = 0; offset < data.length; offset += CHUNK_BYTES, i++) {
    chunks.push({ [A.pk]: S(chunkKey), [A.sk]: N(i), [A.data]: { B: data.subarray(offset, offset + CHUNK_BYTES) } })
  }
  return { body: { chunkKey, chunkCount: chunks.length }, chunks, bytes }
}

export const writeChunks = async (ctx: DynamoDbContext, chunks: readonly Item[]): Promise<void> => {
  await batchWrite(ctx.connection, ctx.config.commitsTable, chunks.map(putRequest), ctx.config.maxRetries)
}

/** The keys of a stored commit's chunks (none for an inline body). */
export const chunkKeys = (item: Item): Item[] => {
  const c = chunksOf(item)
  if (c === undefined) return []
  return Array.from({ length: c.chunkCount }, (_, i) => ({ [A.pk]: S(c.chunkKey), [A.sk]: N(i) }))
}

export const deleteChunks = async (ctx: DynamoDbContext, chunks: readonly Item[]): Promise<void> => {
  await batchWrite(ctx.connection, ctx.config.commitsTable, chunks.map(deleteRequest), ctx.config.maxRetries)
}

/** The commit of an item, reading its chunks (strongly consistent) when its body is not inline. */
export const loadCommit = async (ctx: DynamoDbContext, item: Item): Promise<Commit> => {
  const c = chunksOf(item)
  if (c === undefined) return commitOf(item)
  const parts: Uint8Array[] = []
  for await (const chunk of queryAll(ctx.connection, chunksQuery(ctx.config, c.chunkKey), ctx.config.pageSize)) {
    const data = chunk[A.data]?.B
    if (data === undefined) throw new TypeError(`chunk of ${c.chunkKey} has no data`)
    parts.push(data)
  }
  if (parts.length !== c.chunkCount) {
    throw new Error(`commit body ${c.chunkKey} has ${parts.length} of its ${c.chunkCount} chunks (deleted while being read?)`)
  }
  return commitOf(item, Buffer.concat(parts).toString('utf8'))
}
