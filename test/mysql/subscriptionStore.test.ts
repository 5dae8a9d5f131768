import { createHash } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toArray, type CommitAttempt, type Lease, type Persistence, type Subscribable } from '../../src/eventstore/index.js'
import type { MysqlPool, MysqlQueryable } from '../../src/mysql/index.js'
import { mysqlStore } from '../../src/mysql/store.js'
import { migrations, mysqlNames } from '../../src/mysql/schema.js'
import { mysqlSubscriptionStatements } from '../../src/mysql/statements.js'
import { mysqlUrl } from '../support/services.js'
import { freshPrefix, mysqlAvailable, rightOf, testPool } from './support.js'

// The MySQL store's SubscriptionStore beyond the shared contract (subscriptions.test.ts): the server's clock
// whatever the session's time zone, writes that are compare-and-sets (racing pools), the fence under concurrency,
// sessions that apply assignments at once or read committed, constant statements, and a 0.1 database migrating.

const available = await mysqlAvailable()

type Store = Persistence & Subscribable

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const some = <A>(o: O.Option<A>): A => {
  if (O.isNone(o)) throw new Error('expected Some, got None')
  return o.value
}

/** A pool whose every session runs `setup` (SET statements without values) before its first statement. */
const poolWith = (setup: readonly string[], connectionLimit = 3): { pool: mysql.Pool; failures: unknown[] } => {
  const failures: unknown[] = []
  const pool = mysql.createPool({ uri: mysqlUrl, connectionLimit })
  pool.on('connection', (connection) => {
    const core = connection as unknown as { query: (sql: string, cb: (err: unknown) => void) => void }
    for (const sql of setup) core.query(sql, (err) => void (err && failures.push(err)))
  })
  return { pool, failures }
}

/** The server's UTC clock in epoch ms, read independently of the store's formula. */
const serverNow = async (pool: mysql.Pool): Promise<number> => {
  const c = await pool.getConnection()
  try {
    await c.query(`SET time_zone = '+00:00'`)
    const [rows] = await c.query('SELECT UNIX_TIMESTAMP(UTC_TIMESTAMP(6)) * 1000 AS now')
    return Number((rows as { now: unknown }[])[0]?.now)
  } finally {
    c.release()
  }
}

const attempt = (streamId: string, n: number): CommitAttempt => ({
  tenantId: 'subs',
  streamId,
  streamRevision: n,
  commitSequence: n,
  commitId: `${streamId}-${n}`,
  commitStamp: new Date('2026-01-02T03:04:05.678Z'),
  headers: {},
  events: [{ body: { type: 'Happened', n }, headers: {} }],
})

/**
 * The port's rules, in one pass, on a store: take, renew, refuse, release, expire, epochs, the fence after a
 * takeover and after a reset, parking. Run under each session setup below.
 */
const portRules = async (store: Store): Promise<void> => {
  const ss = store.subscriptions
  const name = `rules-${Math.random().toString(36).slice(2)}`
  const a = some(rightOf(await ss.acquire(name, 'a', 5_000)))
  expect(a.epoch).toBe(1)
  expect(some(rightOf(await ss.acquire(name, 'a', 5_000))).epoch).toBe(1)
  expect(rightOf(await ss.acquire(name, 'b', 5_000))).toEqual(O.none)
  expect(rightOf(await ss.renew(a, 6_000)).expiresAt.getTime()).toBeGreaterThanOrEqual(a.expiresAt.getTime())
  rightOf(await ss.saveCheckpoint(a, { positions: { '0': 3 } }))
  rightOf(await ss.park(a, { name, checkpointToken: 2, tenantId: 't', streamId: 's', error: { why: 'x' }, parkedAt: new Date(0) }))
  // released: taken at once by another holder, with the next epoch; the former holder is fenced off
  rightOf(await ss.release(a))
  const released = some(rightOf(await ss.lease(name)))
  expect(released.expiresAt.getTime()).toBeLessThanOrEqual(a.expiresAt.getTime())
  const b = some(rightOf(await ss.acquire(name, 'b', 60)))
  expect(b.epoch).toBe(2)
  expect(await ss.saveCheckpoint(a, { positions: { '0': 9 } })).toEqual(E.left({ _tag: 'LeaseLost', name, epoch: 1 }))
  expect(E.isLeft(await ss.renew(a, 1_000))).toBe(true)
  expect(E.isLeft(await ss.unpark(a, 2))).toBe(true)
  // expired but not taken: still fences for its holder, and renews; taken after expiry: the epoch grows, even for b
  await sleep(120)
  rightOf(await ss.saveCheckpoint(b, { positions: { '0': 4 } }))
  await sleep(120)
  const b2 = some(rightOf(await ss.acquire(name, 'b', 5_000)))
  expect(b2.epoch).toBe(3)
  expect(E.isLeft(await ss.saveCheckpoint(b, { positions: { '0': 5 } }))).toBe(true)
  // a reset is refused while the lease is live, and otherwise fences every former holder
  expect(rightOf(await ss.resetCheckpoint(name, 'reset', { positions: { '0': 0 } }))).toEqual(O.none)
  rightOf(await ss.release(b2))
  const reset = some(rightOf(await ss.resetCheckpoint(name, 'reset', { positions: { '0': 1 } })))
  expect(reset.epoch).toBe(4)
  expect(E.isLeft(await ss.saveCheckpoint(b2, { positions: { '0': 6 } }))).toBe(true)
  expect(some(rightOf(await ss.checkpoint(name)))).toEqual({ positions: { '0': 1 } })
  // parked records survive hand-overs, and the new holder unparks
  const c = some(rightOf(await ss.acquire(name, 'c', 5_000)))
  expect(c.epoch).toBe(5)
  expect(rightOf(await ss.parked(name)).map((p) => [p.checkpointToken, p.error, p.parkedAt.getTime()])).toEqual([[2, { why: 'x' }, 0]])
  rightOf(await ss.unpark(c, 2))
  expect(rightOf(await ss.parked(name))).toEqual([])
  rightOf(await ss.release(c))
  expect(O.isSome(rightOf(await ss.resetCheckpoint(name, 'reset', undefined)))).toBe(true)
  expect(rightOf(await ss.checkpoint(name))).toEqual(O.none)
  // a reset of a name never leased takes its first lease, released
  const fresh = `${name}-fresh`
  expect(some(rightOf(await ss.resetCheckpoint(fresh, 'reset', { positions: { '0': 7 } }))).epoch).toBe(1)
  expect(some(rightOf(await ss.checkpoint(fresh)))).toEqual({ positions: { '0': 7 } })
  expect(some(rightOf(await ss.acquire(fresh, 'a', 1_000))).epoch).toBe(2)
}

describe.skipIf(!available)('mysql subscription store', () => {
  const prefix = freshPrefix()
  let plain: mysql.Pool
  let store: Store

  beforeAll(async () => {
    plain = testPool({ connectionLimit: 2 })
    store = mysqlStore({ pool: plain, tablePrefix: prefix })
    rightOf(await store.initialize())
  })

  afterAll(async () => {
    await store?.drop()
    await store?.close()
    await plain?.end()
  })

  // Sessions that differ in what could change the meaning of the statements: the time zone (the clock), MariaDB's
  // SIMULTANEOUS_ASSIGNMENT (SET clauses applied at once instead of left to right), READ COMMITTED (what a read
  // inside a write sees), and the four sql_modes of sqlmode.test.ts.
  const allModes = 'NO_BACKSLASH_ESCAPES,ANSI_QUOTES,PAD_CHAR_TO_FULL_LENGTH,ONLY_FULL_GROUP_BY'
  /** Each setup, and a probe that its sessions really run with it: [SQL, what its value must contain]. */
  const setups: Record<string, readonly [readonly string[], string, string]> = {
    'the server defaults': [[], 'SELECT 1 AS v', '1'],
    "time_zone '+05:30'": [[`SET time_zone = '+05:30'`], 'SELECT @@SESSION.time_zone AS v', '+05:30'],
    "time_zone '-08:00'": [[`SET time_zone = '-08:00'`], 'SELECT @@SESSION.time_zone AS v', '-08:00'],
    SIMULTANEOUS_ASSIGNMENT: [
      [`SET SESSION sql_mode = CONCAT(@@sql_mode, ',SIMULTANEOUS_ASSIGNMENT')`],
      'SELECT @@SESSION.sql_mode AS v',
      'SIMULTANEOUS_ASSIGNMENT',
    ],
    'READ COMMITTED': [['SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED'], 'SELECT @@SESSION.tx_isolation AS v', 'READ-COMMITTED'],
    [allModes]: [[`SET SESSION sql_mode = CONCAT(@@sql_mode, ',${allModes}')`], 'SELECT @@SESSION.sql_mode AS v', allModes.split(',')[1] as string],
  }
  for (const [label, [setup, probe, expected]] of Object.entries(setups)) {
    it(`keeps the port's rules in sessions with ${label}`, async () => {
      const { pool, failures } = poolWith(setup, 1)
      const s = mysqlStore({ pool, tablePrefix: prefix })
      try {
        const [rows] = await pool.query(probe)
        expect(String((rows as { v: unknown }[])[0]?.v)).toContain(expected)
        await portRules(s)
        expect(failures).toEqual([])
      } finally {
        await s.close()
        await pool.end()
      }
    })
  }

  it("measures every lease by the server's UTC clock, whatever the session's time zone", async () => {
    // given two stores whose sessions are 13.5 hours apart
    const east = poolWith([`SET time_zone = '+05:30'`])
    const west = poolWith([`SET time_zone = '-08:00'`])
    const e = mysqlStore({ pool: east.pool, tablePrefix: prefix })
    const w = mysqlStore({ pool: west.pool, tablePrefix: prefix })
    try {
      const name = `clock-${Math.random().toString(36).slice(2)}`
      // when one takes a lease of 300 ms
      const before = await serverNow(plain)
      const lease = some(rightOf(await e.subscriptions.acquire(name, 'east', 300)))
      const after = await serverNow(plain)
      // then its expiry is the server's UTC now plus the ttl, in epoch ms, as stored
      expect(lease.expiresAt.getTime()).toBeGreaterThanOrEqual(Math.floor(before) + 300)
      expect(lease.expiresAt.getTime()).toBeLessThanOrEqual(Math.ceil(after) + 300)
      const [rows] = await plain.execute(`SELECT expires_at FROM \`${prefix}_subscriptions\` WHERE name = ?`, [name])
      expect(Number((rows as { expires_at: unknown }[])[0]?.expires_at)).toBe(lease.expiresAt.getTime())
      // and the other judges it live, then expired, at the same instants
      expect(rightOf(await w.subscriptions.acquire(name, 'west', 300))).toEqual(O.none)
      await sleep(Math.max(0, lease.expiresAt.getTime() - (await serverNow(plain))) + 20)
      const taken = some(rightOf(await w.subscriptions.acquire(name, 'west', 60_000)))
      expect(taken.epoch).toBe(lease.epoch + 1)
      // a release moves the expiry to the server's now
      rightOf(await w.subscriptions.release(taken))
      const released = some(rightOf(await e.subscriptions.lease(name)))
      expect(Math.abs(released.expiresAt.getTime() - (await serverNow(plain)))).toBeLessThan(2_000)
      expect([...east.failures, ...west.failures]).toEqual([])
    } finally {
      await e.close()
      await w.close()
      await east.pool.end()
      await west.pool.end()
    }
  })

  it('gives a free lease to exactly one of many racing processes, with the epoch growing by one per hand-over', async () => {
    // given six stores on six pools, as six processes would have
    const pools = Array.from({ length: 6 }, () => testPool({ connectionLimit: 1 }))
    const stores = pools.map((pool) => mysqlStore({ pool, tablePrefix: prefix }))
    try {
      const name = `race-${Math.random().toString(36).slice(2)}`
      const epochs: number[] = []
      for (let round = 0; round < 12; round++) {
        // when all of them try to take the (new, then released) lease at once
        const got = await Promise.all(stores.map((s, i) => s.subscriptions.acquire(name, `p${i}`, 5_000)))
        // then exactly one holds it, and the others were told so
        const winners = got.map(rightOf).filter(O.isSome).map((o) => o.value)
        expect(winners).toHaveLength(1)
        const winner = winners[0] as Lease
        expect(some(rightOf(await store.subscriptions.lease(name)))).toEqual(winner)
        epochs.push(winner.epoch)
        // resets race the next round's takes, too
        rightOf(await (stores[round % stores.length] as Store).subscriptions.release(winner))
        if (round % 3 === 2) {
          // a reset gives its lease back at once, so one taker may follow it; never two takers
          const raced = await Promise.all([
            ...stores.slice(0, 3).map((s, i) => s.subscriptions.acquire(name, `p${i}`, 5_000)),
            store.subscriptions.resetCheckpoint(name, 'reset', { positions: { '0': round } }),
          ])
          const taken = raced.map(rightOf).filter(O.isSome).map((o) => o.value)
          const takers = taken.filter((l) => l.holder !== 'reset')
          expect(takers.length).toBeLessThanOrEqual(1)
          expect(taken.length).toBeGreaterThanOrEqual(1)
          epochs.push(...taken.map((l) => l.epoch).sort((x, y) => x - y))
          for (const l of takers) rightOf(await store.subscriptions.release(l))
        }
      }
      expect(epochs).toEqual(epochs.map((_, i) => i + 1))
    } finally {
      await Promise.all(stores.map((s) => s.close()))
      await Promise.all(pools.map((p) => p.end()))
    }
  })

  it('fences at once: after a takeover returned, no write of the former holder succeeds, however fast it keeps writing', async () => {
    const formerPool = testPool({ connectionLimit: 3 })
    const former = mysqlStore({ pool: formerPool, tablePrefix: prefix })
    try {
      const name = `fence-${Math.random().toString(36).slice(2)}`
      const lease = some(rightOf(await former.subscriptions.acquire(name, 'former', 80)))
      let takenAt: number | undefined
      const late: string[] = []
      let written = 0
      let refusedAfter = 0
      // the former holder writes its checkpoint, parks and unparks in a loop, three at a time
      const writing = Promise.all(
        [0, 1, 2].map(async (lane) => {
          for (let i = 1; takenAt === undefined || performance.now() - takenAt < 200; i++) {
            const startedAt = performance.now()
            const ops = [
              former.subscriptions.saveCheckpoint(lease, { positions: { '0': i * 3 + lane } }),
              former.subscriptions.park(lease, { name, checkpointToken: i, tenantId: 't', streamId: 's', error: null, parkedAt: new Date() }),
              former.subscriptions.unpark(lease, i),
            ]
            for (const r of await Promise.all(ops)) {
              if (E.isRight(r)) {
                written += 1
                if (takenAt !== undefined && startedAt > takenAt) late.push(`write started ${startedAt - takenAt} ms after the takeover`)
              } else {
                expect(r.left._tag).toBe('LeaseLost')
                if (takenAt !== undefined && startedAt > takenAt) refusedAfter += 1
              }
            }
          }
        }),
      )
      // while another process takes the lease over once it expired
      const next = await (async () => {
        for (;;) {
          const got = rightOf(await store.subscriptions.acquire(name, 'next', 60_000))
          if (O.isSome(got)) {
            takenAt = performance.now()
            return got.value
          }
          await sleep(5)
        }
      })()
      await writing
      // then nothing the former holder started after the takeover was stored, and the new holder's write stands
      expect(late).toEqual([])
      expect(written).toBeGreaterThan(0)
      expect(refusedAfter).toBeGreaterThan(0)
      rightOf(await store.subscriptions.saveCheckpoint(next, { positions: { '0': 1_000_000 } }))
      await sleep(20)
      expect(some(rightOf(await store.subscriptions.checkpoint(name)))).toEqual({ positions: { '0': 1_000_000 } })
    } finally {
      await former.close()
      await formerPool.end()
    }
  })

  it('issue 10 item 1: binds every value, runs only constant statements, never a session lock, and never sends the client clock', async () => {
    // given a pool that records every call the store makes
    const executed: { sql: string; values: readonly unknown[] }[] = []
    const queried: string[] = []
    const recordOn = (target: MysqlQueryable) => ({
      execute: (sql: string, values?: unknown) => {
        executed.push({ sql, values: Array.isArray(values) ? values : [] })
        return target.execute(sql, values)
      },
      query: (sql: string) => {
        queried.push(sql)
        return target.query(sql)
      },
    })
    const pool = plain as unknown as MysqlPool
    const recording: MysqlPool = {
      ...recordOn(pool),
      getConnection: async () => {
        const c = await pool.getConnection()
        return { ...recordOn(c), release: () => c.release(), destroy: () => c.destroy() }
      },
      end: async () => undefined,
    }
    const s = mysqlStore({ pool: recording, tablePrefix: prefix })
    // when it runs every subscription operation, twice
    await portRules(s)
    await portRules(s)
    // then every statement with values is one of the subscription store's constant texts
    const texts = new Set(Object.values(mysqlSubscriptionStatements(mysqlNames(prefix))))
    expect(executed.filter((e) => !texts.has(e.sql))).toEqual([])
    expect(texts.size).toBe(new Set(executed.map((e) => e.sql)).size)
    // text without values is transaction control only; no named lock is ever taken
    expect([...new Set(queried)].sort()).toEqual(['COMMIT', 'START TRANSACTION'])
    expect([...executed.map((e) => e.sql), ...queried].filter((sql) => /GET_LOCK/i.test(sql))).toEqual([])
    // no value is a JavaScript number, and none is the client's clock (only a parked commit's own parkedAt is a time)
    expect(executed.flatMap((e) => e.values).filter((v) => typeof v === 'number')).toEqual([])
    const now = BigInt(Date.now())
    const clockLike = (v: unknown) => typeof v === 'bigint' && v > now - 86_400_000n && v < now + 86_400_000n
    expect(executed.filter((e) => !e.sql.startsWith('REPLACE INTO') && e.values.some(clockLike))).toEqual([])
    await s.close()
  })

  it('migrates a database that 0.1 wrote (schema version 1): commits stay, subscriptions work', async () => {
    // step 1 is what 0.1 released; it never changes (a change is a new step)
    const step1 = migrations.find((m) => m.version === 1)
    if (step1 === undefined) throw new Error('no migration step 1')
    const digest = createHash('sha256').update(step1.statements(mysqlNames('aett')).join('\n;\n')).digest('hex')
    expect(digest).toBe(released01Digest)
    // given a prefix with 0.1's schema, its version table saying 1, and commits in it
    const p = freshPrefix()
    const n = mysqlNames(p)
    await plain.query(`CREATE TABLE ${n.schemaVersion} (version INT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL) ENGINE=InnoDB`)
    for (const sql of step1.statements(n)) await plain.query(sql)
    await plain.query(`INSERT INTO ${n.schemaVersion} (version, applied_at) VALUES (1, 0)`)
    const s = mysqlStore({ pool: plain as unknown as MysqlPool, tablePrefix: p })
    try {
      const written = [rightOf(await s.commit(attempt('old', 1))), rightOf(await s.commit(attempt('old', 2)))]
      // before it is migrated, subscription calls answer a StorageError (no such table), never a throw
      const early = await s.subscriptions.acquire('sub', 'h', 1_000)
      expect(E.isLeft(early) && early.left._tag === 'StorageError' && (early.left.cause as { errno?: number }).errno).toBe(1146)
      // when this release initialises it
      rightOf(await s.initialize())
      // then step 2 ran once, the commits are as they were, and subscriptions work on it
      const [versions] = await plain.query(`SELECT version FROM ${n.schemaVersion} ORDER BY version`)
      expect(versions).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }])
      expect(rightOf(await toArray(s.getFrom(0)))).toEqual(written)
      const lease = some(rightOf(await s.subscriptions.acquire('sub', 'h', 1_000)))
      rightOf(await s.subscriptions.saveCheckpoint(lease, { positions: { '0': written[1]?.checkpointToken as number } }))
      rightOf(await s.commit(attempt('old', 3)))
      expect(some(rightOf(await s.subscriptions.checkpoint('sub')))).toEqual({ positions: { '0': written[1]?.checkpointToken } })
      rightOf(await s.initialize())
      const [again] = await plain.query(`SELECT version FROM ${n.schemaVersion} ORDER BY version`)
      expect(again).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }])
    } finally {
      await s.drop()
    }
  })
})

/** SHA-256 of migration step 1's statements for the prefix `aett`, as released in 0.1. */
const released01Digest = '3dcb383f2a278a3e7fc320ec29a18bdbf096151105c496d2f35998dcbc582689'
