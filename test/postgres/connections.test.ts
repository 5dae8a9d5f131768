import { randomUUID } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { toArray, type CommitAttempt, type Persistence } from '../../src/eventstore/index.js'
import { postgresStore } from '../../src/postgres/index.js'
import { attempt, left, next, right } from 'aett/testing/contract'
import { pgUrl, uniqueName } from '../support/services.js'
import { cleanUpAfterAll, pgAvailable, pgStores, testPool } from './support.js'
import { tcpProxy } from './tcpProxy.js'

const available = await pgAvailable()
const stores = pgStores('aett_conn')
const target = new URL(pgUrl)

const ids = () => ({ tenantId: `t-${randomUUID()}`, streamId: `s-${randomUUID()}` })

/**
 * Every client of the pool is back and idle, and nobody waits for one. A commit is followed by the store's
 * coalesced NOTIFY (`notify: true`, sent on the pool right after the commit returns), so the pool is given a
 * moment to settle first; a leaked client never comes back, and still fails this.
 */
const expectNoLeak = async (pool: pg.Pool): Promise<void> => {
  const until = Date.now() + 1_000
  while ((pool.idleCount !== pool.totalCount || pool.waitingCount !== 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 5))
  expect({ idle: pool.idleCount, waiting: pool.waitingCount }).toEqual({ idle: pool.totalCount, waiting: 0 })
}

describe.skipIf(!available)('postgres connections', () => {
  cleanUpAfterAll(stores)

  describe('with a pool of one connection, no error path keeps the connection', () => {
    // A leaked client would make the next checkout wait; the timeout turns that into a failure instead of a hang.
    const pool = testPool({ max: 1, connectionTimeoutMillis: 2000 })
    afterAll(() => pool.end())
    const schema = `${stores.run}_one`
    const store = postgresStore({ pool, schema, pageSize: 2 })
    afterAll(async () => {
      await store.drop()
    })

    const works = async (s: Persistence = store): Promise<void> => {
      right(await s.commit(attempt({ ...ids(), commitSequence: 1 })))
      await expectNoLeak(pool)
    }

    it('initialises, appends and reads', async () => {
      right(await store.initialize())
      right(await store.initialize())
      await works()
    })

    it('after a duplicate, a conflict, a gap and an invalid attempt', async () => {
      const s = ids()
      const c1 = right(await store.commit(attempt({ ...s, commitSequence: 1 })))
      left(await store.commit(attempt({ ...s, commitSequence: 1, commitId: c1.commitId })), 'DuplicateCommit')
      left(await store.commit(attempt({ ...s, commitSequence: 1 })), 'ConcurrencyConflict')
      left(await store.commit(attempt({ ...s, commitSequence: 3, firstRevision: 3 })), 'InvalidAttempt')
      left(await store.commit({ ...attempt({ ...s, commitSequence: 2 }), events: [] } as CommitAttempt), 'InvalidAttempt')
      // a driver error: a stamp before 4713 BC, which PostgreSQL timestamps cannot hold
      left(await store.commit(next(c1, s, { commitStamp: new Date(-8.64e15) })), 'StorageError')
      await works()
    })

    it('after a read that fails, and a read abandoned half way', async () => {
      // a store on a schema that does not exist: every read fails in the database
      const missing = postgresStore({ pool, schema: `${stores.run}_missing`, pageSize: 2 })
      const failed = await toArray(missing.getFrom(0))
      expect(E.isLeft(failed) && failed.left._tag === 'StorageError' && (failed.left.cause as { code?: string }).code).toBe('42P01')
      left(await missing.commit(attempt({ ...ids(), commitSequence: 1 })), 'StorageError')
      left(await missing.drop().then(() => missing.purge()), 'StorageError')
      await works()
      // a reader that stops after the first commit of a multi-page read
      const s = ids()
      let head
      for (let i = 0; i < 5; i++) head = right(await store.commit(next(head, s)))
      for await (const c of store.get(s.tenantId, s.streamId)) {
        right(c)
        break
      }
      await works()
    })

    it('after a bad schema name and a failing migration', async () => {
      left(await postgresStore({ pool, schema: 'no such"schema' }).initialize(), 'StorageError')
      const clash = `${stores.run}_clash`
      await pool.query(`CREATE SCHEMA "${clash}"`)
      await pool.query(`CREATE VIEW "${clash}".snapshots AS SELECT 1 AS x`)
      left(await postgresStore({ pool, schema: clash }).initialize(), 'StorageError')
      await works()
    })
  })

  describe('a database that goes away', () => {
    it('a connection killed mid-append is a StorageError, and the store works again afterwards', async () => {
      // given a store whose connections carry a name we can find
      const application = uniqueName('aett_kill')
      const pool = testPool({ max: 2, application_name: application })
      const store = postgresStore({ pool, schema: `${stores.run}_kill` })
      const admin = new pg.Client({ connectionString: pgUrl })
      await admin.connect()
      try {
        right(await store.initialize())
        // and an append that is stuck behind a lock held by someone else
        await admin.query('BEGIN')
        await admin.query(`LOCK TABLE "${stores.run}_kill".commits IN EXCLUSIVE MODE`)
        const stuck = store.commit(attempt({ ...ids(), commitSequence: 1 }))
        await waitFor(async () => {
          const { rows } = await stores.pool().query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
            [application],
          )
          return rows[0]?.n === 1
        })
        // when the server terminates the store's connections
        await stores.pool().query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [application])
        // then the append is a StorageError carrying the server's code, not a throw
        const failure = left(await stuck, 'StorageError')
        expect(failure.cause).toBeInstanceOf(Error)
        await admin.query('ROLLBACK')
        // and the store works again with new connections
        right(await store.commit(attempt({ ...ids(), commitSequence: 1 })))
        expect((await toArray(store.getFrom(0)))._tag).toBe('Right')
        await expectNoLeak(pool)
        right(await store.drop())
      } finally {
        await admin.end()
        await pool.end()
      }
    })

    it('a server that disappears and comes back: StorageErrors while it is gone, success after', async () => {
      // given a store that reaches PostgreSQL through a proxy
      const proxy = await tcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
      const url = new URL(pgUrl)
      url.port = String(proxy.port)
      const store = postgresStore({ connectionString: url.toString(), schema: `${stores.run}_proxy`, poolSize: 2 })
      try {
        right(await store.initialize())
        const s = ids()
        const c1 = right(await store.commit(attempt({ ...s, commitSequence: 1 })))
        // when the server goes away
        await proxy.stop()
        // then every kind of call fails as a value
        left(await store.commit(next(c1, s)), 'StorageError')
        expect((await toArray(store.get(s.tenantId, s.streamId)))._tag).toBe('Left')
        expect((await toArray(store.getFrom(0)))._tag).toBe('Left')
        left(await store.getSnapshot(s.tenantId, s.streamId), 'StorageError')
        left(await store.initialize(), 'StorageError')
        // and when it comes back, the store carries on where it was
        await proxy.start()
        right(await store.commit(next(c1, s)))
        expect((await toArray(store.get(s.tenantId, s.streamId))).valueOf()).toMatchObject({ _tag: 'Right' })
        right(await store.drop())
      } finally {
        await store.close()
        await proxy.stop()
      }
    })

    it('a pool pointed at a port where nothing listens yields StorageErrors, and close() still works', async () => {
      const proxy = await tcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
      await proxy.stop()
      const url = new URL(pgUrl)
      url.port = String(proxy.port)
      const store = postgresStore({ connectionString: url.toString(), schema: `${stores.run}_nowhere` })
      const failure = left(await store.initialize(), 'StorageError')
      expect((failure.cause as { code?: string }).code).toBe('ECONNREFUSED')
      left(await store.commit(attempt({ ...ids(), commitSequence: 1 })), 'StorageError')
      expect((await toArray(store.getFrom(0)))._tag).toBe('Left')
      await store.close()
    })
  })
})

const waitFor = async (condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}
