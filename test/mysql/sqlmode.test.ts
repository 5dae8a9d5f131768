import * as E from 'fp-ts/lib/Either.js'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { storeContract, subscriptionContract, type StoreHarness, type SubscriptionHarness } from 'aett/testing/contract'
import { toArray, type CommitAttempt, type Persistence, type Subscribable } from '../../src/eventstore/index.js'
import { mysqlStore } from '../../src/mysql/index.js'
import { mysqlUrl } from '../support/services.js'
import { freshPrefix, mysqlAvailable, rightOf, testPool } from './support.js'

// Issue 10 item 1: the store must mean the same whatever the session's sql_mode. Values travel apart from the
// SQL text (prepared statements), so NO_BACKSLASH_ESCAPES can neither corrupt a commit nor open an injection,
// ANSI_QUOTES cannot turn a string into a name, and PAD_CHAR_TO_FULL_LENGTH cannot change a key read back.

const available = await mysqlAvailable()

/** Sessions whose SET sql_mode failed (checked after each store), so that no suite can pass without its modes. */
const modeFailures: unknown[] = []

/** A pool whose every connection runs with `modes` added to the server's sql_mode, before its first statement. */
const poolWithModes = (modes: readonly string[], connectionLimit = 4): mysql.Pool => {
  const pool = mysql.createPool({ uri: mysqlUrl, connectionLimit })
  // The 'connection' listener receives mysql2's callback connection; the SET is queued before any other command.
  pool.on('connection', (connection) => {
    const core = connection as unknown as { query: (sql: string, cb: (err: unknown) => void) => void }
    core.query(`SET SESSION sql_mode = CONCAT(@@sql_mode, ',${modes.join(',')}')`, (err) => {
      if (err) modeFailures.push(err)
    })
  })
  return pool
}

/** Fails loudly when a pool's sessions do not run with the modes (so the suite cannot pass vacuously). */
const expectModes = async (pool: mysql.Pool, modes: readonly string[]): Promise<void> => {
  const [rows] = await pool.query('SELECT @@SESSION.sql_mode AS mode')
  const mode = String((rows as { mode: unknown }[])[0]?.mode ?? '')
  for (const m of modes) expect(mode.split(',')).toContain(m)
}

const modeHarness = (label: string, modes: readonly string[]): StoreHarness => {
  const pools = new WeakMap<Persistence, mysql.Pool>()
  const prefixes = new WeakMap<Persistence, string>()
  const open = (tablePrefix: string): Persistence => {
    const pool = poolWithModes(modes)
    const store = mysqlStore({ pool, tablePrefix, pageSize: 5 })
    pools.set(store, pool)
    prefixes.set(store, tablePrefix)
    return store
  }
  return {
    name: `mysql (${label})`,
    create: async () => {
      const store = open(freshPrefix())
      await expectModes(pools.get(store) as mysql.Pool, modes)
      const init = await store.initialize()
      if (E.isLeft(init)) throw new Error(init.left.message, { cause: init.left.cause })
      return store
    },
    // The closed store is not disposed of when a reopened one is: its pool (ours, not the store's) ends here.
    reopen: async (closed) => {
      await pools.get(closed)?.end()
      return open(prefixes.get(closed) ?? freshPrefix())
    },
    dispose: async (store) => {
      const dropped = await store.drop()
      await store.close()
      await pools.get(store)?.end()
      if (E.isLeft(dropped)) throw new Error(dropped.left.message)
      expect(modeFailures).toEqual([])
    },
  }
}

/**
 * The subscription contract's harness on pools with `modes`: each store owns one pool of ours, and a second store
 * on the same tables (`reopen`, as another process) gets a pool of its own; dispose ends them all.
 */
const modeSubscriptionHarness = (label: string, modes: readonly string[]): SubscriptionHarness => {
  type Store = Persistence & Subscribable
  const pools = new WeakMap<Store, mysql.Pool[]>()
  const prefixes = new WeakMap<Store, string>()
  const open = async (tablePrefix: string, owner?: Store): Promise<Store> => {
    const pool = poolWithModes(modes)
    await expectModes(pool, modes)
    const store = mysqlStore({ pool, tablePrefix, pageSize: 50 })
    const root = owner ?? store
    pools.set(root, [...(pools.get(root) ?? []), pool])
    prefixes.set(store, tablePrefix)
    return store
  }
  return {
    name: `mysql (${label})`,
    create: async () => {
      const store = await open(freshPrefix())
      const init = await store.initialize()
      if (E.isLeft(init)) throw new Error(init.left.message, { cause: init.left.cause })
      return store
    },
    reopen: async (store) => open(prefixes.get(store) ?? freshPrefix(), store),
    dispose: async (store) => {
      const dropped = await store.drop()
      await store.close()
      for (const pool of pools.get(store) ?? []) await pool.end()
      if (E.isLeft(dropped)) throw new Error(dropped.left.message)
      expect(modeFailures).toEqual([])
    },
  }
}

const noBackslashEscapes = ['NO_BACKSLASH_ESCAPES']
// ONLY_FULL_GROUP_BY is in MySQL 8's default sql_mode (not MariaDB's), so the combination checks it too.
const allModes = ['NO_BACKSLASH_ESCAPES', 'ANSI_QUOTES', 'PAD_CHAR_TO_FULL_LENGTH', 'ONLY_FULL_GROUP_BY']

const attempt = (over: Partial<CommitAttempt>): CommitAttempt => ({
  tenantId: 'tenant',
  streamId: 'stream',
  streamRevision: 1,
  commitId: `commit-${Math.random().toString(36).slice(2)}`,
  commitSequence: 1,
  commitStamp: new Date('2026-01-02T03:04:05.678Z'),
  headers: {},
  events: [{ body: { type: 'Happened' }, headers: {} }],
  ...over,
})

describe.skipIf(!available)('mysql under sql_mode NO_BACKSLASH_ESCAPES', () => {
  storeContract(modeHarness('NO_BACKSLASH_ESCAPES', noBackslashEscapes))
})

describe.skipIf(!available)('mysql under sql_mode NO_BACKSLASH_ESCAPES, ANSI_QUOTES, PAD_CHAR_TO_FULL_LENGTH, ONLY_FULL_GROUP_BY', () => {
  storeContract(modeHarness('all modes', allModes))
  // The subscription store too: leases, fenced writes, parking, and the runtime on top of them.
  subscriptionContract(modeSubscriptionHarness('all modes', allModes))
})

for (const modes of [noBackslashEscapes, ['ANSI_QUOTES'], ['PAD_CHAR_TO_FULL_LENGTH'], allModes]) {
  describe.skipIf(!available)(`mysql values under sql_mode ${modes.join(',')}`, () => {
    const prefix = freshPrefix()
    let pool: mysql.Pool
    let plain: mysql.Pool
    let store: Persistence

    beforeAll(async () => {
      pool = poolWithModes(modes)
      plain = testPool({ connectionLimit: 1 })
      await expectModes(pool, modes)
      store = mysqlStore({ pool, tablePrefix: prefix, pageSize: 2 })
      rightOf(await store.initialize())
    })

    afterAll(async () => {
      await store?.drop()
      await store?.close()
      await pool?.end()
      await plain?.end()
      expect(modeFailures).toEqual([])
    })

    it('issue 10 item 1: a tenant id that would break out of an escaped string is stored verbatim, and reads nobody else', async () => {
      // given a commit in tenant 'victim'
      const secret = [{ body: { type: 'CardAdded', number: '4111 1111 1111 1111' }, headers: {} }]
      rightOf(await store.commit(attempt({ tenantId: 'victim', streamId: 'wallet', events: secret })))
      // when a commit arrives whose tenant id is SQL that, spliced into the CALL under NO_BACKSLASH_ESCAPES,
      // would store the victim's events as its headers
      const tenantId =
        "' , 0x6576696c, 0x6576696c, 1, 1, 1, 0, " +
        `(SELECT events FROM \`${prefix}_commits\` WHERE tenant_id = 0x76696374696d LIMIT 1), 0x5b5d) -- `
      const evil = attempt({ tenantId, streamId: 'stream', headers: { note: "it's \\ \"quoted\"" } })
      const stored = rightOf(await store.commit(evil))
      // then it is stored verbatim under that tenant id and reads back equal
      expect(rightOf(await toArray(store.get(tenantId, 'stream')))).toEqual([stored])
      expect(stored).toEqual({ ...evil, checkpointToken: stored.checkpointToken })
      expect(rightOf(await toArray(store.listTenants())).sort()).toEqual([tenantId, 'victim'].sort())
      // and no row holds the victim's events anywhere but in the victim's own commit
      const [rows] = await plain.query(`SELECT tenant_id, stream_id, headers, events FROM \`${prefix}_commits\` ORDER BY checkpoint_token`)
      const found = rows as { tenant_id: string; stream_id: string; headers: string; events: string }[]
      expect(found.map((r) => [r.tenant_id, r.stream_id])).toEqual([
        ['victim', 'wallet'],
        [tenantId, 'stream'],
      ])
      expect(found.filter((r) => r.headers.includes('4111') || r.events.includes('4111')).map((r) => r.tenant_id)).toEqual(['victim'])
    })

    it('keeps quotes, backslashes and trailing blanks in bodies, headers, snapshots and ids, on every path', async () => {
      // given values that an escaping or padding mode would change
      const tricky = `a'b"c\\d\\'e\`f \\n\u00e9 `
      const tenantId = `t ${tricky}`
      const streamId = `s ${tricky}`
      const body = { type: 'Tricky', text: tricky, nested: { [tricky]: [tricky, 1, null] } }
      const first = rightOf(await store.commit(attempt({ tenantId, streamId, commitId: tricky, headers: { h: tricky }, events: [{ body, headers: { e: tricky } }] })))
      for (let i = 2; i <= 3; i++) rightOf(await store.commit(attempt({ tenantId, streamId, commitSequence: i, streamRevision: i })))
      rightOf(await store.addSnapshot({ tenantId, streamId, streamRevision: 1, commitSequence: 1, payload: { tricky }, headers: { tricky } }))
      // then every read gives them back exactly
      const commits = rightOf(await toArray(store.get(tenantId, streamId)))
      expect(commits[0]).toEqual(first)
      expect(commits.map((c) => c.commitSequence)).toEqual([1, 2, 3])
      expect(rightOf(await toArray(store.getFrom(first.checkpointToken - 1, tenantId)))).toHaveLength(3)
      expect(rightOf(await toArray(store.getAllTo(tenantId, new Date('2030-01-01'))))).toHaveLength(3)
      const snapshot = rightOf(await store.getSnapshot(tenantId, streamId))
      expect(snapshot).toEqual({ _tag: 'Some', value: { tenantId, streamId, streamRevision: 1, commitSequence: 1, payload: { tricky }, headers: { tricky } } })
      expect(rightOf(await toArray(store.streamsToSnapshot(tenantId, 1)))).toEqual([{ tenantId, streamId, headRevision: 3, snapshotRevision: 1 }])
      const listed = rightOf(await toArray(store.listStreams(tenantId)))
      expect(listed.map((s) => [s.streamId, s.headSequence, s.headRevision])).toEqual([[streamId, 3, 3]])
      // a duplicate is still recognised by its (tricky) commit id, and a conflict carries the missed commits
      const dup = await store.commit(attempt({ tenantId, streamId, commitId: tricky, commitSequence: 4, streamRevision: 4 }))
      expect(E.isLeft(dup) && dup.left._tag).toBe('DuplicateCommit')
      const stale = await store.commit(attempt({ tenantId, streamId, commitSequence: 3, streamRevision: 3 }))
      expect(E.isLeft(stale) && stale.left._tag === 'ConcurrencyConflict' && stale.left.missed.map((c) => c.commitSequence)).toEqual([3])
      // and deleting the stream removes exactly it
      rightOf(await store.deleteStream(tenantId, streamId))
      expect(rightOf(await toArray(store.get(tenantId, streamId)))).toEqual([])
    })
  })
}
