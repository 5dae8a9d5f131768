import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { randomUUID } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import { dynamoDbStore, feedShardOf, type DynamoDbStore } from '../../src/dynamodb/index.js'
import { toArray, type Commit, type CommitAttempt, type Persistence } from '../../src/eventstore/index.js'
import { throttlingClient } from './throttling.js'

/**
 * Appends under the throttling model (throttling.ts) on a store of `shards` feed shards, for the scaling test and its
 * bench (bench/src/extras/feedShards.ts): `writers` writers, each on a stream of its own spread evenly over the
 * shards, append single-event commits for `durationMs`, while one reader per shard (and one per shard for tenant
 * `a`) polls the shard's log. The answer has the rate and what the test checks: every acknowledged commit read once,
 * in token order, by its shard's readers, and each stream holding its commits once.
 */
export interface ScalingOptions {
  readonly shards: number
  readonly writers: number
  readonly durationMs: number
  /** The model's write limit per partition (table and indexes alike). */
  readonly writesPerSecond: number
  readonly indexDelayMs: number
  readonly settleMs: number
  /** Between a reader's polls. */
  readonly pollMs?: number
}

export interface ScalingRun {
  readonly shards: number
  /** Commits acknowledged, in all (the writers' last attempts finish after the window). */
  readonly commits: number
  /** From the start to the last acknowledgement. */
  readonly seconds: number
  /** Commits acknowledged within the window of `durationMs`, a second. */
  readonly perSecond: number
  readonly throttled: number
  readonly writes: number
  /** Attempts that answered a StorageError (retries spent, or a put past half the settle window) and went again. */
  readonly failedAttempts: number
  /** What each shard's log reader saw, and what each shard holds (the acknowledged commits, in token order). */
  readonly seen: readonly (readonly Commit[])[]
  readonly seenOfA: readonly (readonly Commit[])[]
  readonly expected: readonly (readonly Commit[])[]
  /** Each writer's commits and what its stream reads back. */
  readonly streams: readonly { readonly written: readonly Commit[]; readonly stored: readonly Commit[] }[]
}

const TENANTS = ['a', 'b', `long-${'x'.repeat(40)}`]

/** A stream id of `tenantId` that routes to `shard`. */
const streamIn = (tenantId: string, shard: number, shards: number): string => {
  for (;;) {
    const id = randomUUID()
    if (feedShardOf(tenantId, id, shards) === shard) return id
  }
}

/** One single-event attempt (the contract fixtures import vitest, which a bench outside the runner cannot). */
const attempt = (a: { readonly tenantId: string; readonly streamId: string; readonly commitSequence: number }): CommitAttempt => ({
  ...a,
  streamRevision: a.commitSequence,
  commitId: randomUUID(),
  commitStamp: new Date(),
  headers: {},
  events: [{ headers: {}, body: { type: 'Appended', n: a.commitSequence } }],
})

const collect = async (reads: ReturnType<Persistence['get']>): Promise<Commit[]> => {
  const r = await toArray(reads)
  if (E.isLeft(r)) throw new Error(r.left.message)
  return [...r.right]
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `getFrom` from the last token it was handed until `writing()` turns false, then reads once more. */
const poll = async (store: Pick<Persistence, 'getFrom'>, writing: () => boolean, tenantId: string | undefined, pauseMs: number): Promise<Commit[]> => {
  const seen: Commit[] = []
  for (let last = 0, done = false; !done; ) {
    done = !writing()
    for await (const r of store.getFrom(last, tenantId)) {
      if (E.isLeft(r)) throw new Error(r.left.message)
      seen.push(r.right)
      last = r.right.checkpointToken
    }
    if (!done) await sleep(pauseMs)
  }
  return seen
}

export const runScaling = async (client: DynamoDBClient, o: ScalingOptions): Promise<ScalingRun> => {
  const model = throttlingClient(client, { writesPerSecond: o.writesPerSecond, indexDelayMs: o.indexDelayMs })
  const prefix = `scale_${randomUUID().slice(0, 8)}_`
  const store: DynamoDbStore = dynamoDbStore({ client: model.client, tables: { prefix }, feedShards: o.shards, settleMs: o.settleMs, maxRetries: 8, pageSize: 100 })
  const init = await store.initialize()
  if (E.isLeft(init)) throw new Error(init.left.message)
  try {
    const feeds = store.feeds()
    if (E.isLeft(feeds)) throw new Error(feeds.left.message)
    let writing = true
    const pauseMs = o.pollMs ?? 100
    const readers = Promise.all(feeds.right.map((f) => poll(f, () => writing, undefined, pauseMs)))
    const readersOfA = Promise.all(feeds.right.map((f) => poll(f, () => writing, 'a', pauseMs)))
    let failedAttempts = 0
    let inWindow = 0
    const started = Date.now()
    const deadline = started + o.durationMs
    const writer = async (i: number): Promise<Commit[]> => {
      const tenantId = TENANTS[i % TENANTS.length] as string
      const streamId = streamIn(tenantId, i % o.shards, o.shards)
      const out: Commit[] = []
      for (let seq = 1; Date.now() < deadline; seq++) {
        const a = attempt({ tenantId, streamId, commitSequence: seq })
        for (;;) {
          const r = await store.commit(a)
          if (E.isRight(r)) {
            out.push(r.right)
            if (Date.now() <= deadline) inWindow += 1
            break
          }
          // Nothing was stored (a throttled request whose retries were spent, or a put past half the settle window,
          // whose token was filled): the same attempt goes again.
          if (r.left._tag !== 'StorageError') throw new Error(`unexpected ${r.left._tag}: ${JSON.stringify(r.left)}`)
          failedAttempts += 1
        }
      }
      return out
    }
    const written = await Promise.all(Array.from({ length: o.writers }, (_, i) => writer(i)))
    const seconds = (Date.now() - started) / 1000
    // A reader's last pass comes after every token in flight has landed, been filled, or aged past the window.
    await sleep(o.settleMs + o.indexDelayMs + 200)
    writing = false
    const [seen, seenOfA] = await Promise.all([readers, readersOfA])
    const all = written.flat().sort((x, y) => x.checkpointToken - y.checkpointToken)
    const expected = feeds.right.map((f) => all.filter((c) => feedShardOf(c.tenantId, c.streamId, o.shards) === f.shard))
    const streams = await Promise.all(
      written.map(async (w) => ({ written: w, stored: w[0] === undefined ? [] : await collect(store.get(w[0].tenantId, w[0].streamId)) })),
    )
    return {
      shards: o.shards,
      commits: all.length,
      seconds,
      perSecond: inWindow / (o.durationMs / 1000),
      throttled: model.stats().throttled,
      writes: model.stats().written,
      failedAttempts,
      seen,
      seenOfA,
      expected,
      streams,
    }
  } finally {
    await store.drop()
    await store.close()
  }
}
