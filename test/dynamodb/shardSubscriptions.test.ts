import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import { feedShardOf, type DynamoDbFeed, type DynamoDbStore } from '../../src/dynamodb/index.js'
import type { Commit } from '../../src/eventstore/index.js'
import { documentProjection, documentsOf, startProjection } from '../../src/projections/index.js'
import { subscribe, subscribeFeeds } from '../../src/subscriptions/index.js'
import { expectCommits } from 'aett/testing/contract'
import { testTopics, writeCommits } from '../projections/fixtures.js'
import { disposeStore, dynaliteForFile, freshStore, reopenStore } from './server.js'

const db = dynaliteForFile()
const SHARDS = 4

const must = <L, A>(r: E.Either<L, A>): A => {
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
  return r.right
}

const feedsOf = (store: DynamoDbStore): readonly DynamoDbFeed[] => must(store.feeds())

const shardOf = (c: Commit): number => feedShardOf(c.tenantId, c.streamId, SHARDS)

const fast = { pollMs: 20, leaseTtlMs: 2_000, retry: { attempts: 3, initialDelayMs: 5 } } as const

/**
 * Subscriptions on a store of 4 feed shards: one lease and one checkpoint per (name, shard), each shard in its own
 * order, through the runtime as it is (`subscribe` on `store.feed(k)`), `subscribeFeeds` to run them as one, and a
 * document projection per shard.
 */
describe('dynamodb: subscriptions per feed shard', () => {
  it('each shard is handled in order and once while writers append; checkpoints are keyed by shard, one lease each', async () => {
    const store = await freshStore(db(), { feedShards: SHARDS })
    try {
      const before = await writeCommits(store, 12, 6)
      const seen = new Map<number, Commit[]>()
      const running = must(
        await subscribeFeeds(feedsOf(store), (feed) =>
          subscribe({
            ...fast,
            name: 'per-shard',
            store: feed,
            handler: async (batch: readonly Commit[]) => {
              const mine = seen.get(feed.shard) ?? []
              mine.push(...batch)
              seen.set(feed.shard, mine)
              return E.right(undefined)
            },
          }),
        ),
      )
      // while it runs, more commits arrive
      const after = await writeCommits(store, 12, 6, 100)
      const checkpoint = must(await running.caughtUp())
      const written = [...before, ...after]
      // then each shard's subscription saw exactly its shard's commits, in token (commit) order, once
      for (let k = 0; k < SHARDS; k++) {
        const mine = written.filter((c) => shardOf(c) === k)
        expectCommits(seen.get(k) ?? [], mine)
        expect(checkpoint.positions[String(k)]).toBe(mine[mine.length - 1]?.checkpointToken ?? 0)
      }
      expect(new Set(written.map(shardOf)).size).toBeGreaterThan(1)
      // and each shard keeps its own checkpoint (under its key) and its own lease
      const statuses = must(await running.status())
      for (const [k, s] of statuses.entries()) {
        expect(Object.keys(s.checkpoint?.positions ?? {})).toEqual([String(k)])
        expect(s.holding).toBe(true)
        expect(s.lag.commits).toBe(0)
        expect(s.lease?.name).toBe('per-shard')
      }
      expect(new Set(statuses.map((s) => s.lease?.epoch)).size).toBeGreaterThan(0)
      await running.stop()
      // the store's own subscriptions hold nothing under the plain name: every lease is a shard's
      expect(O.isNone(must(await store.subscriptions.lease('per-shard')))).toBe(true)
    } finally {
      await disposeStore(store)
    }
  }, 60_000)

  it('two processes share the shards of one name: each shard has one holder at a time, and a stop hands its shards over without losing or repeating a commit', async () => {
    const a = await freshStore(db(), { feedShards: SHARDS })
    const b = reopenStore(db(), a, { feedShards: SHARDS })
    try {
      const handled: { readonly by: string; readonly commit: Commit }[] = []
      const start = (by: string, feeds: readonly DynamoDbFeed[]) =>
        subscribeFeeds(feeds, (feed) =>
          subscribe({
          ...fast,
          name: 'shared',
          holder: `${by}-${feed.shard}`,
          store: feed,
          handler: async (batch: readonly Commit[]) => {
            handled.push(...batch.map((commit) => ({ by, commit })))
            return E.right(undefined)
          },
        }),
        )
      const first = await writeCommits(a, 16, 8)
      // process A takes shards 0 and 1, process B shards 2 and 3 (each started first on its own), then both ask for all
      const fa = feedsOf(a)
      const fb = feedsOf(b)
      const ownA = must(await start('A', fa.slice(0, 2)))
      const ownB = must(await start('B', fb.slice(2)))
      must(await ownA.caughtUp())
      must(await ownB.caughtUp())
      const standbyA = must(await start('A2', fa.slice(2)))
      const standbyB = must(await start('B2', fb.slice(0, 2)))
      for (const s of [...must(await standbyA.status()), ...must(await standbyB.status())]) expect(s.holding).toBe(false)
      // when A stops, its shards go to B's standbys, which go on from A's checkpoints
      await ownA.stop()
      const more = await writeCommits(a, 16, 8, 100)
      must(await standbyB.caughtUp())
      must(await ownB.caughtUp())
      const all = [...first, ...more]
      for (let k = 0; k < SHARDS; k++) {
        const mine = all.filter((c) => shardOf(c) === k)
        // each shard's commits handled once, in order, by whoever held it
        expectCommits(handled.filter((h) => shardOf(h.commit) === k).map((h) => h.commit), mine)
      }
      for (const h of handled.filter((x) => x.by === 'A')) expect([0, 1]).toContain(shardOf(h.commit))
      await Promise.all([ownB.stop(), standbyA.stop(), standbyB.stop()])
    } finally {
      await b.close()
      await disposeStore(a)
    }
  }, 60_000)

  it('a document projection runs on each shard: every document is right, its checkpoint is keyed by the shard', async () => {
    const store = await freshStore(db(), { feedShards: SHARDS })
    try {
      const written = await writeCommits(store, 16, 8)
      const projection = documentProjection({
        name: 'counts',
        topics: testTopics,
        id: (_e, meta) => meta.commit.streamId,
        evolve: (doc: { readonly n: number } | undefined) => ({ n: (doc?.n ?? 0) + 1 }),
      })
      const running = feedsOf(store).map((feed) => must(startProjection(feed, projection, fast)))
      for (const r of running) must(await r.caughtUp())
      for (const streamId of new Set(written.map((c) => c.streamId))) {
        const doc = O.toUndefined(must(await documentsOf(store, projection).get(written[0]?.tenantId ?? '', streamId)))
        expect(doc).toEqual({ n: written.filter((c) => c.streamId === streamId).length })
      }
      for (const [k, r] of running.entries()) {
        const s = must(await r.status())
        expect(Object.keys(s.checkpoint?.positions ?? {})).toEqual([String(k)])
        const mine = written.filter((c) => shardOf(c) === k)
        expect(s.position).toBe(mine[mine.length - 1]?.checkpointToken ?? 0)
      }
      await Promise.all(running.map((r) => r.stop()))
    } finally {
      await disposeStore(store)
    }
  }, 60_000)
})
