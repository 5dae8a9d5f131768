import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import type { Commit } from '../../src/eventstore/index.js'
import { postgresStore, type PostgresStore, type PostgresStoreOptions } from '../../src/postgres/index.js'
import { latestVersion } from '../../src/postgres/schema.js'
import { attempt, collect, eventually, freshIds, next, right, some, subscriptionContract, uid } from 'aett/testing/contract'
import { pgUrl } from '../support/services.js'
import { cleanUpAfterAll, pgAvailable, pgStores } from './support.js'

const available = await pgAvailable()
const stores = pgStores('aett_subs')
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

// Stores of their own pools (as separate processes would have), each with its own LISTEN connection while it
// watches; every schema belongs to this run and is dropped at the end.
let count = 0
const schemas = new WeakMap<object, string>()
const open = (schema: string, options: Partial<PostgresStoreOptions> = {}): PostgresStore => {
  // A generous readWaitMs: other test files hold transactions open on purpose, and every open writer of the
  // cluster holds global reads back (see docs/stores/postgres.md).
  const store = postgresStore({ connectionString: pgUrl, schema, poolSize: 4, readWaitMs: 10_000, ...options } as PostgresStoreOptions)
  schemas.set(store, schema)
  return store
}
const schemaOf = (store: object): string => schemas.get(store) ?? expect.fail('not a store of this file')
const fresh = async (options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> => {
  const store = open(`${stores.run}_${++count}`, options)
  right(await store.initialize())
  return store
}

const figures: string[] = []
afterAll(() => {
  if (figures.length > 0) console.info(`postgres subscription figures\n  ${figures.join('\n  ')}`)
})

/** The backends of this cluster that LISTEN on a store's channel (their last statement was the LISTEN). */
const listeners = async (pool: pg.Pool, schema: string): Promise<number[]> => {
  const { rows } = await pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE query = $1', [`LISTEN "aett/${schema}/commits"`])
  return rows.map((r) => r.pid)
}

describe.skipIf(!available)('postgres subscriptions', () => {
  cleanUpAfterAll(stores)

  subscriptionContract({
    name: 'postgres',
    create: () => fresh(),
    reopen: async (store) => open(schemaOf(store)),
    dispose: async (store) => {
      await store.drop()
      await store.close()
    },
    onFigure: (figure, value, unit) => void figures.push(`${figure}: ${value} ${unit}`),
  })

  describe('postgres: NOTIFY and LISTEN', () => {
    it('watch wakes on a commit appended by another store object (another pool, as another process): LISTEN/NOTIFY', async () => {
      const watching = await fresh()
      const writer = open(schemaOf(watching))
      try {
        let woken = 0
        const unwatch = watching.subscriptions.watch(() => void (woken += 1))
        await eventually('the LISTEN connection is up', async () => (await listeners(stores.pool(), schemaOf(watching))).length === 1)
        // it wakes once on connecting (for commits nobody heard); then only on news
        await eventually('the first wake-up', () => woken > 0)
        await sleep(50)
        const before = woken
        const started = performance.now()
        right(await writer.commit(attempt({ ...freshIds(), commitSequence: 1 })))
        await eventually('a notification woke the watcher', () => woken > before, 5_000)
        figures.push(`postgres: commit by another store object to wake-up (NOTIFY): ${(performance.now() - started).toFixed(1)} ms`)
        unwatch()
      } finally {
        await writer.close()
        await watching.drop()
        await watching.close()
      }
    })

    it('a refused or rolled-back append sends nothing; an append in a transaction notifies at its commit', async () => {
      const watching = await fresh()
      const writer = open(schemaOf(watching))
      const raw = new pg.Client({ connectionString: pgUrl })
      await raw.connect()
      try {
        let woken = 0
        const unwatch = watching.subscriptions.watch(() => void (woken += 1))
        await eventually('the LISTEN connection is up', async () => (await listeners(stores.pool(), schemaOf(watching))).length === 1)
        await eventually('the first wake-up', () => woken > 0)
        const ids = freshIds()
        const c = right(await writer.commit(attempt({ ...ids, commitSequence: 1 })))
        await eventually('woken by the commit', () => woken > 1)
        await sleep(100)
        const afterCommit = woken
        // refused: a conflict and a duplicate store nothing and notify nobody
        expect(E.isLeft(await writer.commit(attempt({ ...ids, commitSequence: 1 })))).toBe(true)
        expect(E.isLeft(await writer.commit({ ...next(c, ids), commitId: c.commitId }))).toBe(true)
        await sleep(300)
        expect(woken).toBe(afterCommit)
        // the store's own statement inside a transaction: nothing until COMMIT, nothing at all after ROLLBACK
        const { statements } = await import('../../src/postgres/statements.js')
        const { names } = await import('../../src/postgres/schema.js')
        const { defaultTables } = await import('../../src/postgres/config.js')
        const { appendParams } = await import('../../src/postgres/rows.js')
        const sql = statements(names({ schema: schemaOf(watching), tables: defaultTables }), { notify: true })
        await raw.query('BEGIN')
        await raw.query({ text: sql.append.text, values: appendParams(attempt({ ...freshIds(), commitSequence: 1 })) })
        await sleep(300)
        expect(woken).toBe(afterCommit)
        await raw.query('ROLLBACK')
        await sleep(300)
        expect(woken).toBe(afterCommit)
        await raw.query('BEGIN')
        await raw.query({ text: sql.append.text, values: appendParams(attempt({ ...freshIds(), commitSequence: 1 })) })
        await raw.query('COMMIT')
        await eventually('woken at COMMIT', () => woken > afterCommit, 5_000)
        unwatch()
      } finally {
        await raw.end()
        await writer.close()
        await watching.drop()
        await watching.close()
      }
    })

    it('with notify: false appends send no NOTIFY (other processes poll); commits of the store object itself still wake', async () => {
      const watching = await fresh()
      const quiet = open(schemaOf(watching), { notify: false })
      try {
        let woken = 0
        const unwatch = watching.subscriptions.watch(() => void (woken += 1))
        await eventually('the LISTEN connection is up', async () => (await listeners(stores.pool(), schemaOf(watching))).length === 1)
        await eventually('the first wake-up', () => woken > 0)
        const before = woken
        right(await quiet.commit(attempt({ ...freshIds(), commitSequence: 1 })))
        await sleep(400)
        expect(woken).toBe(before)
        let own = 0
        const unwatchQuiet = quiet.subscriptions.watch(() => void (own += 1))
        right(await quiet.commit(attempt({ ...freshIds(), commitSequence: 1 })))
        expect(own).toBeGreaterThan(0)
        unwatchQuiet()
        unwatch()
      } finally {
        await quiet.close()
        await watching.drop()
        await watching.close()
      }
    })

    it("notify: true coalesces (a burst of commits sends a few NOTIFYs, the last after the last commit); 'in-transaction' sends one per append", async () => {
      const watching = await fresh()
      const schema = schemaOf(watching)
      const coalescing = open(schema)
      // one per append needs one transaction per append: PostgreSQL folds a transaction's equal NOTIFYs into one
      const every = open(schema, { notify: 'in-transaction', groupCommit: false })
      const raw = new pg.Client({ connectionString: pgUrl })
      await raw.connect()
      let heard = 0
      let lastHeard = 0
      raw.on('notification', () => {
        heard += 1
        lastHeard = performance.now()
      })
      await raw.query(`LISTEN "aett/${schema}/commits"`)
      const burst = async (store: PostgresStore, n: number) => {
        const lanes = Array.from({ length: 8 }, () => freshIds())
        await Promise.all(
          lanes.map(async (ids) => {
            let head: Commit | undefined
            for (let i = 0; i < n / 8; i++) head = right(await store.commit(next(head, ids)))
          }),
        )
      }
      try {
        await burst(coalescing, 80)
        const lastCommit = performance.now()
        await sleep(300)
        const coalesced = heard
        expect(coalesced).toBeGreaterThan(0)
        expect(coalesced).toBeLessThan(80)
        // the commits that came in while one was in flight are covered by one sent after them
        expect(lastHeard).toBeGreaterThan(lastCommit)
        heard = 0
        await burst(every, 40)
        await eventually('one notification per append', () => heard === 40, 5_000)
        figures.push(`postgres: 80 commits on 8 connections sent ${coalesced} coalesced NOTIFYs`)
      } finally {
        await raw.end()
        await coalescing.close()
        await every.close()
        await watching.drop()
        await watching.close()
      }
    })

    it('a lost LISTEN connection falls back to polling wake-ups and reconnects; the last unwatch and close() stop listening', async () => {
      const watching = await fresh()
      const writer = open(schemaOf(watching))
      const pool = stores.pool()
      const schema = schemaOf(watching)
      try {
        let woken = 0
        const unwatchA = watching.subscriptions.watch(() => void (woken += 1))
        const unwatchB = watching.subscriptions.watch(() => undefined)
        await eventually('one LISTEN connection for both watchers', async () => (await listeners(pool, schema)).length === 1)
        const [pid] = await listeners(pool, schema)
        // when the server ends it
        await pool.query('SELECT pg_terminate_backend($1)', [pid])
        const lostAt = performance.now()
        const before = woken
        // then the watchers keep being woken (they poll) and it listens again on a new connection
        await eventually('woken while reconnecting or on reconnecting', () => woken > before, 5_000)
        await eventually('listening again', async () => {
          const now = await listeners(pool, schema)
          return now.length === 1 && now[0] !== pid
        }, 10_000)
        figures.push(`postgres: LISTEN connection terminated to listening again: ${(performance.now() - lostAt).toFixed(0)} ms`)
        await sleep(50)
        const again = woken
        right(await writer.commit(attempt({ ...freshIds(), commitSequence: 1 })))
        await eventually('a notification woke it on the new connection', () => woken > again, 5_000)
        // the last watcher to leave closes the connection
        unwatchA()
        expect(await listeners(pool, schema)).toHaveLength(1)
        unwatchB()
        await eventually('nobody listens', async () => (await listeners(pool, schema)).length === 0)
        // close() ends a connection that is listening
        watching.subscriptions.watch(() => undefined)
        await eventually('listening once more', async () => (await listeners(pool, schema)).length === 1)
        await writer.close()
        await watching.close()
        await eventually('close() stopped listening', async () => (await listeners(pool, schema)).length === 0)
      } finally {
        await writer.close()
        await open(schema).drop()
      }
    })

    it("with a caller's pool, LISTEN holds one client of that pool while somebody watches, and discards it after", async () => {
      const pool = new pg.Pool({ connectionString: pgUrl, max: 3 })
      pool.on('error', () => undefined)
      const schema = `${stores.run}_${++count}`
      const store = postgresStore({ pool, schema, readWaitMs: 10_000 })
      right(await store.initialize())
      const writer = open(schema)
      try {
        let woken = 0
        const unwatch = store.subscriptions.watch(() => void (woken += 1))
        await eventually('listening on a client of the pool', async () => (await listeners(stores.pool(), schema)).length === 1)
        expect(pool.totalCount - pool.idleCount).toBe(1)
        await eventually('the first wake-up', () => woken > 0)
        const before = woken
        right(await writer.commit(attempt({ ...freshIds(), commitSequence: 1 })))
        await eventually('woken by the other writer', () => woken > before, 5_000)
        unwatch()
        await eventually('the client left the pool', async () => (await listeners(stores.pool(), schema)).length === 0)
        expect(pool.totalCount - pool.idleCount).toBe(0)
      } finally {
        await writer.close()
        await store.drop()
        await store.close()
        await pool.end()
      }
    })
  })

  describe('postgres: fencing under row locks, the server clock', () => {
    it('a fenced write racing a takeover in flight waits for it and is refused: saveCheckpoint, park and unpark', async () => {
      const store = await fresh()
      const schema = schemaOf(store)
      const ss = store.subscriptions
      const raw = new pg.Client({ connectionString: pgUrl })
      await raw.connect()
      try {
        for (const write of ['saveCheckpoint', 'park', 'unpark'] as const) {
          const name = uid('sub')
          const a = some(right(await ss.acquire(name, 'a', 60_000)))
          right(await ss.park(a, { name, checkpointToken: 7, tenantId: 't', streamId: 's', error: 'x', parkedAt: new Date() }))
          right(await ss.saveCheckpoint(a, { positions: { '0': 5 } }))
          // given a takeover that has changed the lease row but not yet committed
          await raw.query('BEGIN')
          await raw.query(`UPDATE "${schema}".subscriptions SET holder = 'b', epoch = epoch + 1 WHERE name = $1`, [name])
          // when the former holder writes, it waits for the row
          const writing =
            write === 'saveCheckpoint'
              ? ss.saveCheckpoint(a, { positions: { '0': 99 } })
              : write === 'park'
                ? ss.park(a, { name, checkpointToken: 8, tenantId: 't', streamId: 's', error: 'y', parkedAt: new Date() })
                : ss.unpark(a, 7)
          let settled = false
          void writing.then(() => (settled = true))
          await sleep(200)
          expect(settled, write).toBe(false)
          await raw.query('COMMIT')
          // then it finds the new epoch and writes nothing
          expect(await writing, write).toEqual(E.left({ _tag: 'LeaseLost', name, epoch: a.epoch }))
          expect(some(right(await ss.checkpoint(name)))).toEqual({ positions: { '0': 5 } })
          expect(right(await ss.parked(name)).map((p) => p.checkpointToken)).toEqual([7])
        }
      } finally {
        await raw.end()
        await store.drop()
        await store.close()
      }
    })

    it('a takeover waits for a fenced write in flight (FOR SHARE), so the write is ordered before it', async () => {
      const store = await fresh()
      const schema = schemaOf(store)
      const ss = store.subscriptions
      const raw = new pg.Client({ connectionString: pgUrl })
      await raw.connect()
      try {
        const name = uid('sub')
        const a = some(right(await ss.acquire(name, 'a', 60_000)))
        right(await ss.release(a))
        // given a transaction that holds the lease row as park and unpark do (FOR SHARE)
        await raw.query('BEGIN')
        await raw.query(`SELECT 1 FROM "${schema}".subscriptions WHERE name = $1 FOR SHARE`, [name])
        // when another holder takes the free lease, the take waits for it
        const taking = ss.acquire(name, 'b', 60_000)
        let settled = false
        void taking.then(() => (settled = true))
        await sleep(200)
        expect(settled).toBe(false)
        await raw.query('COMMIT')
        expect(some(right(await taking)).epoch).toBe(a.epoch + 1)
      } finally {
        await raw.end()
        await store.drop()
        await store.close()
      }
    })

    it("leases are dated by the server's clock: expiresAt is the server's clock_timestamp() plus the ttl", async () => {
      const store = await fresh()
      const pool = stores.pool()
      try {
        const serverNow = async () => Number((await pool.query('SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms')).rows[0]?.ms)
        const name = uid('sub')
        const before = await serverNow()
        const l = some(right(await store.subscriptions.acquire(name, 'a', 30_000)))
        const after = await serverNow()
        expect(l.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 30_000)
        expect(l.expiresAt.getTime()).toBeLessThanOrEqual(after + 30_000)
        // and a released lease expires now, by the same clock
        right(await store.subscriptions.release(l))
        const released = some(right(await store.subscriptions.lease(name)))
        expect(released.expiresAt.getTime()).toBeLessThanOrEqual(await serverNow())
      } finally {
        await store.drop()
        await store.close()
      }
    })
  })

  describe('postgres: horizonHolder', () => {
    it('names the session whose open transaction holds global reads back: pid, application name, transaction start', async () => {
      const store = await fresh({ readWaitMs: 0 })
      const applicationName = uid('aett-horizon')
      const holder = new pg.Client({ connectionString: pgUrl, application_name: applicationName })
      await holder.connect()
      try {
        const { rows } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
        const pid = rows[0]?.pid
        await holder.query('BEGIN')
        await holder.query('SELECT pg_current_xact_id()')
        const began = Date.now()
        // a commit after it is held back, and the store says by whom (other test files may hold older ones briefly)
        const c = right(await store.commit(attempt({ ...freshIds(), commitSequence: 1 })))
        expect(await collect(store.getFrom(0))).toEqual([])
        let found: O.Option<unknown> = O.none
        await eventually('the holder is named', async () => {
          const h = right(await store.horizonHolder())
          found = h
          return O.isSome(h) && h.value.pid === pid
        })
        expect(some(found as O.Option<Record<string, unknown>>)).toMatchObject({ pid, applicationName, state: 'idle in transaction', prepared: undefined })
        const xactStart = (some(found as O.Option<{ xactStart: Date }>)).xactStart.getTime()
        expect(Math.abs(xactStart - began)).toBeLessThan(5_000)
        // once it ends, nobody is named for it and the commit is read
        await holder.query('COMMIT')
        await eventually('the holder is gone', async () => {
          const h = right(await store.horizonHolder())
          return O.isNone(h) || h.value.pid !== pid
        })
        expect((await collect(store.getFrom(0))).map((x) => x.checkpointToken)).toEqual([c.checkpointToken])
      } finally {
        await holder.end()
        await store.drop()
        await store.close()
      }
    })

    it('a session that only holds a snapshot (no transaction id) does not hold the horizon back', async () => {
      const store = await fresh({ readWaitMs: 0 })
      const reader = new pg.Client({ connectionString: pgUrl })
      await reader.connect()
      try {
        const pid = (await reader.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid
        await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ')
        await reader.query('SELECT 1')
        const h = right(await store.horizonHolder())
        expect(O.isSome(h) && h.value.pid === pid).toBe(false)
        const c = right(await store.commit(attempt({ ...freshIds(), commitSequence: 1 })))
        await eventually('the commit is read despite the snapshot', async () => (await collect(store.getFrom(0))).length === 1)
        expect((await collect(store.getFrom(0)))[0]?.checkpointToken).toBe(c.checkpointToken)
        await reader.query('COMMIT')
      } finally {
        await reader.end()
        await store.drop()
        await store.close()
      }
    })

    it('answers the configuration error and the closed state like every call', async () => {
      const bad = postgresStore({ pool: stores.pool(), schema: 'no-such"schema' })
      expect(E.isLeft(await bad.horizonHolder())).toBe(true)
      const store = await fresh()
      await store.drop()
      await store.close()
      expect(E.isLeft(await store.horizonHolder())).toBe(true)
      expect(E.isLeft(await store.subscriptions.acquire('x', 'a', 1000))).toBe(true)
    })
  })

  describe('postgres: schema version 2', () => {
    it(`a database written by 0.1 (schema version 1) migrates to version ${latestVersion()}: its log is kept, subscriptions work`, async () => {
      const schema = `${stores.run}_v01`
      const pool = stores.pool()
      // given the schema exactly as aett 0.1 created it, with a commit and a snapshot in it
      await pool.query(`CREATE SCHEMA "${schema}"`)
      await pool.query(`CREATE TABLE "${schema}".schema_version (
        version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
      await pool.query(`CREATE TABLE "${schema}"."commits" (
        checkpoint_token bigint NOT NULL, tenant_id text NOT NULL, stream_id text NOT NULL, stream_revision bigint NOT NULL,
        event_count integer NOT NULL, commit_id text NOT NULL, commit_sequence bigint NOT NULL, commit_stamp timestamptz NOT NULL,
        headers json NOT NULL, events json NOT NULL,
        CONSTRAINT "commits_token_pk" PRIMARY KEY (checkpoint_token),
        CONSTRAINT "commits_sequence_uq" UNIQUE (tenant_id, stream_id, commit_sequence),
        CONSTRAINT "commits_commit_id_uq" UNIQUE (tenant_id, stream_id, commit_id),
        CHECK (event_count > 0 AND commit_sequence > 0 AND stream_revision >= event_count))`)
      await pool.query(`CREATE INDEX "commits_tenant_token_ix" ON "${schema}"."commits" (tenant_id, checkpoint_token)`)
      await pool.query(`CREATE TABLE "${schema}"."snapshots" (
        tenant_id text NOT NULL, stream_id text NOT NULL, stream_revision bigint NOT NULL, commit_sequence bigint NOT NULL,
        payload json NOT NULL, headers json NOT NULL, PRIMARY KEY (tenant_id, stream_id, stream_revision))`)
      await pool.query(`INSERT INTO "${schema}".schema_version (version, description) VALUES (1, 'commits and snapshots')`)
      await pool.query(
        `INSERT INTO "${schema}".commits (checkpoint_token, tenant_id, stream_id, stream_revision, event_count, commit_id,
           commit_sequence, commit_stamp, headers, events)
         VALUES (pg_current_xact_id()::text::bigint, 'old', 's', 1, 1, 'c-0.1', 1, timestamptz 'epoch' + interval '1 second', '{}',
           '[{"body":{"type":"Old"},"headers":{}}]')`,
      )
      await pool.query(`INSERT INTO "${schema}".snapshots VALUES ('old', 's', 1, 1, '{"n":1}', '{}')`)
      const store = open(schema)
      try {
        // when this release initialises it
        right(await store.initialize())
        // then every later step ran once, and nothing written by 0.1 changed
        const { rows } = await pool.query(`SELECT version FROM "${schema}".schema_version ORDER BY version`)
        expect(rows.map((r) => r.version)).toEqual(Array.from({ length: latestVersion() }, (_, i) => i + 1))
        const old = await collect(store.get('old', 's'))
        expect(old.map((c) => c.commitId)).toEqual(['c-0.1'])
        expect(old[0]?.commitStamp.getTime()).toBe(1000)
        expect(O.isSome(right(await store.getSnapshot('old', 's')))).toBe(true)
        // and the log goes on, with subscriptions on it
        const next1 = right(await store.commit(next(old[0], { tenantId: 'old', streamId: 's' })))
        expect(next1.checkpointToken).toBeGreaterThan(old[0]?.checkpointToken ?? Infinity)
        const l = some(right(await store.subscriptions.acquire('after-0.1', 'h', 10_000)))
        right(await store.subscriptions.saveCheckpoint(l, { positions: { '0': next1.checkpointToken } }))
        expect(some(right(await store.subscriptions.checkpoint('after-0.1')))).toEqual({ positions: { '0': next1.checkpointToken } })
        // initialising again changes nothing
        right(await store.initialize())
        // and drop() removes the tables of every version, so the schema goes too
        right(await store.drop())
        const left = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])
        expect(left.rows).toEqual([])
      } finally {
        await store.close()
      }
    })
  })
})
