import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Persistence, Projectable, Subscribable } from '../../src/eventstore/index.js'
import { resetProjection, startProjection, type Projection } from '../../src/projections/index.js'
import { logTokens, must, writeCommits, type TestEvent } from './fixtures.js'

export type AsyncStore<Tx> = Persistence & Subscribable & Projectable<Tx, 'async'>

/** What a store's test file gives the shared suite: a fresh store with the read-model tables, and SQL of its dialect. */
export interface AsyncKit<Tx> {
  readonly name: string
  readonly fresh: () => Promise<AsyncStore<Tx>>
  /** A projection keeping a counter per event (`applied`) and a total per stream; `refuse` refuses some events. */
  readonly counting: (store: AsyncStore<Tx>, name: string, refuse?: (by: number) => boolean) => Projection<Tx, 'async', TestEvent>
  readonly applied: (store: AsyncStore<Tx>) => Promise<{ token: number; idx: number; n: number }[]>
  readonly totals: (store: AsyncStore<Tx>) => Promise<Record<string, number>>
  /** Empties the read-model tables on the transaction (a reset's hook). */
  readonly clear: (store: AsyncStore<Tx>, tx: Tx) => Promise<void>
}

const fast = { pollMs: 20, leaseTtlMs: 3_000, retry: { attempts: 2, initialDelayMs: 5 } }

/** The behaviour every asynchronous SQL store's transactional projections keep (PostgreSQL, MySQL/MariaDB). */
export const asyncProjectionSuite = <Tx>(kit: AsyncKit<Tx>) =>
  describe(`transactional projections on ${kit.name}`, () => {
    it('applies every event once, in the transaction of its checkpoint, and reports its status', async () => {
      const store = await kit.fresh()
      const written = await writeCommits(store, 25)
      const running = must(startProjection(store, kit.counting(store, 'counts'), { ...fast, batchSize: 7 }))
      expect(E.isRight(await running.caughtUp())).toBe(true)
      written.push(...(await writeCommits(store, 4, 2, 100)))
      expect(E.isRight(await running.caughtUp())).toBe(true)
      const status = must(await running.status())
      await running.stop()
      const tokens = await logTokens(store)
      expect(tokens).toEqual(written.map((c) => c.checkpointToken))
      expect(await kit.applied(store)).toEqual(tokens.map((token) => ({ token, idx: 0, n: 1 })))
      expect(status.position).toBe(tokens[tokens.length - 1])
      expect(status.lag.commits).toBe(0)
      expect(status.lastError).toBeUndefined()
      const expected: Record<string, number> = {}
      for (const c of written) expected[c.streamId] = (expected[c.streamId] ?? 0) + (c.events[0]?.body as unknown as { by: number }).by
      expect(await kit.totals(store)).toEqual(expected)
    })

    it('rolls the whole batch back when a handler refuses an event, and stops at the last good batch', async () => {
      const store = await kit.fresh()
      const written = await writeCommits(store, 10)
      const running = must(startProjection(store, kit.counting(store, 'refusing', (by) => by === 8), { ...fast, batchSize: 5 }))
      const caught = await running.caughtUp()
      expect(E.isLeft(caught) && caught.left._tag).toBe('HandlerFailed')
      const status = must(await running.status())
      await running.stop()
      const firstFive = written.slice(0, 5).map((c) => c.checkpointToken)
      expect((await kit.applied(store)).map((r) => r.token)).toEqual(firstFive)
      expect(status.position).toBe(firstFive[4])
      const left = status.lastError?._tag === 'HandlerFailed' && status.lastError.error._tag === 'Left' ? status.lastError.error.left : undefined
      expect(left?._tag === 'ProjectionRejected' && left.checkpointToken).toBe(written[7]?.checkpointToken)
    })

    it('parks a refused commit, goes on, and applies it exactly once when replayed', async () => {
      const store = await kit.fresh()
      const written = await writeCommits(store, 6)
      let refuse = true
      const projection = kit.counting(store, 'parking', (by) => refuse && by === 3)
      const running = must(startProjection(store, projection, { ...fast, onFailure: 'park', parkStreamAfterFailure: false }))
      expect(E.isRight(await running.caughtUp())).toBe(true)
      const tokens = written.map((c) => c.checkpointToken)
      expect((await kit.applied(store)).map((r) => r.token)).toEqual(tokens.filter((_, i) => i !== 2))
      refuse = false
      expect(must(await running.replayParked()).replayed).toEqual([tokens[2]])
      expect(must(await running.replayParked()).replayed).toEqual([])
      await running.stop()
      expect(await kit.applied(store)).toEqual(tokens.map((token) => ({ token, idx: 0, n: 1 })))
    })

    it('resets fenced, with the hook in the same transaction, and replays exactly once', async () => {
      const store = await kit.fresh()
      const written = await writeCommits(store, 6)
      const projection = kit.counting(store, 'resettable')
      const first = must(startProjection(store, projection, fast))
      expect(E.isRight(await first.caughtUp())).toBe(true)
      expect(E.isLeft(await resetProjection({ store, projection, hook: async () => undefined }))).toBe(true)
      await first.stop()
      const refused = await resetProjection({
        store,
        projection,
        hook: async (tx) => {
          await kit.clear(store, tx)
          return E.left('not now')
        },
      })
      expect(E.isLeft(refused) && refused.left._tag).toBe('ResetRefused')
      expect((await kit.applied(store)).length).toBe(6)
      must(await resetProjection({ store, projection, hook: (tx) => kit.clear(store, tx).then(() => undefined) }))
      expect(await kit.applied(store)).toEqual([])
      const again = must(startProjection(store, projection, fast))
      expect(E.isRight(await again.caughtUp())).toBe(true)
      await again.stop()
      expect(await kit.applied(store)).toEqual(written.map((c) => ({ token: c.checkpointToken, idx: 0, n: 1 })))
    })

    it('is fenced, skips what the checkpoint covers, and never moves the checkpoint back', async () => {
      const store = await kit.fresh()
      const commits = await writeCommits(store, 3)
      const top = commits[2]?.checkpointToken as number
      const old = must(await store.subscriptions.acquire('fenced', 'old', 60_000))
      if (old._tag === 'None') return expect.fail('no lease')
      const seen: number[] = []
      const apply = async (_tx: Tx, c: { readonly checkpointToken: number }) => {
        seen.push(c.checkpointToken)
        return E.right(undefined)
      }
      must(await store.projections.transact(old.value, top, commits, apply))
      must(await store.projections.transact(old.value, top, commits, apply))
      must(await store.projections.transact(old.value, 1, [], apply))
      expect(seen).toEqual(commits.map((c) => c.checkpointToken))
      const cp = must(await store.subscriptions.checkpoint('fenced'))
      expect(cp._tag === 'Some' && cp.value.positions['0']).toBe(top)
      // After a takeover, the former holder's transaction writes nothing.
      must(await store.subscriptions.release(old.value))
      expect(must(await store.subscriptions.acquire('fenced', 'new', 60_000))._tag).toBe('Some')
      const r = await store.projections.transact(old.value, top + 10, commits, apply)
      expect(E.isLeft(r) && r.left._tag).toBe('LeaseLost')
      const after = must(await store.subscriptions.checkpoint('fenced'))
      expect(after._tag === 'Some' && after.value.positions['0']).toBe(top)
    })
  })
