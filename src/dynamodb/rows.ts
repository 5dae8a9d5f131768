import type { AttributeValue } from '@aws-sdk/client-dynamodb'
import type { Commit, EventMessage } from '../eventstore/Commit.js'
import type { Headers } from '../eventstore/Json.js'
import type { Snapshot } from '../eventstore/Snapshot.js'
import type { Item } from './connection.js'
import { A, FILLERS, GLOBAL_PARTITION, streamKey, utf8 } from './schema.js'

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

export const num = (item: Item, name: string): number => {
  const v = item[name]?.N
  const n = v === undefined ? Number.NaN : Number(v)
  if (!Number.isFinite(n)) throw new TypeError(`item attribute ${name} is not a number`)
  return n
}

export const optNum = (item: Item, name: string): number | undefined => (item[name] === undefined ? undefined : num(item, name))

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

const placeAttributes = (p: TokenPlace): Item => ({
  [A.global]: S(GLOBAL_PARTITION),
  [A.token]: N(p.token),
  [A.allocatedAt]: N(p.allocatedAt),
  ...(p.tenantId !== undefined && p.previous !== undefined ? { [A.tenant]: S(p.tenantId), [A.previous]: N(p.previous) } : {}),
})

/** Where a commit's body is: in the commit item, or in chunk items of its own (see chunks.ts). */
export type BodyPlace = { readonly inline: string } | { readonly chunkKey: string; readonly chunkCount: number }

export const encodeBody = (c: Pick<Commit, 'headers' | 'events'>): string => JSON.stringify({ h: c.headers, e: c.events })

export const commitItem = (c: Commit, place: TokenPlace, body: BodyPlace = { inline: encodeBody(c) }): Item => ({
  [A.pk]: S(streamKey(c.tenantId, c.streamId)),
  [A.sk]: N(c.commitSequence),
  [A.stream]: S(c.streamId),
  [A.revision]: N(c.streamRevision),
  [A.firstRevision]: N(c.streamRevision - c.events.length + 1),
  [A.commitId]: S(c.commitId),
  [A.stamp]: N(c.commitStamp.getTime()),
  ...('inline' in body ? { [A.body]: S(body.inline) } : { [A.chunkKey]: S(body.chunkKey), [A.chunkCount]: N(body.chunkCount) }),
  ...placeAttributes(place),
})

/** A filler holds a token's place in the indexes for a commit that lost its race or was deleted. */
export const fillerItem = (place: TokenPlace): Item => ({
  [A.pk]: S(FILLERS),
  [A.sk]: N(place.token),
  [A.filler]: N(1),
  ...placeAttributes(place),
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
