import * as E from 'fp-ts/lib/Either.js'
import { afterEach, describe, expect, it } from 'vitest'
import { resetProjection, startProjection } from '../../src/projections/index.js'
import { sqliteProjection, sqliteStore, type SqliteStore } from '../../src/sqlite/index.js'
import { orThrow, tempDir, tempFile } from '../sqlite/support.js'
import { Bumped, attempt, must, logTokens, tenantId, testTopics, writeCommits } from './fixtures.js'

const dir = tempDir()
const stores: SqliteStore[] = []
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close()
})

const fresh = async (): Promise<SqliteStore> => {
  const store = sqliteStore({ filename: tempFile(dir) })
  orThrow(await store.initialize())
  stores.push(store)
  const db = orThrow(await store.database())
  db.exec('CREATE TABLE applied (token INTEGER NOT NULL, idx INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (token, idx))')
  db.exec('CREATE TABLE totals (stream TEXT PRIMARY KEY, total INTEGER NOT NULL)')
  return store
}

/** A counter per event and a total per stream; `refuse` makes the handler refuse some events. */
const counting = (name: string, refuse: (by: number) => boolean = () => false) =>
  sqliteProjection({
    name,
    topics: testTopics,
    handlers: {
      Bumped: (tx, event, meta) => {
        tx.prepare('INSERT INTO applied (token, idx, n) VALUES (?, ?, 1) ON CONFLICT (token, idx) DO UPDATE SET n = n + 1').run(meta.commit.checkpointToken, meta.index)
        if (refuse(event.by)) return E.left(`refused ${event.by}`)
        tx.prepare('INSERT INTO totals (stream, total) VALUES (?, ?) ON CONFLICT (stream) DO UPDATE SET total = total + excluded.total').run(meta.commit.streamId, event.by)
        return undefined
      },
      Noted: () => undefined,
    },
  })

const applied = async (store: SqliteStore) =>
  orThrow(await store.database()).prepare('SELECT token, idx, n FROM applied ORDER BY token, idx').all() as { token: number; idx: number; n: number }[]
const totals = async (store: SqliteStore) =>
  Object.fromEntries((orThrow(await store.database()).prepare('SELECT stream, total FROM totals').all() as { stream: string; total: number }[]).map((r) => [r.stream, r.total]))

const fast = { pollMs: 20, leaseTtlMs: 2_000, retry: { attempts: 2, initialDelayMs: 5 } }

describe('transactional projections on SQLite', () => {
  it('applies every event once, in the transaction of its checkpoint, and reports its status', async () => {
    const store = await fresh()
    const written = await writeCommits(store, 25)
    const running = orThrow(startProjection(store, counting('counts'), { ...fast, batchSize: 7 }))
    const caught = await running.caughtUp()
    expect(E.isRight(caught)).toBe(true)
    // Live: a commit made now reaches the projection too.
    written.push(...(await writeCommits(store, 4, 2, 100)))
    expect(E.isRight(await running.caughtUp())).toBe(true)
    const status = orThrow(await running.status())
    await running.stop()
    const tokens = await logTokens(store)
    expect(tokens).toEqual(written.map((c) => c.checkpointToken))
    expect(await applied(store)).toEqual(tokens.map((token) => ({ token, idx: 0, n: 1 })))
    expect(status.position).toBe(tokens[tokens.length - 1])
    expect(status.headToken).toBe(tokens[tokens.length - 1])
    expect(status.lag.commits).toBe(0)
    expect(status.lastError).toBeUndefined()
    const expected: Record<string, number> = {}
    for (const c of written) expected[c.streamId] = (expected[c.streamId] ?? 0) + (c.events[0]?.body as unknown as { by: number }).by
    expect(await totals(store)).toEqual(expected)
  })

  it('rolls the whole batch back when a handler refuses an event, and stops at the last good batch', async () => {
    const store = await fresh()
    await writeCommits(store, 10)
    const running = orThrow(startProjection(store, counting('refusing', (by) => by === 8), { ...fast, batchSize: 5 }))
    const caught = await running.caughtUp()
    expect(E.isLeft(caught) && caught.left._tag).toBe('HandlerFailed')
    const status = orThrow(await running.status())
    await running.stop()
    // The first batch (tokens 1-5) is applied; of the second (6-10) nothing, not even the events before the refusal.
    expect((await applied(store)).map((r) => r.token)).toEqual([1, 2, 3, 4, 5])
    expect(status.position).toBe(5)
    expect(status.lastError?._tag).toBe('HandlerFailed')
    if (status.lastError?._tag === 'HandlerFailed' && status.lastError.error._tag === 'Left') {
      const left = status.lastError.error.left
      expect(left._tag === 'ProjectionRejected' && left.checkpointToken).toBe(8)
    } else expect.fail('a HandlerFailed with the rejection')
  })

  it('parks a refused commit, goes on, and applies it exactly once when replayed', async () => {
    const store = await fresh()
    await writeCommits(store, 6)
    let refuse = true
    const running = orThrow(startProjection(store, counting('parking', (by) => refuse && by === 3), { ...fast, onFailure: 'park', parkStreamAfterFailure: false }))
    expect(E.isRight(await running.caughtUp())).toBe(true)
    expect((await applied(store)).map((r) => r.token)).toEqual([1, 2, 4, 5, 6])
    refuse = false
    const replayed = must(await running.replayParked())
    expect(replayed.replayed).toEqual([3])
    // Replaying again finds nothing parked: the commit is not applied twice.
    expect(must(await running.replayParked()).replayed).toEqual([])
    expect(E.isRight(await running.caughtUp())).toBe(true)
    await running.stop()
    expect(await applied(store)).toEqual([1, 2, 3, 4, 5, 6].map((token) => ({ token, idx: 0, n: 1 })))
  })

  it('is fenced: a transaction with a former lease writes nothing', async () => {
    const store = await fresh()
    const [commit] = await writeCommits(store, 1)
    const lease = orThrow(await store.subscriptions.acquire('fenced', 'old', 60_000))
    if (lease._tag === 'None') return expect.fail('no lease')
    orThrow(await store.subscriptions.release(lease.value))
    const taken = orThrow(await store.subscriptions.acquire('fenced', 'new', 60_000))
    expect(taken._tag).toBe('Some')
    let calls = 0
    const r = await store.projections.transact(lease.value, 1, [commit as NonNullable<typeof commit>], () => {
      calls += 1
      return E.right(undefined)
    })
    expect(E.isLeft(r) && r.left._tag).toBe('LeaseLost')
    expect(calls).toBe(0)
    expect(orThrow(await store.subscriptions.checkpoint('fenced'))._tag).toBe('None')
  })

  it('skips items at or below the stored checkpoint (a repeat after a commit whose answer was lost)', async () => {
    const store = await fresh()
    const commits = await writeCommits(store, 3)
    const lease = orThrow(await store.subscriptions.acquire('repeat', 'me', 60_000))
    if (lease._tag === 'None') return expect.fail('no lease')
    const seen: number[] = []
    const apply = (_tx: unknown, c: { readonly checkpointToken: number }) => {
      seen.push(c.checkpointToken)
      return E.right(undefined)
    }
    must(await store.projections.transact(lease.value, 3, commits, apply))
    must(await store.projections.transact(lease.value, 3, commits, apply))
    // A lower position never moves the checkpoint back.
    must(await store.projections.transact(lease.value, 1, [], apply))
    expect(seen).toEqual([1, 2, 3])
    const cp = orThrow(await store.subscriptions.checkpoint('repeat'))
    expect(cp._tag === 'Some' && cp.value.positions['0']).toBe(3)
  })

  it('decodes through the topic map: an event that does not decode stops it with a DecodeFailed', async () => {
    const store = await fresh()
    await writeCommits(store, 2)
    const bad = attempt(undefined, 'broken', [])
    must(await store.commit({ ...bad, streamRevision: 1, events: [{ body: { type: 'Bumped', id: 'broken', version: 1, timestamp: new Date().toISOString(), by: 'x' }, headers: {} }] }))
    const running = orThrow(startProjection(store, counting('decoding'), fast))
    const caught = await running.caughtUp()
    await running.stop()
    expect(E.isLeft(caught) && caught.left._tag).toBe('DecodeFailed')
    expect((await applied(store)).map((r) => r.token)).toEqual([1, 2])
  })

  it('resets fenced, with the hook in the same transaction, and replays exactly once', async () => {
    const store = await fresh()
    await writeCommits(store, 8)
    const projection = counting('resettable')
    const first = orThrow(startProjection(store, projection, fast))
    expect(E.isRight(await first.caughtUp())).toBe(true)
    // While an instance runs, a reset is refused.
    const held = await resetProjection({ store, projection, hook: () => undefined })
    expect(E.isLeft(held) && held.left._tag).toBe('LeaseHeld')
    await first.stop()
    // A refusing hook changes nothing: neither the tables nor the checkpoint.
    const refused = await resetProjection({
      store,
      projection,
      hook: (db) => {
        db.exec('DELETE FROM applied')
        return E.left('not now')
      },
    })
    expect(E.isLeft(refused) && refused.left._tag).toBe('ResetRefused')
    expect((await applied(store)).length).toBe(8)
    must(await resetProjection({ store, projection, hook: (db) => void db.exec('DELETE FROM applied; DELETE FROM totals') }))
    expect(await applied(store)).toEqual([])
    const again = orThrow(startProjection(store, projection, fast))
    expect(E.isRight(await again.caughtUp())).toBe(true)
    await again.stop()
    expect(await applied(store)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((token) => ({ token, idx: 0, n: 1 })))
  })

  it('answers an InvalidArgument for a store without projections or a projection of another mode', () => {
    const store = sqliteStore({ filename: ':memory:' })
    const { projections: _, ...withoutProjections } = store
    expect(E.isLeft(startProjection(withoutProjections as unknown as SqliteStore, counting('x')))).toBe(true)
    const asyncOne = { ...counting('y'), mode: 'async' } as unknown as ReturnType<typeof counting>
    const r = startProjection(store, asyncOne)
    expect(E.isLeft(r) && r.left._tag).toBe('InvalidArgument')
    void store.close()
    expect(tenantId).toBe('projections')
    expect(Bumped.create({ id: 'a', version: 1, timestamp: new Date(), by: 1 }).by).toBe(1)
  })
})

// ----- types: checked by `tsc` (this file is in the project) -----

export const typeChecks = () => {
  // @ts-expect-error a handler left out for a topic of the map does not compile
  sqliteProjection({ name: 'missing', topics: testTopics, handlers: { Bumped: () => undefined } })
  sqliteProjection({
    name: 'async-on-sqlite',
    topics: testTopics,
    handlers: {
      // @ts-expect-error a SQLite handler must answer at once: a promise does not compile
      Bumped: async () => undefined,
      Noted: () => undefined,
    },
  })
  sqliteProjection({
    name: 'typed',
    topics: testTopics,
    handlers: {
      Bumped: (tx, event) => {
        // The event is narrowed to its topic, and the transaction is the better-sqlite3 database.
        const by: number = event.by
        tx.prepare('SELECT ?').get(by)
        // @ts-expect-error Bumped has no `text`
        void event.text
        return undefined
      },
      Noted: (_tx, event) => (event.text.length > 0 ? undefined : E.left('empty')),
    },
  })
}
