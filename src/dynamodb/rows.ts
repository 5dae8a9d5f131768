import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import type { Commit, EventMessage } from '../eventstore/Commit.js'
import type { Headers } from '../eventstore/Json.js'
import type { Snapshot, StreamInfo } from '../eventstore/Snapshot.js'
import type { Checkpoint, Lease, ParkedCommit } from '../eventstore/subscriptionStore.js'
import type { Json } from '../eventstore/Json.js'
import type { Item } from './connection.js'
import { A, FILLERS, parkedKey, SA, shardPartition, streamKey, tenantShardKey, utf8 } from './schema.js'
import { shardOfToken } from './shards.js'

/**
 * Commits and snapshots as items, and back. Bodies and headers are kept as one JSON string rather than as
 * DynamoDB maps: JSON round-trips every value exactly (DynamoDB numbers and empty sets would not), and it is one
 * attribute to size-check.
 */

// -------------------------------------------------------------------------------------
// attribute values
// -------------------------------------------------------------------------------------

export const S = (s: string): AttributeValue => ({ S: s })
export const N = (n: number): AttributeValue => ({ N: String(n) })

export const str = (item: Item, name: string): string => {
  const v = item[name]?.S
  if (v === undefined) throw new TypeError(`item attribute ${name} is not a string`)
  return v
}

/** An item's own attribute: a map keyed by ids (the counter's tenant links) may be asked for `toString`. */
const own = (item: Item, name: string) => (Object.hasOwn(item, name) ? item[name] : undefined)

export const num = (item: Item, name: string): number => {
  const v = own(item, name)?.N
  const n = v === undefined ? Number.NaN : Number(v)
  if (!Number.isFinite(n)) throw new TypeError(`item attribute ${name} is not a number`)
  return n
}

export const optNum = (item: Item, name: string): number | undefined => (own(item, name) === undefined ? undefined : num(item, name))

/** DynamoDB's item size: attribute names and values in UTF-8; a number is counted at its maximum, 21 bytes. */
export const itemBytes = (item: Item): number => {
  let total = 0
  for (const [name, v] of Object.entries(item)) {
    total += utf8(name) + (v.S !== undefined ? utf8(v.S) : v.B !== undefined ? v.B.byteLength : 21)
  }
  return total
}

// -------------------------------------------------------------------------------------
// commits
// -------------------------------------------------------------------------------------

/** Where a token sits in the indexes: its number, the tenant chain link and when it was allocated. */
export interface TokenPlace {
  readonly token: number
  /** The tenant's previous token; absent for a filler that never entered a tenant chain. */
  readonly previous?: number
  readonly tenantId?: string
  readonly allocatedAt: number
}

/** The index attributes of a token's place: its shard's token partition, and its tenant's (per shard, beyond one). */
const placeAttributes = (p: TokenPlace, shards: number): Item => {
  const shard = p.token > 0 ? shardOfToken(p.token, shards) : 0
  return {
    [A.global]: S(shardPartition(shard)),
    [A.token]: N(p.token),
    [A.allocatedAt]: N(p.allocatedAt),
    ...(p.tenantId !== undefined && p.previous !== undefined ? { [A.tenant]: S(p.tenantId), [A.previous]: N(p.previous) } : {}),
    ...(p.tenantId !== undefined && p.previous !== undefined && shards > 1 ? { [A.tenantShard]: S(tenantShardKey(p.tenantId, shard)) } : {}),
  }
}

/** Where a commit's body is: in the commit item, or in chunk items of its own (see chunks.ts). */
export type BodyPlace = { readonly inline: string } | { readonly chunkKey: string; readonly chunkCount: number }

export const encodeBody = (c: Pick<Commit, 'headers' | 'events'>): string => JSON.stringify({ h: c.headers, e: c.events })

export const commitItem = (c: Commit, place: TokenPlace, body: BodyPlace = { inline: encodeBody(c) }, shards = 1): Item => ({
  [A.pk]: S(streamKey(c.tenantId, c.streamId)),
  [A.sk]: N(c.commitSequence),
  [A.stream]: S(c.streamId),
  [A.revision]: N(c.streamRevision),
  [A.firstRevision]: N(c.streamRevision - c.events.length + 1),
  [A.commitId]: S(c.commitId),
  [A.stamp]: N(c.commitStamp.getTime()),
  ...('inline' in body ? { [A.body]: S(body.inline) } : { [A.chunkKey]: S(body.chunkKey), [A.chunkCount]: N(body.chunkCount) }),
  ...placeAttributes(place, shards),
})

/** A filler holds a token's place in the indexes for a commit that lost its race or was deleted. */
export const fillerItem = (place: TokenPlace, shards = 1): Item => ({
  [A.pk]: S(FILLERS),
  [A.sk]: N(place.token),
  [A.filler]: N(1),
  ...placeAttributes(place, shards),
})

export const isFiller = (item: Item): boolean => item[A.filler] !== undefined

/** The place of a stored commit or filler, to leave behind when it is deleted. */
export const placeOf = (item: Item): TokenPlace => {
  const previous = optNum(item, A.previous)
  const tenantId = item[A.tenant]?.S
  return {
    token: num(item, A.token),
    allocatedAt: num(item, A.allocatedAt),
    ...(previous !== undefined && tenantId !== undefined ? { previous, tenantId } : {}),
  }
}

interface Body {
  readonly h: Headers
  readonly e: readonly EventMessage[]
}

/** The chunks of a commit's body, when it is not inline. */
export const chunksOf = (item: Item): { readonly chunkKey: string; readonly chunkCount: number } | undefined =>
  item[A.chunkKey] === undefined ? undefined : { chunkKey: str(item, A.chunkKey), chunkCount: num(item, A.chunkCount) }

/** A commit from its item and, for a chunked one, its body read from the chunks. */
export const commitOf = (item: Item, json: string = str(item, A.body)): Commit => {
  const body = JSON.parse(json) as Body
  return {
    tenantId: str(item, A.tenant),
    streamId: str(item, A.stream),
    streamRevision: num(item, A.revision),
    commitId: str(item, A.commitId),
    commitSequence: num(item, A.sk),
    commitStamp: new Date(num(item, A.stamp)),
    headers: body.h,
    events: body.e,
    checkpointToken: num(item, A.token),
  }
}

// -------------------------------------------------------------------------------------
// snapshots
// -------------------------------------------------------------------------------------

export const snapshotItem = (s: Snapshot): Item => ({
  [A.pk]: S(streamKey(s.tenantId, s.streamId)),
  [A.sk]: N(s.streamRevision),
  [A.tenant]: S(s.tenantId),
  [A.stream]: S(s.streamId),
  [A.sequence]: N(s.commitSequence),
  [A.body]: S(JSON.stringify(s.payload)),
  [A.headers]: S(JSON.stringify(s.headers)),
})

export const snapshotOf = (item: Item): Snapshot => ({
  tenantId: str(item, A.tenant),
  streamId: str(item, A.stream),
  streamRevision: num(item, A.sk),
  commitSequence: num(item, A.sequence),
  payload: JSON.parse(str(item, A.body)) as Snapshot['payload'],
  headers: JSON.parse(str(item, A.headers)) as Headers,
})

/** A stream's head item (as `streamHeadQuery` projects it) as `listStreams` shows it. */
export const streamInfoOf = (tenantId: string, item: Item): StreamInfo => ({
  tenantId,
  streamId: str(item, A.stream),
  headRevision: num(item, A.revision),
  headSequence: num(item, A.sk),
  lastCommitStamp: new Date(num(item, A.stamp)),
})

/** The tenant id of a stream key: the first `n` bytes of UTF-8 after `n:` (see `streamKey`). */
export const tenantOfStreamKey = (pk: string): string => {
  const colon = pk.indexOf(':')
  const bytes = Number(pk.slice(0, colon))
  if (colon < 1 || !Number.isSafeInteger(bytes)) throw new TypeError(`not a stream key: ${JSON.stringify(pk)}`)
  return Buffer.from(pk.slice(colon + 1), 'utf8').subarray(0, bytes).toString('utf8')
}

// -------------------------------------------------------------------------------------
// subscriptions
// -------------------------------------------------------------------------------------

/** A subscription's lease item: its lease (absent before the first take), checkpoint and parked index. */
export interface LeaseRow {
  readonly holder: string
  readonly epoch: number
  readonly expiresAt: number
  readonly released: boolean
}

export const leaseRowOf = (item: Item | undefined): LeaseRow | undefined =>
  item === undefined || item[SA.epoch] === undefined
    ? undefined
    : { holder: str(item, SA.holder), epoch: num(item, SA.epoch), expiresAt: num(item, SA.expiresAt), released: item[SA.released]?.BOOL === true }

export const toLease = (name: string, row: LeaseRow): Lease => Object.freeze({ name, holder: row.holder, epoch: row.epoch, expiresAt: new Date(row.expiresAt) })

export const encodeCheckpoint = (c: Checkpoint): string => JSON.stringify(c.positions)

export const checkpointOf = (item: Item | undefined): Checkpoint | undefined =>
  item?.[SA.checkpoint]?.S === undefined ? undefined : { positions: JSON.parse(str(item, SA.checkpoint)) as Record<string, number> }

/** The parked index of a lease item: token -> the write id of its current record. */
export const parkedIndexOf = (item: Item | undefined): ReadonlyMap<number, string> =>
  new Map(Object.entries(item?.[SA.parked]?.M ?? {}).flatMap(([token, v]) => (v.S === undefined ? [] : [[Number(token), v.S] as const])))

/** The write id a parked index entry held before an update (`UPDATED_OLD`), if any. */
export const previousWriteId = (attributes: Item | undefined, token: number): string | undefined => attributes?.[SA.parked]?.M?.[String(token)]?.S

export const parkedItem = (name: string, writeId: string, p: ParkedCommit): Item => ({
  [SA.pk]: S(name),
  [SA.sk]: S(parkedKey(p.checkpointToken, writeId)),
  [SA.token]: N(p.checkpointToken),
  [SA.tenant]: S(p.tenantId),
  [SA.stream]: S(p.streamId),
  [SA.error]: S(JSON.stringify(p.error)),
  [SA.parkedAt]: N(p.parkedAt.getTime()),
})

/** The write id of a parked record, from its sort key (`P<token>#<write id>`). */
export const writeIdOf = (item: Item): string => {
  const sk = str(item, SA.sk)
  return sk.slice(sk.indexOf('#') + 1)
}

export const parkedOf = (name: string, item: Item): ParkedCommit => ({
  name,
  checkpointToken: num(item, SA.token),
  tenantId: str(item, SA.tenant),
  streamId: str(item, SA.stream),
  error: JSON.parse(str(item, SA.error)) as Json,
  parkedAt: new Date(num(item, SA.parkedAt)),
})
