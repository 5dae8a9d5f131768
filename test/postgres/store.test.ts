import { randomBytes, randomInt, randomUUID } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { toArray, type Commit } from '../../src/eventstore/index.js'
import { ID_LIMITS } from '../../src/eventstore/limits.js'
import { defaultTables } from '../../src/postgres/config.js'
import { postgresStore } from '../../src/postgres/index.js'
import { appendParams } from '../../src/postgres/rows.js'
import { latestVersion, names } from '../../src/postgres/schema.js'
import { statements } from '../../src/postgres/statements.js'
import { attempt, collect, expectCommits, left, next, right } from 'aett/testing/contract'
import { pgUrl } from '../support/services.js'
import { cleanUpAfterAll, pgAvailable, pgStores } from './support.js'

const available = await pgAvailable()
const stores = pgStores('aett_store')

const ids = () => ({ tenantId: `t-${randomUUID()}`, streamId: `s-${randomUUID()}` })

/** An initialised store with a schema of its own. */
const fresh = async (options: Parameters<typeof stores.create>[0] = {}) => {
  const store = stores.create(options)
  right(await store.initialize())
  return store
}

/** A raw client appending through the store's own statement inside a transaction it keeps open. */
const openWriter = async (schema: string) => {
  const client = new pg.Client({ connectionString: pgUrl })
  await client.connect()
  const sql = statements(names({ schema, tables: defaultTables }))
  await client.query('BEGIN')
  return {
    client,
    append: async (a: Parameters<typeof appendParams>[0]) =>
      Number((await client.query({ text: sql.append.text, values: appendParams(a) })).rows[0]?.['checkpoint_token']),
    end: async (how: 'COMMIT' | 'ROLLBACK') => {
      await client.query(how)
      await client.end()
    },
  }
}

const schemaOf = stores.schemaOf

describe.skipIf(!available)('postgres store', () => {
  cleanUpAfterAll(stores)

  describe('options', () => {
    it('an invalid schema name is a StorageError from every method, and nothing reaches the database', async () => {
      // given a pool that fails the test if it is ever used
      const pool = {
        query: () => expect.fail('the pool must not be used'),
        connect: () => expect.fail('the pool must not be used'),
      }
      // when the schema name could break out of its quotes
      const store = postgresStore({ pool, schema: 'x"; DROP TABLE y; --' })
      // then every method answers with the configuration error
      expect(left(await store.initialize(), 'StorageError').operation).toBe('configure')
      expect(left(await store.commit(attempt({ ...ids(), commitSequence: 1 })), 'StorageError').operation).toBe('configure')
      const read = await toArray(store.getFrom(0))
      expect(E.isLeft(read) && read.left.operation).toBe('configure')
      await store.close()
    })

    it.each([
      [{ tables: { commits: 'same', snapshots: 'same' } }],
      [{ tables: { commits: 'a-b' } }],
      [{ pageSize: 0 }],
      [{ readWaitMs: -1 }],
      [{ schema: 'x'.repeat(64) }],
    ])('rejects invalid options %j', async (options) => {
      const store = postgresStore({ connectionString: pgUrl, ...options })
      left(await store.initialize(), 'StorageError')
      await store.close()
    })

    it('postgresStore(undefined) and postgresStore(null) do not throw: every call answers the configuration error', async () => {
      for (const options of [undefined, null]) {
        const store = postgresStore(options as never)
        expect(left(await store.initialize(), 'StorageError').operation).toBe('configure')
        expect(left(await store.commit(attempt({ ...ids(), commitSequence: 1 })), 'StorageError').operation).toBe('configure')
        await store.close()
      }
    })

    it('close() never ends a pool the caller passed in, and the closed store refuses every call', async () => {
      // given a store over a pool of the test's own, used once
      const pool = new pg.Pool({ connectionString: pgUrl, max: 1 })
      try {
        const store = postgresStore({ pool, schema: `${stores.run}_lent` })
        right(await store.initialize())
        right(await store.drop())
        // when it is closed
        await store.close()
        // then it refuses, and the pool still works
        left(await store.commit(attempt({ ...ids(), commitSequence: 1 })), 'StorageError')
        expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
      } finally {
        await pool.end()
      }
    })

    it('a store made from a connection string owns its pool: close() ends it, and is idempotent', async () => {
      // given a store that creates its own pool
      const schema = `${stores.run}_own`
      const store = postgresStore({ connectionString: pgUrl, schema, poolSize: 2 })
      right(await store.initialize())
      const c = right(await store.commit(attempt({ ...ids(), commitSequence: 1 })))
      expect(c.checkpointToken).toBeGreaterThan(0)
      right(await store.drop())
      // when it is closed twice
      await store.close()
      await store.close()
      // then it answers with a StorageError instead of reopening
      left(await store.initialize(), 'StorageError')
    })
  })

  describe('schema and migrations', () => {
    it('records its version, and concurrent initialisations of one schema all succeed', async () => {
      // given ten stores on one new schema, each with its own pool, as if in ten processes
      const schema = `${stores.run}_race`
      const many = Array.from({ length: 10 }, () => postgresStore({ connectionString: pgUrl, schema, poolSize: 1 }))
      try {
        // when they all initialise at once
        const results = await Promise.all(many.map((s) => s.initialize()))
        // then every one succeeds and each migration ran once
        for (const r of results) right(r)
        const pool = stores.pool()
        const { rows } = await pool.query(`SELECT version FROM "${schema}".schema_version ORDER BY version`)
        expect(rows.map((r) => r.version)).toEqual(Array.from({ length: latestVersion() }, (_, i) => i + 1))
      } finally {
        for (const s of many) await s.close()
      }
    })

    it('refuses a schema that a newer aett has migrated', async () => {
      const store = await fresh()
      await stores.pool().query(`INSERT INTO "${schemaOf(store)}".schema_version (version, description) VALUES (999, 'future')`)
      expect(left(await store.initialize(), 'StorageError').message).toMatch(/version 999/)
    })

    it('refuses a database whose transaction counter is behind its tokens, as after restoring a dump elsewhere', async () => {
      // given a commit whose token lies beyond the cluster's transaction counter
      const store = await fresh()
      await stores.pool().query(
        `INSERT INTO "${schemaOf(store)}".commits (token, tenant_id, stream_id, stream_revision, event_count,
           commit_id, commit_sequence, commit_stamp, headers, events)
         VALUES (2 ^ 50, 't', 's', 1, 1, 'c', 1, now(), '{}', '[{"body":{"type":"x"},"headers":{}}]')`,
      )
      // when it initialises, then it says why it will not serve that database
      expect(left(await store.initialize(), 'StorageError').message).toMatch(/transaction counter/)
    })

    it('drop() keeps a schema that holds objects the store did not create', async () => {
      const store = await fresh()
      const schema = schemaOf(store)
      await stores.pool().query(`CREATE TABLE "${schema}".mine (x int)`)
      right(await store.drop())
      const { rows } = await stores.pool().query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [schema])
      expect(rows.map((r) => r.table_name)).toEqual(['mine'])
    })

    it('a failing migration leaves nothing behind and is reported', async () => {
      // given a schema where the commits table name is taken by something else
      const store = stores.create()
      const schema = schemaOf(store)
      await stores.pool().query(`CREATE SCHEMA "${schema}"`)
      await stores.pool().query(`CREATE VIEW "${schema}".commits AS SELECT 1 AS x`)
      // when the store initialises, then it fails with the driver's cause, and no version is recorded
      const failure = left(await store.initialize(), 'StorageError')
      expect((failure.cause as { code?: string }).code).toBe('42P07')
      const { rows } = await stores.pool().query(`SELECT to_regclass($1) AS t`, [`"${schema}".schema_version`])
      expect(rows[0]?.t).toBeNull()
    })
  })

  describe('data', () => {
    it('keeps JSON text exactly: key order and escapes inside strings', async () => {
      const store = await fresh()
      const body = { type: 'Odd', z: 1, a: { y: [3, 2, 1], b: '\u0001 \u001f "quoted" \\ and \ud83c\udfe6' }, m: -0.5e-7 }
      const c = right(await store.commit(attempt({ ...ids(), commitSequence: 1, events: [{ body, headers: { 'b.a': 1, 'a.b': 2 } }] })))
      const [read] = await collect(store.get(c.tenantId, c.streamId))
      expect(JSON.stringify(read?.events[0]?.body)).toBe(JSON.stringify(body))
      expect(Object.keys(read?.events[0]?.headers ?? {})).toEqual(['b.a', 'a.b'])
    })

    it('refuses U+0000 inside a string (issue 10: bodies hold exactly what every store keeps), storing nothing', async () => {
      const store = await fresh()
      const a = attempt({ ...ids(), commitSequence: 1, events: [{ body: { type: 'Odd', b: '\u0000 nul' }, headers: {} }] })
      expect(left(await store.commit(a), 'InvalidAttempt').reason).toMatch(/U\+0000/)
      expect(await collect(store.get(a.tenantId, a.streamId))).toEqual([])
    })

    it('keeps stamps to the millisecond, before 1970 and far ahead', async () => {
      const store = await fresh()
      const s = ids()
      const stamps = [new Date(-1234567890123), new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999)), new Date(1)]
      const written: Commit[] = []
      for (const commitStamp of stamps) written.push(right(await store.commit(next(written[written.length - 1], s, { commitStamp }))))
      expect((await collect(store.get(s.tenantId, s.streamId))).map((c) => c.commitStamp.toISOString())).toEqual(
        stamps.map((d) => d.toISOString()),
      )
      expectCommits(await collect(store.getTo(s.tenantId, s.streamId, new Date(1))), [written[0]!, written[2]!])
    })

    it('a time bound before the first stamp PostgreSQL holds finds nothing, and is no error', async () => {
      // given a commit stamped at the first millisecond PostgreSQL timestamps hold (24 November 4714 BC)
      const store = await fresh()
      const s = ids()
      const first = Date.UTC(-4713, 10, 24)
      const c = right(await store.commit(attempt({ ...s, commitSequence: 1, commitStamp: new Date(first) })))
      expect(c.commitStamp.getTime()).toBe(first)
      // when reads are bounded at, just before and far before it
      for (const read of [(d: Date) => store.getTo(s.tenantId, s.streamId, d), (d: Date) => store.getAllTo(s.tenantId, d)]) {
        expectCommits(await collect(read(new Date(first))), [c])
        expect(await collect(read(new Date(first - 1)))).toEqual([])
        expect(await collect(read(new Date(-8.64e15)))).toEqual([])
      }
    })

    it('refuses ids PostgreSQL text cannot hold exactly, rather than aliasing them', async () => {
      const store = await fresh()
      const base = ids()
      for (const streamId of ['nul\u0000inside', 'lone \ud800 surrogate']) {
        left(await store.commit(attempt({ ...base, streamId, commitSequence: 1 })), 'InvalidAttempt')
        expect(await collect(store.get(base.tenantId, streamId))).toEqual([])
      }
      // and a stream named like what a lone surrogate would be mangled into is its own stream
      right(await store.commit(attempt({ ...base, streamId: 'lone \ufffd surrogate', commitSequence: 1 })))
      expect(await collect(store.get(base.tenantId, 'lone \ud800 surrogate'))).toEqual([])
    })

    it('a body that is not JSON is an InvalidAttempt, not a throw, and nothing is stored', async () => {
      const store = await fresh()
      const cyclic: Record<string, unknown> = { type: 'Cyclic' }
      cyclic['self'] = cyclic
      const a = attempt({ ...ids(), commitSequence: 1, events: [{ body: cyclic as never, headers: {} }] })
      left(await store.commit(a), 'InvalidAttempt')
      expect(await collect(store.get(a.tenantId, a.streamId))).toEqual([])
    })
  })

  describe('ids at the byte limits (ID_LIMITS) fit every unique index', () => {
    // Random astral characters (4 UTF-8 bytes each) and random ASCII do not compress, so the b-tree rows of
    // (tenant, stream, commit id) and (tenant, stream, revision) carry the ids at full length.
    const astral = (bytes: number): string =>
      String.fromCodePoint(...Array.from({ length: bytes / 4 }, () => 0x10000 + randomInt(0x100000)))
    const ascii = (bytes: number): string => Array.from(randomBytes(bytes), (b) => String.fromCharCode(1 + (b % 127))).join('')

    it.each([
      ['random astral characters', astral],
      ['random bytes as ASCII text', ascii],
    ])('%s: at the limit they commit, snapshot and read back; one byte over is InvalidAttempt and stores nothing', async (_, text) => {
      const store = await fresh()
      const tenantId = text(ID_LIMITS.tenantId)
      const streamId = text(ID_LIMITS.streamId)
      const commitId = text(ID_LIMITS.commitId)
      const s = { tenantId, streamId }
      for (const [id, limit] of [[tenantId, ID_LIMITS.tenantId], [streamId, ID_LIMITS.streamId], [commitId, ID_LIMITS.commitId]] as const)
        expect(Buffer.byteLength(id, 'utf8')).toBe(limit)

      // at the limit: a commit, a second one, a duplicate found through the commit-id index, and a snapshot
      const c1 = right(await store.commit(attempt({ ...s, commitSequence: 1, commitId })))
      const c2 = right(await store.commit(next(c1, s, { commitId: text(ID_LIMITS.commitId) })))
      left(await store.commit(next(c2, s, { commitId })), 'DuplicateCommit')
      left(await store.commit(attempt({ ...s, commitSequence: 2 })), 'ConcurrencyConflict')
      const snapshot = { ...s, streamRevision: 2, commitSequence: 2, payload: { at: 'limit' }, headers: {} }
      right(await store.addSnapshot(snapshot))
      right(await store.addSnapshot(snapshot))
      expectCommits(await collect(store.get(tenantId, streamId)), [c1, c2])
      expectCommits(await collect(store.getFrom(0, tenantId)), [c1, c2])
      expect(O.toUndefined(right(await store.getSnapshot(tenantId, streamId)))).toEqual(snapshot)
      expect(await collect(store.streamsToSnapshot(tenantId, 0))).toEqual([{ tenantId, streamId, headRevision: 2, snapshotRevision: 2 }])

      // one byte over, on each id in turn: refused before any I/O
      const over = { tenantId: `${tenantId}x`, streamId: `${streamId}x`, commitId: `${commitId}x` }
      left(await store.commit(attempt({ ...s, tenantId: over.tenantId, commitSequence: 1 })), 'InvalidAttempt')
      left(await store.commit(attempt({ ...s, streamId: over.streamId, commitSequence: 1 })), 'InvalidAttempt')
      left(await store.commit(attempt({ tenantId, streamId: 'other', commitSequence: 1, commitId: over.commitId })), 'InvalidAttempt')
      left(await store.addSnapshot({ ...snapshot, tenantId: over.tenantId }), 'InvalidAttempt')
      left(await store.addSnapshot({ ...snapshot, streamId: over.streamId }), 'InvalidAttempt')
      expect(await collect(store.get(over.tenantId, streamId))).toEqual([])
      expect(O.isNone(right(await store.getSnapshot(tenantId, over.streamId)))).toBe(true)

      // and the tables hold exactly what was accepted, ids at full length
      const schema = schemaOf(store)
      const commits = await stores.pool().query(
        `SELECT octet_length(tenant_id) AS t, octet_length(stream_id) AS s, octet_length(commit_id) AS c FROM "${schema}".commits`,
      )
      expect(commits.rows).toEqual([
        { t: ID_LIMITS.tenantId, s: ID_LIMITS.streamId, c: ID_LIMITS.commitId },
        { t: ID_LIMITS.tenantId, s: ID_LIMITS.streamId, c: ID_LIMITS.commitId },
      ])
      const snapshots = await stores.pool().query(`SELECT octet_length(tenant_id) AS t, octet_length(stream_id) AS s FROM "${schema}".snapshots`)
      expect(snapshots.rows).toEqual([{ t: ID_LIMITS.tenantId, s: ID_LIMITS.streamId }])
    })
  })

  describe('gap-free global reads (SEMANTICS 8)', () => {
    it('a commit that finishes before an older transaction is held back until that transaction ends', async () => {
      // given a store that does not wait at the end of a read
      const store = await fresh({ readWaitMs: 0 })
      const schema = schemaOf(store)
      const [a, b] = [ids(), ids()]
      // and a writer whose transaction has taken its id but not yet committed
      const slow = await openWriter(schema)
      try {
        await slow.client.query('SELECT pg_current_xact_id()')
        // when another writer appends and commits afterwards
        const quick = right(await store.commit(attempt({ ...b, commitSequence: 1 })))
        // then a global reader does not see it yet, neither globally nor per tenant
        expect(await collect(store.getFrom(0))).toEqual([])
        expect(await collect(store.getFrom(0, b.tenantId))).toEqual([])
        expect(await collect(store.getAllTo(b.tenantId, new Date(8.64e15)))).toEqual([])
        // but the stream reads it at once
        expect(await collect(store.get(b.tenantId, b.streamId))).toHaveLength(1)
        // when the older writer appends (its token is lower) and commits
        const slowToken = await slow.append(attempt({ ...a, commitSequence: 1 }))
        expect(slowToken).toBeLessThan(quick.checkpointToken)
        await slow.end('COMMIT')
        // then the reader gets both, in token order: it never handed out the higher token first
        const waiting = stores.create({ schema: schemaOf(store) })
        expect((await collect(waiting.getFrom(0))).map((c) => c.checkpointToken)).toEqual([slowToken, quick.checkpointToken])
      } finally {
        await slow.client.end().catch(() => undefined)
      }
    })

    it('a rolled-back transaction leaves no commit and stops holding readers back', async () => {
      const store = await fresh({ readWaitMs: 0 })
      const slow = await openWriter(schemaOf(store))
      const a = ids()
      await slow.append(attempt({ ...a, commitSequence: 1 }))
      const quick = right(await store.commit(attempt({ ...ids(), commitSequence: 1 })))
      expect(await collect(store.getFrom(0))).toEqual([])
      await slow.end('ROLLBACK')
      expectCommits(await collect(stores.create({ schema: schemaOf(store) }).getFrom(0)), [quick])
      // and the stream the rolled-back writer used starts at sequence 1 again
      right(await store.commit(attempt({ ...a, commitSequence: 1 })))
    })

    it('a read that reaches the horizon waits for older transactions, up to readWaitMs', async () => {
      // given a store that waits up to 5 s, and an older transaction in flight
      const store = await fresh({ readWaitMs: 5000 })
      const slow = await openWriter(schemaOf(store))
      try {
        await slow.client.query('SELECT pg_current_xact_id()')
        const quick = right(await store.commit(attempt({ ...ids(), commitSequence: 1 })))
        // when the older transaction commits while the read is waiting
        const reading = collect(store.getFrom(0))
        setTimeout(() => void slow.end('COMMIT'), 150)
        // then the read returns the commit that was held back
        expectCommits(await reading, [quick])
      } finally {
        await slow.client.end().catch(() => undefined)
      }
    })
  })

  describe('snapshots', () => {
    it('a second snapshot at the same revision replaces the first', async () => {
      const store = await fresh()
      const s = ids()
      right(await store.addSnapshot({ ...s, streamRevision: 3, commitSequence: 2, payload: { v: 1 }, headers: {} }))
      right(await store.addSnapshot({ ...s, streamRevision: 3, commitSequence: 2, payload: { v: 2 }, headers: { h: true } }))
      const found = right(await store.getSnapshot(s.tenantId, s.streamId))
      expect(O.toUndefined(found)).toEqual({ ...s, streamRevision: 3, commitSequence: 2, payload: { v: 2 }, headers: { h: true } })
    })
  })
})
