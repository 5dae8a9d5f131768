import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import { memoryStore } from 'aett/memory'
import { subscribe } from 'aett/subscriptions'
import { eventually, freshIds, next, right, some } from 'aett/testing/contract'

// What the memory store decides for its subscriptions beyond the contract.
describe('memory store subscriptions', () => {
  it('memoryStore() keeps subscriptions: drop() removes leases, checkpoints and parked commits; purge() keeps them', async () => {
    const store = memoryStore()
    const ss = store.subscriptions
    const lease = some(right(await ss.acquire('s', 'h', 60_000)))
    right(await ss.saveCheckpoint(lease, { positions: { '0': 3 } }))
    right(await ss.park(lease, { name: 's', checkpointToken: 2, tenantId: 't', streamId: 'x', error: null, parkedAt: new Date() }))
    right(await store.purge())
    expect(some(right(await ss.checkpoint('s')))).toEqual({ positions: { '0': 3 } })
    right(await store.drop())
    expect(right(await ss.checkpoint('s'))).toEqual(O.none)
    expect(right(await ss.lease('s'))).toEqual(O.none)
    expect(right(await ss.parked('s'))).toEqual([])
    // and the old lease is fenced off: its epoch is gone with it
    expect(E.isLeft(await ss.saveCheckpoint(lease, { positions: { '0': 4 } }))).toBe(true)
  })

  it('what it hands out is a copy: a caller changing a checkpoint or a parked record changes nothing stored', async () => {
    const store = memoryStore()
    const ss = store.subscriptions
    const lease = some(right(await ss.acquire('s', 'h', 60_000)))
    const positions: Record<string, number> = { '0': 3 }
    right(await ss.saveCheckpoint(lease, { positions }))
    positions['0'] = 99
    const read = some(right(await ss.checkpoint('s')))
    ;(read.positions as Record<string, number>)['0'] = 42
    expect(some(right(await ss.checkpoint('s')))).toEqual({ positions: { '0': 3 } })
  })

  it('after close() every subscription call answers a StorageError, and a running subscription retries without crashing', async () => {
    const store = memoryStore()
    const ids = freshIds()
    right(await store.commit(next(undefined, ids)))
    const sub = right(subscribe({ name: 's', store, handler: async () => E.right(undefined), pollMs: 5, leaseTtlMs: 200, retry: { initialDelayMs: 1, maxDelayMs: 5 } }))
    right(await sub.caughtUp())
    await store.close()
    for (const r of [await store.subscriptions.acquire('s', 'h', 100), await store.subscriptions.checkpoint('s'), await store.subscriptions.parked('s')]) {
      expect(E.isLeft(r) && r.left._tag).toBe('StorageError')
    }
    // its status answers the store's StorageError; the subscription itself keeps retrying until it is stopped
    await eventually('status answered the StorageError', async () => {
      const status = await sub.status()
      return E.isLeft(status) && status.left._tag === 'StorageError'
    })
    await sub.stop()
  })
})
