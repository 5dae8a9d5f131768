import { subscriptionContract } from 'aett/testing/contract'
import type { DynamoDbStore } from '../../src/dynamodb/index.js'
import { pinnedFeed } from './pinnedFeed.js'
import { disposeStore, dynaliteForFile, freshStore, reopenStore } from './server.js'

// The shared subscription contract on one feed shard of a store of 4 (shard 2: neither the first, whose lease names
// are a store of one shard's, nor the last): the feed view's token order and no-skip reads, its leases under
// (name, shard) and its checkpoints keyed by shard, with the runtime as it is. The suite's streams are stored under
// ids that route to that shard (pinnedFeed.ts), so the suite sees every commit it wrote.
const SHARDS = 4
const SHARD = 2
const db = dynaliteForFile()
const bases = new WeakMap<object, DynamoDbStore>()
const pinned = (store: DynamoDbStore) => {
  const view = pinnedFeed(store, SHARD, SHARDS)
  bases.set(view, store)
  return view
}
const baseOf = (view: object): DynamoDbStore => bases.get(view) ?? (view as DynamoDbStore)
subscriptionContract({
  name: `dynamodb (dynalite, shard ${SHARD} of ${SHARDS} feed shards)`,
  create: async () => pinned(await freshStore(db(), { feedShards: SHARDS })),
  dispose: (view) => disposeStore(baseOf(view)),
  reopen: async (view) => pinned(reopenStore(db(), baseOf(view), { feedShards: SHARDS })),
  scale: { backlog: 800 },
  onFigure: (figure, value, unit) => console.log(`figure (shard ${SHARD} of ${SHARDS}): ${figure} = ${value} ${unit}`),
})
