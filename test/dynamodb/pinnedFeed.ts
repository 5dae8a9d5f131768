import * as E from 'fp-ts/lib/Either.js'
import type { Commit, CommitAttempt, Persistence, Reads, Subscribable } from '../../src/eventstore/index.js'
import { feedShardOf, type DynamoDbStore } from '../../src/dynamodb/index.js'

/**
 * One feed shard of a sharded store, seen as a whole store by a suite written for one feed: the shared subscription
 * contract writes to streams of its own naming and expects its subscriptions to see every commit it wrote. A view
 * of shard k sees only the streams that route to k, so this wrapper stores each of the suite's streams under an id
 * that routes to k (the id, U+0001 and the first counter that lands there) and hands every commit back under the
 * suite's own id. Everything else (the shard's token order and no-skip reads, its leases and checkpoints keyed by
 * shard) is the feed view's own, which is what the suite then proves.
 */
const MARK = '\u0001'

export const pinnedFeed = (store: DynamoDbStore, shard: number, shards: number): Persistence & Subscribable => {
  const feed = store.feed(shard)
  if (E.isLeft(feed)) throw new Error(feed.left.message)
  const view = feed.right
  const pins = new Map<string, string>()
  const pin = (tenantId: string, streamId: string): string => {
    const key = `${tenantId}${MARK}${streamId}`
    let pinned = pins.get(key)
    for (let n = 0; pinned === undefined; n++) {
      const candidate = `${streamId}${MARK}${n}`
      if (feedShardOf(tenantId, candidate, shards) === shard) pins.set(key, (pinned = candidate))
    }
    return pinned
  }
  const unpinned = (c: Commit): Commit => {
    const at = c.streamId.lastIndexOf(MARK)
    if (at < 0) throw new Error(`a commit of stream ${JSON.stringify(c.streamId)} was not written through the pinned view`)
    if (feedShardOf(c.tenantId, c.streamId, shards) !== shard) throw new Error(`shard ${shard}'s read returned a commit of another shard`)
    return { ...c, streamId: c.streamId.slice(0, at) }
  }
  async function* mapped(reads: Reads<Commit>): AsyncGenerator<E.Either<never, Commit>> {
    for await (const r of reads) yield (E.isLeft(r) ? r : E.right(unpinned(r.right))) as E.Either<never, Commit>
  }
  return {
    ...view,
    commit: async (attempt: CommitAttempt) => {
      const r = await view.commit({ ...attempt, streamId: pin(attempt.tenantId, attempt.streamId) })
      return E.isLeft(r) ? r : E.right(unpinned(r.right))
    },
    get: (tenantId, streamId, range) => mapped(view.get(tenantId, pin(tenantId, streamId), range)),
    getTo: (tenantId, streamId, maxTime) => mapped(view.getTo(tenantId, pin(tenantId, streamId), maxTime)),
    getAllTo: (tenantId, maxTime) => mapped(view.getAllTo(tenantId, maxTime)),
    getFrom: (checkpoint, tenantId) => mapped(view.getFrom(checkpoint, tenantId)),
    getFromTo: (from, to, tenantId) => mapped(view.getFromTo(from, to, tenantId)),
  } as Persistence & Subscribable
}
