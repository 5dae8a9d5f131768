import { describe } from 'vitest'
import { storeContract, storeProperties } from 'aett/testing/contract'
import { dynaliteForFile, shardedHarness } from './server.js'

// The store contract and the model check on a store of 4 feed shards: the log is read shard by shard, each shard's
// read holding exactly its shard's commits, in commit order, tokens strictly ascending (contract: `harness.feeds`).
// One shard is the plain contract (contract.test.ts, modelCheck.test.ts).
const db = dynaliteForFile()
const harness = shardedHarness(db, 4)
storeContract(harness)

describe('dynamodb (dynalite, 4 feed shards): model check', () => {
  storeProperties(harness, { model: 5, roundTrip: 5, maxOperations: 30, timeout: 120_000 })
})
