import { DeleteItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb'
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_LINKED_TENANTS } from '../../src/dynamodb/checkpoints.js'
import type { DynamoDbStore } from '../../src/dynamodb/index.js'
import { metered, type Metered } from '../../src/dynamodb/metering.js'
import { A, GLOBAL_COUNTER, tenantCounter } from '../../src/dynamodb/schema.js'
import type { Persistence } from '../../src/eventstore/index.js'
import { attempt, collect, expectCommits, right } from 'aett/testing/contract'
import { configOf, disposeStore, dynaliteForFile, freshStore } from './server.js'

const db = dynaliteForFile()

/** Commits `n` single-event commits to a new stream of `tenantId`, answering them. */
const appendN = async (store: Persistence, tenantId: string, n: number, streamId: string = randomUUID()) => {
  const out = []
  for (let seq = 1; seq <= n; seq++) out.push(right(await store.commit(attempt({ tenantId, streamId, commitSequence: seq }))))
  return out
}

const counterKey = { [A.pk]: { S: GLOBAL_COUNTER }, [A.sk]: { N: '0' } }

/**
 * What an append and a load send (docs/stores/dynamodb.md, "What it costs"): counted on a wrapped client, so that
 * a change that adds a request to the hot path fails here. The tenant-link paths (in the counter item, or in the
 * tenant's own item once the counter's map is full or for a store whose counter has none) keep the chains exact.
 */
describe('dynamodb: requests per operation', () => {
  let meter: Metered
  let store: DynamoDbStore

  beforeAll(async () => {
    meter = metered(db().client)
    store = await freshStore(db(), { client: meter.client, pageSize: 50 })
  })
  afterAll(async () => {
    await disposeStore(store)
  })

  it('an append of a tenant whose chain the counter keeps: 4 requests in 3 round trips (head, token and link, commit id, put)', async () => {
    const streamId = randomUUID()
    right(await store.commit(attempt({ tenantId: 'short', streamId, commitSequence: 1 })))
    meter.reset()
    right(await store.commit(attempt({ tenantId: 'short', streamId, commitSequence: 2 })))
    const m = meter.counts()
    expect(m.byOperation).toEqual({ Query: 2, UpdateItem: 1, PutItem: 1 })
    expect(m.roundTrips).toBe(3)
  })

  it('an append of a tenant with a long id: 5 requests, its chain in its own item', async () => {
    const tenantId = `long-${randomUUID()}`
    const [c1] = await appendN(store, tenantId, 1)
    meter.reset()
    right(await store.commit(attempt({ tenantId, streamId: c1?.streamId ?? '', commitSequence: 2 })))
    expect(meter.counts().byOperation).toEqual({ Query: 2, UpdateItem: 2, PutItem: 1 })
    const link = await db().client.send(new GetItemCommand({ TableName: configOf(store).commitsTable, Key: { [A.pk]: { S: tenantCounter(tenantId) }, [A.sk]: { N: '0' } }, ConsistentRead: true }))
    expect(link.Item?.[A.counter]?.N).toBeDefined()
  })

  it('a load: the snapshot and the commits in one round trip, one Query each', async () => {
    const commits = await appendN(store, 'short', 5)
    const streamId = commits[0]?.streamId ?? ''
    meter.reset()
    const readLatest = store.readLatest ?? expect.fail('the DynamoDB store offers readLatest')
    const items = await collect(readLatest('short', streamId))
    expect(items.map((i) => (i._tag === 'Commit' ? i.commit.commitSequence : 0))).toEqual([1, 2, 3, 4, 5])
    const m = meter.counts()
    expect(m.byOperation).toEqual({ Query: 2 })
    expect(m.roundTrips).toBe(1)
    expect(m.maxInFlight).toBe(2)
  })

  it(`keeps the chains of at most ${MAX_LINKED_TENANTS} tenants in the counter; later tenants link in their own items, and every tenant reader stays exact`, async () => {
    const own = await freshStore(db(), { pageSize: 7 })
    try {
      const tenants = Array.from({ length: MAX_LINKED_TENANTS + 3 }, (_, i) => `t${i}`)
      // given commits of every tenant, interleaved and in parallel
      const written = await Promise.all(tenants.map((t) => appendN(own, t, 3)))
      // then the counter's map holds exactly the first tenants that came, and the others have items of their own
      const table = configOf(own).commitsTable
      const counter = await db().client.send(new GetItemCommand({ TableName: table, Key: counterKey, ConsistentRead: true }))
      const members = Object.keys(counter.Item?.[A.tenantLinks]?.M ?? {})
      expect(members).toHaveLength(MAX_LINKED_TENANTS)
      for (const t of tenants) {
        const item = await db().client.send(new GetItemCommand({ TableName: table, Key: { [A.pk]: { S: tenantCounter(t) }, [A.sk]: { N: '0' } }, ConsistentRead: true }))
        expect(item.Item !== undefined, t).toBe(!members.includes(t))
      }
      // and each tenant's reader, and the global one, read every commit once, in token order
      for (const [i, t] of tenants.entries()) expectCommits(await collect(own.getFrom(0, t)), written[i] ?? [])
      const all = written.flat().sort((a, b) => a.checkpointToken - b.checkpointToken)
      expectCommits(await collect(own.getFrom(0)), all)
      // and a later commit of a tenant out of the map still goes to its own item
      const outsider = tenants.find((t) => !members.includes(t)) ?? ''
      const more = await appendN(own, outsider, 2)
      expectCommits(await collect(own.getFrom(all[all.length - 1]?.checkpointToken ?? 0, outsider)), more)
    } finally {
      await disposeStore(own)
    }
  })

  it('a store whose counter keeps no tenant links (made before them) links every tenant in its own item', async () => {
    const m = metered(db().client)
    const old = await freshStore(db(), { client: m.client })
    try {
      const table = configOf(old).commitsTable
      // given a counter without the map, as a store of 0.2 has
      await db().client.send(new DeleteItemCommand({ TableName: table, Key: counterKey }))
      const first = await appendN(old, 'short', 2)
      // when it appends again, it no longer asks the counter to link: the counter, then the tenant's own item
      m.reset()
      const more = await appendN(old, 'other', 1)
      expect(m.counts().byOperation).toEqual({ Query: 2, UpdateItem: 2, PutItem: 1 })
      // and the counter never gains a map, while the tenant chains read back exact
      const counter = await db().client.send(new GetItemCommand({ TableName: table, Key: counterKey, ConsistentRead: true }))
      expect(counter.Item?.[A.tenantLinks]).toBeUndefined()
      expectCommits(await collect(old.getFrom(0, 'short')), first)
      expectCommits(await collect(old.getFrom(0, 'other')), more)
      right(await old.initialize())
      const again = await db().client.send(new GetItemCommand({ TableName: table, Key: counterKey, ConsistentRead: true }))
      expect(again.Item?.[A.tenantLinks]).toBeUndefined()
    } finally {
      await disposeStore(old)
    }
  })
})
