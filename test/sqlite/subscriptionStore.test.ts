import Database from 'better-sqlite3'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { right, some } from 'aett/testing/contract'
import { sqliteStore } from '../../src/sqlite/index.js'
import { databaseNow } from '../../src/sqlite/statements.js'
import { databaseOf, openInitialized, orThrow, tempDir, tempFile } from './support.js'

// What the subscription contract cannot see from outside: SQLite's own clock, several connections on one file,
// what `drop` and `purge` do to the subscription tables, and rows that do not parse.
const dir = tempDir()
const hour = 3_600_000

afterEach(() => void vi.useRealTimers())

const sqliteNow = (db: Database.Database): number => db.prepare(`SELECT ${databaseNow}`).pluck().get() as number

describe('sqlite: the subscription store', () => {
  it("measures lease expiry by SQLite's clock: the process's clock, an hour off either way, changes nothing", async () => {
    const store = await openInitialized({ filename: tempFile(dir) })
    const db = (await databaseOf(store)) as Database.Database
    const ss = store.subscriptions
    // the process's clock an hour ahead: a 60 s lease is still live by the database's clock
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + hour })
    const before = sqliteNow(db)
    const a = some(right(await ss.acquire('clock', 'a', 60_000)))
    expect(a.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 60_000)
    expect(a.expiresAt.getTime()).toBeLessThanOrEqual(sqliteNow(db) + 60_000)
    expect(a.expiresAt.getTime()).toBeLessThan(Date.now())
    expect(right(await ss.acquire('clock', 'b', 60_000))).toEqual(O.none)
    // the process's clock an hour behind: a 50 ms lease expires after 50 ms all the same, and is taken
    vi.setSystemTime(Date.now() - 2 * hour)
    const c = some(right(await ss.acquire('short', 'c', 50)))
    expect(right(await ss.acquire('short', 'd', 50))).toEqual(O.none)
    await sleep(120)
    const d = some(right(await ss.acquire('short', 'd', 50)))
    expect(d.epoch).toBe(c.epoch + 1)
    await store.close()
  })

  it('several connections on one file see one lease: only one takes a free lease, and the others are fenced', async () => {
    const filename = tempFile(dir)
    const stores = [await openInitialized({ filename })]
    for (let i = 1; i < 4; i++) stores.push(await openInitialized({ filename }))
    const first = some(right(await (stores[0] as (typeof stores)[0]).subscriptions.acquire('shared', 'h0', 40)))
    await sleep(100)
    // the lease expired: every connection asks for it at once, and exactly one gets it
    const answers = await Promise.all(stores.map((s, i) => s.subscriptions.acquire('shared', `h${i + 1}`, 60_000)))
    const winners = answers.map(right).filter(O.isSome)
    expect(winners).toHaveLength(1)
    const winner = (winners[0] as O.Some<{ holder: string; epoch: number }>).value
    expect(winner.epoch).toBe(first.epoch + 1)
    // the former holder's writes are refused on every connection, the winner's pass on any
    for (const s of stores) expect(E.isLeft(await s.subscriptions.saveCheckpoint(first, { positions: { '0': 1 } }))).toBe(true)
    const theWinner = some(right(await (stores[2] as (typeof stores)[0]).subscriptions.lease('shared')))
    right(await (stores[3] as (typeof stores)[0]).subscriptions.saveCheckpoint(theWinner, { positions: { '0': 2 } }))
    expect(right(await (stores[1] as (typeof stores)[0]).subscriptions.checkpoint('shared'))).toEqual(O.some({ positions: { '0': 2 } }))
    for (const s of stores) await s.close()
  })

  it('purge keeps leases, checkpoints and parked commits; drop removes their tables; a closed store answers a StorageError', async () => {
    const store = await openInitialized({ filename: tempFile(dir), tablePrefix: 'p_' })
    const db = (await databaseOf(store)) as Database.Database
    const ss = store.subscriptions
    const lease = some(right(await ss.acquire('kept', 'h', 60_000)))
    right(await ss.saveCheckpoint(lease, { positions: { '0': 3 } }))
    right(await ss.park(lease, { name: 'kept', checkpointToken: 2, tenantId: 't', streamId: 's', error: 'no', parkedAt: new Date() }))
    orThrow(await store.purge())
    expect(right(await ss.checkpoint('kept'))).toEqual(O.some({ positions: { '0': 3 } }))
    expect(right(await ss.parked('kept'))).toHaveLength(1)
    expect(some(right(await ss.lease('kept'))).epoch).toBe(lease.epoch)
    orThrow(await store.drop())
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'p_*'").pluck().all()
    expect(tables).toEqual([])
    // initialised again: nothing of it is left
    orThrow(await store.initialize())
    expect(right(await ss.checkpoint('kept'))).toEqual(O.none)
    expect(right(await ss.lease('kept'))).toEqual(O.none)
    await store.close()
    const closed = await ss.acquire('kept', 'h', 1_000)
    expect(E.isLeft(closed) && closed.left._tag).toBe('StorageError')
  })

  it('a stored checkpoint that does not parse is a StorageError, not a throw or a wrong position', async () => {
    const store = await openInitialized({ filename: tempFile(dir) })
    const db = (await databaseOf(store)) as Database.Database
    const lease = some(right(await store.subscriptions.acquire('broken', 'h', 60_000)))
    right(await store.subscriptions.saveCheckpoint(lease, { positions: { '0': 3 } }))
    for (const bad of ['not json', '[1]', '{"0":"3"}', '{"0":1.5}']) {
      db.prepare(`UPDATE "aett_subscription_checkpoints" SET positions = ? WHERE name = 'broken'`).run(bad)
      const r = await store.subscriptions.checkpoint('broken')
      expect(E.isLeft(r) && r.left._tag, bad).toBe('StorageError')
    }
    await store.close()
  })

  it('a file opened without its schema answers a StorageError from every subscription call', async () => {
    const store = sqliteStore({ filename: tempFile(dir) })
    const ss = store.subscriptions
    const lease = { name: 'n', holder: 'h', epoch: 1, expiresAt: new Date() }
    const answers = await Promise.all([
      ss.acquire('n', 'h', 1_000),
      ss.renew(lease, 1_000),
      ss.release(lease),
      ss.lease('n'),
      ss.checkpoint('n'),
      ss.saveCheckpoint(lease, { positions: { '0': 1 } }),
      ss.resetCheckpoint('n', 'h', undefined),
      ss.park(lease, { name: 'n', checkpointToken: 1, tenantId: 't', streamId: 's', error: null, parkedAt: new Date() }),
      ss.parked('n'),
      ss.unpark(lease, 1),
    ])
    for (const a of answers) expect(E.isLeft(a) && a.left._tag).toBe('StorageError')
    await store.close()
  })
})
