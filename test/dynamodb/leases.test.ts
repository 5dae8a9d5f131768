import { QueryCommand } from '@aws-sdk/client-dynamodb'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DynamoDbStore } from '../../src/dynamodb/index.js'
import { SA } from '../../src/dynamodb/schema.js'
import { dynamoDbStoreWithClock } from '../../src/dynamodb/store.js'
import type { ParkedCommit } from '../../src/eventstore/index.js'
import { right, some, uid } from 'aett/testing/contract'
import { configOf, disposeStore, dynaliteForFile, freshStore, interceptingClient, sameTables, type SentCommand } from './server.js'

const db = dynaliteForFile()

/** A clock a test moves by hand. */
const manualClock = (start = Date.UTC(2026, 5, 1)) => {
  let t = start
  return { now: () => t, advance: (ms: number) => void (t += ms), set: (ms: number) => void (t = ms) }
}

/** Every item of one subscription's partition, as DynamoDB holds it. */
const itemsOf = async (store: DynamoDbStore, name: string) =>
  (
    await db().client.send(
      new QueryCommand({
        TableName: configOf(store).subscriptionsTable,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': SA.pk },
        ExpressionAttributeValues: { ':pk': { S: name } },
        ConsistentRead: true,
      }),
    )
  ).Items ?? []

const parked = (name: string, token: number, error: unknown = 'boom'): ParkedCommit => ({
  name,
  checkpointToken: token,
  tenantId: 't',
  streamId: 's',
  error: error as never,
  parkedAt: new Date(Date.UTC(2026, 0, 1)),
})

describe('dynamodb: leases by the client clock, fenced by the epoch', () => {
  let base: DynamoDbStore
  beforeAll(async () => {
    base = await freshStore(db())
  })
  afterAll(async () => {
    await disposeStore(base)
  })
  const onClock = (now: () => number, client = db().client) => dynamoDbStoreWithClock({ client, tables: sameTables(base), pageSize: 5 }, now)

  it("expiry is the writer's clock plus the ttl: free at expiresAt exactly, and then taken with a higher epoch", async () => {
    const clock = manualClock()
    const store = onClock(clock.now)
    const name = uid('sub')
    const a = some(right(await store.subscriptions.acquire(name, 'a', 1_000)))
    expect(a.expiresAt.getTime()).toBe(clock.now() + 1_000)
    clock.advance(999)
    expect(right(await store.subscriptions.acquire(name, 'b', 1_000))).toEqual(O.none)
    clock.advance(1)
    const b = some(right(await store.subscriptions.acquire(name, 'b', 1_000)))
    expect(b.epoch).toBe(a.epoch + 1)
    expect(await store.subscriptions.saveCheckpoint(a, { positions: { '0': 1 } })).toEqual(E.left({ _tag: 'LeaseLost', name, epoch: a.epoch }))
    // the expired holder asking again after its expiry takes a free lease: never a renewal, always a new epoch
    clock.advance(1_000)
    const again = some(right(await store.subscriptions.acquire(name, 'b', 1_000)))
    expect(again.epoch).toBe(b.epoch + 1)
    await store.close()
  })

  it('a clock running ahead by more than the ttl lets a standby take a live lease early; the holder is then fenced off, never two writers', async () => {
    // given holder A on a true clock, and standby B whose clock runs 5 s ahead, with a 2 s ttl (skew > ttl)
    const t0 = Date.now()
    const a = onClock(() => t0)
    const b = onClock(() => t0 + 5_000)
    const name = uid('sub')
    const leaseA = some(right(await a.subscriptions.acquire(name, 'a', 2_000)))
    right(await a.subscriptions.saveCheckpoint(leaseA, { positions: { '0': 1 } }))
    // when B looks, A's lease (live by A's clock) has expired by B's: B takes it
    const leaseB = some(right(await b.subscriptions.acquire(name, 'b', 2_000)))
    expect(leaseB.epoch).toBe(leaseA.epoch + 1)
    // then A can neither renew nor write: the epoch fences it whatever the clocks say
    expect(E.isLeft(await a.subscriptions.renew(leaseA, 2_000))).toBe(true)
    expect(await a.subscriptions.saveCheckpoint(leaseA, { positions: { '0': 9 } })).toEqual(E.left({ _tag: 'LeaseLost', name, epoch: leaseA.epoch }))
    right(await b.subscriptions.saveCheckpoint(leaseB, { positions: { '0': 2 } }))
    expect(some(right(await a.subscriptions.checkpoint(name)))).toEqual({ positions: { '0': 2 } })
    // and A, asking again, sees B's lease live (by A's clock too: it ends at t0 + 7 s)
    expect(right(await a.subscriptions.acquire(name, 'a', 2_000))).toEqual(O.none)
    await Promise.all([a.close(), b.close()])
  })

  it('a take that races another (both read the lease free) lets exactly one win, with one epoch', async () => {
    const name = uid('sub')
    const stores = Array.from({ length: 6 }, () => onClock(Date.now))
    const results = await Promise.all(stores.map((s, i) => s.subscriptions.acquire(name, `h${i}`, 10_000)))
    const won = results.map(right).filter(O.isSome).map((o) => o.value)
    expect(won).toHaveLength(1)
    expect(some(right(await base.subscriptions.lease(name)))).toEqual(won[0])
    await Promise.all(stores.map((s) => s.close()))
  })
})

describe('dynamodb: parked commits (records made visible by a fenced link in the lease item)', () => {
  let store: DynamoDbStore
  beforeAll(async () => {
    store = await freshStore(db())
  })
  afterAll(async () => {
    await disposeStore(store)
  })

  it('leaves no record behind: not for a fenced-off park, a replaced record or an unparked one', async () => {
    const ss = store.subscriptions
    const name = uid('sub')
    const a = some(right(await ss.acquire(name, 'a', 10_000)))
    right(await ss.park(a, parked(name, 5, 'first')))
    right(await ss.park(a, parked(name, 5, 'second')))
    right(await ss.park(a, parked(name, 7)))
    // the lease item and one record per parked token
    expect((await itemsOf(store, name)).map((i) => i[SA.sk]?.S?.slice(0, 17))).toEqual(['L', 'P0000000000000005', 'P0000000000000007'])
    expect(right(await ss.parked(name)).map((p) => [p.checkpointToken, p.error])).toEqual([
      [5, 'second'],
      [7, 'boom'],
    ])
    right(await ss.unpark(a, 5))
    right(await ss.release(a))
    const b = some(right(await ss.acquire(name, 'b', 10_000)))
    expect(await ss.park(a, parked(name, 9))).toEqual(E.left({ _tag: 'LeaseLost', name, epoch: a.epoch }))
    expect(await ss.unpark(a, 7)).toEqual(E.left({ _tag: 'LeaseLost', name, epoch: a.epoch }))
    expect((await itemsOf(store, name)).map((i) => i[SA.sk]?.S?.slice(0, 17))).toEqual(['L', 'P0000000000000007'])
    expect(right(await ss.parked(name)).map((p) => p.checkpointToken)).toEqual([7])
    right(await ss.unpark(b, 7))
    expect((await itemsOf(store, name)).map((i) => i[SA.sk]?.S)).toEqual(['L'])
  })

  it('keeps the record when the link may have landed (its answer was lost), and lists it once the link is there', async () => {
    const name = uid('sub')
    let lose = true
    const lossy = interceptingClient(db().client, async (command: SentCommand, send) => {
      const out = await send()
      const update = command.input['UpdateExpression']
      if (lose && command.constructor.name === 'UpdateItemCommand' && typeof update === 'string' && update.startsWith('SET #p.#tok')) {
        lose = false
        throw Object.assign(new Error('socket hang up'), { name: 'NetworkingError' })
      }
      return out
    })
    const other = dynamoDbStoreWithClock({ client: lossy, tables: sameTables(store) }, Date.now)
    const lease = some(right(await other.subscriptions.acquire(name, 'a', 10_000)))
    const r = await other.subscriptions.park(lease, parked(name, 3))
    expect(E.isLeft(r) && r.left._tag).toBe('StorageError')
    // the link landed: the commit is parked, and parking it again (the runtime's retry) replaces it cleanly
    expect(right(await store.subscriptions.parked(name)).map((p) => p.checkpointToken)).toEqual([3])
    right(await other.subscriptions.park(lease, parked(name, 3, 'retried')))
    expect(right(await store.subscriptions.parked(name)).map((p) => p.error)).toEqual(['retried'])
    expect((await itemsOf(store, name)).filter((i) => i[SA.sk]?.S?.startsWith('P'))).toHaveLength(1)
    await other.close()
  })

  it('keeps an error too large for one item as the head of its JSON, marked as cut, rather than failing the park', async () => {
    const ss = store.subscriptions
    const name = uid('sub')
    const a = some(right(await ss.acquire(name, 'a', 10_000)))
    right(await ss.park(a, parked(name, 1, { message: 'x'.repeat(500_000) })))
    const [p] = right(await ss.parked(name))
    expect(p?.error).toMatchObject({ truncated: true, bytes: 500_000 + '{"message":""}'.length })
    expect(((p?.error as { json: string }).json).startsWith('{"message":"xxx')).toBe(true)
  })
})
