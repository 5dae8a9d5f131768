import { streamKey } from './schema.js'

/**
 * Feed shards (SEMANTICS 7): the global log of a table split into `S` feeds, each with its own counter item, its own
 * partition of the token index and its own tenant chains, so that no single item or index partition takes every
 * commit of the store. Pure functions: any process (or another language) routes and reads tokens alike.
 *
 * Routing: a stream belongs to shard `fnv1a32(utf8(streamKey(tenant, stream))) mod S`, where `streamKey` is the
 * stream's partition key (`<tenant's UTF-8 byte length>:<tenant><stream>`) and FNV-1a is the 32-bit variant
 * (offset basis 2166136261, prime 16777619, over the key's UTF-8 bytes). The key is unambiguous (the length says
 * where the tenant ends), so a stream has exactly one shard, whatever its ids hold.
 *
 * Tokens: shard k's n-th token is `(n - 1) * S + k + 1`. With one shard that is n, the tokens of a store without
 * shards. Tokens are unique across the table (a commit's token names its shard: `(token - 1) mod S`), each shard's
 * grow strictly, and the token before T in its shard is `T - S`: the no-skip link of the shard's index.
 */

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193

/** FNV-1a, 32 bits, over the UTF-8 bytes of `s`. */
export const fnv1a32 = (s: string): number => {
  let h = FNV_OFFSET
  for (const byte of Buffer.from(s, 'utf8')) {
    h ^= byte
    h = Math.imul(h, FNV_PRIME) >>> 0
  }
  return h >>> 0
}

/** The feed shard (0 to `shards - 1`) of a stream. */
export const feedShardOf = (tenantId: string, streamId: string, shards: number): number =>
  shards <= 1 ? 0 : fnv1a32(streamKey(tenantId, streamId)) % shards

/** Shard k's n-th token (n ≥ 1). */
export const tokenOf = (shard: number, n: number, shards: number): number => (n - 1) * shards + shard + 1

/** The count a token is in its shard: the n of `tokenOf`. */
export const countOf = (token: number, shards: number): number => Math.floor((token - 1) / shards) + 1

/** The shard whose token this is. */
export const shardOfToken = (token: number, shards: number): number => (token - 1) % shards
