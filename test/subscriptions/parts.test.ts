import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { memoryStore } from 'aett/memory'
import { collect, freshIds, right, writeStream } from 'aett/testing/contract'
import { toJson } from '../../src/subscriptions/json.js'
import { settingsOf } from '../../src/subscriptions/options.js'
import { BatchReader, headToken, positionAtTime, readBatch } from '../../src/subscriptions/positions.js'
import { backoff, Waker } from '../../src/subscriptions/timing.js'

// The runtime's parts, on their own.
describe('subscription runtime parts', () => {
  it('headToken finds the last token with a few one-commit reads, across gaps, per tenant, and 0 when empty', async () => {
    const store = memoryStore()
    expect(right(await headToken(store, undefined))).toBe(0)
    const a = freshIds()
    const b = freshIds()
    const gone = freshIds()
    await writeStream(store, a, 5)
    await writeStream(store, gone, 40)
    await writeStream(store, b, 3)
    right(await store.deleteStream(gone.tenantId, gone.streamId)) // a gap of 40 tokens
    const all = await collect(store.getFrom(0))
    expect(right(await headToken(store, undefined))).toBe(all[all.length - 1]?.checkpointToken)
    expect(right(await headToken(store, a.tenantId))).toBe(all.filter((c) => c.tenantId === a.tenantId).at(-1)?.checkpointToken)
    expect(right(await headToken(store, freshIds().tenantId))).toBe(0)
    // a big log: the search reads about 2·log2(head) commits
    const big = memoryStore()
    await writeStream(big, freshIds(), 1_000)
    let reads = 0
    const counting = { getFrom: (from: number, t?: string) => (reads++, big.getFrom(from, t)), getFromTo: big.getFromTo.bind(big) }
    expect(right(await headToken(counting, undefined))).toBe(1_000)
    expect(reads).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(1_000)) + 2)
  })

  it('readBatch is what getFrom starts with, at most `size`, across token gaps and for one tenant', async () => {
    const store = memoryStore()
    const a = freshIds()
    const b = freshIds()
    for (let i = 0; i < 6; i++) {
      await writeStream(store, { ...a, streamId: `${a.streamId}-${i}` }, 3)
      await writeStream(store, { ...b, streamId: `${b.streamId}-${i}` }, 5)
    }
    right(await store.deleteStream(a.tenantId, `${a.streamId}-2`))
    const all = await collect(store.getFrom(0))
    for (const size of [1, 4, 7, 100])
      for (const from of [0, 3, 10, 40])
        for (const tenantId of [undefined, a.tenantId, b.tenantId]) {
          const expected = all.filter((c) => c.checkpointToken > from && (tenantId === undefined || c.tenantId === tenantId)).slice(0, size)
          expect(right(await readBatch(store, from, size, tenantId)).map((c) => c.checkpointToken)).toEqual(expected.map((c) => c.checkpointToken))
        }
  })

  it('BatchReader hands out what getFrom holds, batch after batch from one read, across gaps, restarts and appends', async () => {
    const store = memoryStore()
    const a = freshIds()
    for (let i = 0; i < 8; i++) await writeStream(store, { ...a, streamId: `${a.streamId}-${i}` }, 4)
    right(await store.deleteStream(a.tenantId, `${a.streamId}-3`)) // a gap of four tokens
    let opened = 0
    const counting = { getFrom: (from: number, t?: string) => (opened++, store.getFrom(from, t)), getFromTo: store.getFromTo.bind(store) }
    for (const size of [1, 3, 5, 50]) {
      opened = 0
      const reader = new BatchReader(counting, undefined)
      const seen: number[] = []
      let position = 0
      for (;;) {
        const batch = right(await reader.next(position, size))
        if (batch.length === 0) break
        seen.push(...batch.map((c) => c.checkpointToken))
        position = batch[batch.length - 1]!.checkpointToken
      }
      expect(seen).toEqual((await collect(store.getFrom(0))).map((c) => c.checkpointToken))
      // one read for the whole log, and one fresh read to confirm the end
      expect(opened).toBe(2)
      // a batch from elsewhere (a retry from an earlier checkpoint) starts a new read at that point
      expect(right(await reader.next(2, 2)).map((c) => c.checkpointToken)).toEqual([3, 4])
      // and commits appended after the end are found by the next batch
      const more = await writeStream(store, freshIds(), 1)
      expect(right(await reader.next(position, size)).map((c) => c.checkpointToken)).toEqual([more[0]!.checkpointToken])
      position = more[0]!.checkpointToken
      await reader.close()
    }
  })

  it('positionAtTime is the token before the first commit stamped at or after the time, the head when none is', async () => {
    const store = memoryStore()
    const stamps = [50, 10, 70, 30]
    const tokens: number[] = []
    for (const ms of stamps) tokens.push(...(await writeStream(store, freshIds(), 1, 1, () => new Date(ms))).map((c) => c.checkpointToken))
    expect(right(await positionAtTime(store, new Date(0), undefined))).toBe(0)
    expect(right(await positionAtTime(store, new Date(60), undefined))).toBe(tokens[1])
    expect(right(await positionAtTime(store, new Date(20), undefined))).toBe(0)
    expect(right(await positionAtTime(store, new Date(80), undefined))).toBe(tokens[3])
  })

  it('back-off doubles from the initial delay and stops at the maximum', () => {
    const policy = { attempts: 10, initialDelayMs: 10, maxDelayMs: 100 }
    expect([1, 2, 3, 4, 5, 60].map((n) => backoff(policy, n))).toEqual([10, 20, 40, 80, 100, 100])
  })

  it('a Waker keeps a wake-up that came before the wait, unless cleared; close ends every wait', async () => {
    const w = new Waker()
    w.wake()
    expect(await w.wait(1_000)).toBe(true)
    expect(await w.wait(5)).toBe(false)
    w.wake()
    w.clear()
    expect(await w.wait(5)).toBe(false)
    const waiting = w.wait(10_000)
    w.close()
    expect(await waiting).toBe(true)
    expect(await w.wait(10_000)).toBe(true)
  })

  it('toJson keeps what JSON can hold and never throws', () => {
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic['self'] = cyclic
    const code = Object.assign(new Error('lost'), { code: 'ECONNRESET' })
    expect(toJson({ e: code, n: 1n, u: undefined })).toEqual({ e: { name: 'Error', message: 'lost', code: 'ECONNRESET' }, n: '1' })
    expect(toJson(cyclic)).toEqual({ a: 1, self: '[cycle]' })
    expect(toJson(undefined)).toBe(null)
    const hostile = { toJSON: () => { throw new Error('no') }, toString: () => 'hostile' }
    expect(toJson(hostile)).toBe('hostile')
  })

  it('options get their defaults, and the heartbeat must be shorter than the lease', () => {
    const store = memoryStore()
    const s = right(settingsOf({ name: 'n', store, handler: async () => E.right(undefined) }))
    expect(s).toMatchObject({ batchSize: 100, pollMs: 500, idleMaxMs: 5_000, leaseTtlMs: 15_000, heartbeatMs: 5_000, standbyPollMs: 1_000, onFailure: 'stop', parkStreamAfterFailure: true, start: 'beginning' })
    expect(s.retry).toEqual({ attempts: 5, initialDelayMs: 200, maxDelayMs: 10_000 })
    expect(s.holder).toMatch(/^instance-/)
    expect(E.isLeft(settingsOf({ name: 'n', store, handler: async () => E.right(undefined), leaseTtlMs: 1_000, heartbeatMs: 2_000 }))).toBe(true)
    expect(E.isLeft(settingsOf({ name: 'n'.repeat(257), store, handler: async () => E.right(undefined) }))).toBe(true)
  })
})
