import { randomUUID } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { allocate } from '../../src/dynamodb/checkpoints.js'
import { connection, loadSdk } from '../../src/dynamodb/connection.js'
import { tenantLinks, type DynamoDbContext } from '../../src/dynamodb/context.js'
import { dynamoDbStore, feedShardOf, fnv1a32, shardOfToken, type DynamoDbStore } from '../../src/dynamodb/index.js'
import { streamKey } from '../../src/dynamodb/schema.js'
import type { Commit } from '../../src/eventstore/index.js'
import { attempt, collect, expectCommits, hostileString, right, storableId } from 'aett/testing/contract'
import { configOf, disposeStore, dynaliteForFile, freshStore, reopenStore, sameTables } from './server.js'

const db = dynaliteForFile()

const feedsOf = (store: DynamoDbStore) => {
  const feeds = store.feeds()
  if (E.isLeft(feeds)) throw new Error(feeds.left.message)
  return feeds.right
}

/** Every answer of a read, failures included. */
const everything = async <A>(read: AsyncIterable<A>): Promise<A[]> => {
  const out: A[] = []
  for await (const r of read) out.push(r)
  return out
}

/** A stream id of `tenantId` that routes to `shard` of `shards`. */
const streamIn = (tenantId: string, shard: number, shards: number): string => {
  for (;;) {
    const id = randomUUID()
    if (feedShardOf(tenantId, id, shards) === shard) return id
  }
}

describe('dynamodb: feed shards (docs/stores/dynamodb.md, "Feed shards")', () => {
  it('routes by FNV-1a 32 of the stream key, mod the shard count (the published vectors, so other languages can route alike)', () => {
    // FNV-1a 32 test vectors
    expect(fnv1a32('')).toBe(0x811c9dc5)
    expect(fnv1a32('a')).toBe(0xe40c292c)
    expect(fnv1a32('foobar')).toBe(0xbf9cf968)
    // over UTF-8 bytes of `<tenant byte length>:<tenant><stream>`
    expect(feedShardOf('tenant-é', 'order-1', 16)).toBe(fnv1a32(`${Buffer.byteLength('tenant-é')}:tenant-éorder-1`) % 16)
    expect(feedShardOf('any', 'thing', 1)).toBe(0)
  })

  it('fuzz: hostile ids (quotes, separators, unicode) route a stream to exactly one shard, the one its token names, and no read of another tenant sees it', async () => {
    const store = await freshStore(db(), { feedShards: 4 })
    try {
      const feeds = feedsOf(store)
      const id = hostileString(12).filter((s) => storableId('tenantId', s))
      await fc.assert(
        fc.asyncProperty(id, id, async (tenantId, streamId) => {
          const k = feedShardOf(tenantId, streamId, 4)
          // the same ids always route alike, and the same key only from the same ids
          expect(feedShardOf(tenantId, streamId, 4)).toBe(k)
          expect(k).toBe(fnv1a32(streamKey(tenantId, streamId)) % 4)
          const stream = `${streamId}-${randomUUID()}`
          const c = right(await store.commit(attempt({ tenantId, streamId: stream, commitSequence: 1 })))
          const shard = feedShardOf(tenantId, stream, 4)
          expect(shardOfToken(c.checkpointToken, 4)).toBe(shard)
          for (const [j, feed] of feeds.entries()) {
            const seen = (await collect(feed.getFromTo(c.checkpointToken - 1, c.checkpointToken))).filter((x) => x.commitId === c.commitId)
            expect(seen).toHaveLength(j === shard ? 1 : 0)
            const ofTenant = await collect(feed.getFromTo(c.checkpointToken - 1, c.checkpointToken, tenantId))
            expectCommits(ofTenant, j === shard ? [c] : [])
            // a tenant whose id is a prefix or an extension of this one reads nothing of it
            for (const other of [`${tenantId}x`, tenantId.slice(0, -1)].filter((t) => t.length > 0 && t !== tenantId)) {
              expect(await collect(feed.getFromTo(c.checkpointToken - 1, c.checkpointToken, other))).toEqual([])
            }
          }
        }),
        { numRuns: 25 },
      )
    } finally {
      await disposeStore(store)
    }
  }, 60_000)

  it("shard k's n-th token is (n-1)·S + k + 1: tokens are unique across the store and grow strictly within a shard", async () => {
    const store = await freshStore(db(), { feedShards: 4 })
    try {
      const tenantId = `t-${randomUUID()}`
      const written: Commit[] = []
      for (let round = 0; round < 3; round++) {
        for (const shard of [2, 0, 3, 1]) written.push(right(await store.commit(attempt({ tenantId, streamId: streamIn(tenantId, shard, 4), commitSequence: 1 }))))
      }
      expect(written.map((c) => c.checkpointToken)).toEqual([3, 1, 4, 2, 7, 5, 8, 6, 11, 9, 12, 10])
      for (const [k, feed] of feedsOf(store).entries()) {
        const mine = written.filter((c) => shardOfToken(c.checkpointToken, 4) === k)
        expectCommits(await collect(feed.getFrom(0)), mine)
        expectCommits(await collect(feed.getFrom(0, tenantId)), mine)
        expectCommits(await collect(feed.getFrom(mine[0]?.checkpointToken ?? 0)), mine.slice(1))
      }
    } finally {
      await disposeStore(store)
    }
  })

  it("the store's own getFrom and getFromTo are an InvalidArgument that points at feed(k); feed(k) outside 0..S-1 is one too", async () => {
    const store = await freshStore(db(), { feedShards: 4 })
    try {
      right(await store.commit(attempt({ tenantId: 't', streamId: randomUUID(), commitSequence: 1 })))
      for (const read of [store.getFrom(0), store.getFrom(0, 't'), store.getFromTo(0, 100), store.getFromTo(0, 100, 't')]) {
        const answers = await everything(read)
        expect(answers).toHaveLength(1)
        const [first] = answers
        expect(first !== undefined && E.isLeft(first) && first.left._tag).toBe('InvalidArgument')
        expect(first !== undefined && E.isLeft(first) && first.left.message).toMatch(/feed\(k\)/)
      }
      for (const bad of [-1, 4, 1.5, Number.NaN]) {
        const f = store.feed(bad)
        expect(E.isLeft(f) && f.left._tag).toBe('InvalidArgument')
      }
      expect(E.isRight(store.feed(3))).toBe(true)
    } finally {
      await disposeStore(store)
    }
  })

  it("tenant ids that name an object's inherited properties (toString, __proto__, constructor) commit and chain, with 1 and 4 shards", async () => {
    for (const feedShards of [1, 4]) {
      const store = await freshStore(db(), { feedShards })
      try {
        for (const tenantId of ['toString', '__proto__', 'constructor', 'hasOwnProperty']) {
          const streamId = randomUUID()
          const c1 = right(await store.commit(attempt({ tenantId, streamId, commitSequence: 1 })))
          const c2 = right(await store.commit(attempt({ tenantId, streamId, commitSequence: 2 })))
          const feed = store.feed(feedShardOf(tenantId, streamId, feedShards))
          if (E.isLeft(feed)) throw new Error(feed.left.message)
          expectCommits(await collect(feed.right.getFrom(0, tenantId)), [c1, c2])
        }
      } finally {
        await disposeStore(store)
      }
    }
  })

  it('with one shard, feed(0) reads what the store reads', async () => {
    const store = await freshStore(db())
    try {
      const written = [right(await store.commit(attempt({ tenantId: 'a', streamId: randomUUID(), commitSequence: 1 }))), right(await store.commit(attempt({ tenantId: 'b', streamId: randomUUID(), commitSequence: 1 })))]
      const [feed] = feedsOf(store)
      expectCommits(await collect(store.getFrom(0)), written)
      expectCommits(await collect(feed?.getFrom(0) ?? store.getFrom(0)), written)
      expect(written.map((c) => c.checkpointToken)).toEqual([1, 2])
    } finally {
      await disposeStore(store)
    }
  })

  it('refuses a bad feedShards (0, 257, a fraction, a string) as a StorageError of configuration, on every call', async () => {
    for (const feedShards of [0, 257, 1.5, '4' as unknown as number, -2]) {
      const store = dynamoDbStore({ client: db().client, tables: { prefix: `bad_${randomUUID().slice(0, 8)}_` }, feedShards })
      const init = await store.initialize()
      expect(E.isLeft(init) && init.left.message).toMatch(/feedShards must be an integer from 1 to 256/)
      const c = await store.commit(attempt({ tenantId: 't', streamId: 's', commitSequence: 1 }))
      expect(E.isLeft(c) && c.left._tag).toBe('StorageError')
      expect(E.isLeft(store.feed(0))).toBe(true)
      await store.close()
    }
  })

  it('the shard count is fixed per table: a store opened with another count is refused before it writes, whichever way round', async () => {
    const four = await freshStore(db(), { feedShards: 4 })
    const one = await freshStore(db())
    try {
      right(await four.commit(attempt({ tenantId: 't', streamId: randomUUID(), commitSequence: 1 })))
      right(await one.commit(attempt({ tenantId: 't', streamId: randomUUID(), commitSequence: 1 })))
      for (const [tables, shards] of [
        [four, 1],
        [four, 2],
        [one, 4],
      ] as const) {
        // a store that calls initialize() is refused by it
        const again = reopenStore(db(), tables, { feedShards: shards })
        const init = await again.initialize()
        expect(E.isLeft(init) && init.left.message).toMatch(/feed shard/)
        await again.close()
        // and one that does not is refused by its first write or log read
        const other = reopenStore(db(), tables, { feedShards: shards })
        const c = await other.commit(attempt({ tenantId: 't', streamId: randomUUID(), commitSequence: 1 }))
        expect(E.isLeft(c) && c.left._tag === 'StorageError' && c.left.message).toMatch(/feed shard/)
        const f = other.feed(0)
        if (E.isRight(f)) {
          const [r] = await everything(f.right.getFrom(0))
          expect(r !== undefined && E.isLeft(r) && r.left.message).toMatch(/feed shard/)
        }
        await other.close()
      }
      // and the stores of the right count go on
      const same = dynamoDbStore({ client: db().client, tables: sameTables(four), feedShards: 4 })
      right(await same.initialize())
      right(await same.commit(attempt({ tenantId: 't', streamId: randomUUID(), commitSequence: 1 })))
      await same.close()
    } finally {
      await disposeStore(four)
      await disposeStore(one)
    }
  })

  it("no skipping per shard: a token in flight in one shard holds that shard's readers back, and no other shard's", async () => {
    const store = await freshStore(db(), { feedShards: 4, settleMs: 10_000 })
    try {
      const config = configOf(store)
      const ctx: DynamoDbContext = { connection: connection(await loadSdk(), db().client, false, 8), config, now: Date.now, tenantLinks: tenantLinks(4) }
      const tenantId = 'held'
      const c1 = right(await store.commit(attempt({ tenantId, streamId: streamIn(tenantId, 1, 4), commitSequence: 1 })))
      // a writer of shard 1 that took its token and has not put its commit
      const slow = await allocate(ctx, tenantId, 1)
      expect(slow.token).toBe(c1.checkpointToken + 4)
      const c2 = right(await store.commit(attempt({ tenantId, streamId: streamIn(tenantId, 1, 4), commitSequence: 1 })))
      const other = right(await store.commit(attempt({ tenantId, streamId: streamIn(tenantId, 2, 4), commitSequence: 1 })))
      const [, feed1, feed2] = feedsOf(store)
      expectCommits(await collect(feed1?.getFrom(0) ?? store.getFrom(0)), [c1])
      expectCommits(await collect(feed1?.getFrom(0, tenantId) ?? store.getFrom(0)), [c1])
      expectCommits(await collect(feed2?.getFrom(0) ?? store.getFrom(0)), [other])
      // once the hole is filled (the writer gave up), shard 1 reads on
      const { fill } = await import('../../src/dynamodb/checkpoints.js')
      await fill(ctx, slow)
      expectCommits(await collect(feed1?.getFrom(0) ?? store.getFrom(0)), [c1, c2])
      expectCommits(await collect(feed1?.getFrom(0, tenantId) ?? store.getFrom(0)), [c1, c2])
    } finally {
      await disposeStore(store)
    }
  })
})
