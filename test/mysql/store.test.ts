import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineEvent, toArray, topicMap, type CommitAttempt, type Persistence } from '../../src/eventstore/index.js'
import type mysql from 'mysql2/promise'
import { mysqlErrorKind, mysqlStore, type MysqlPool } from '../../src/mysql/index.js'
import { ID_LIMITS } from '../../src/eventstore/limits.js'
import { mysqlErrno } from '../../src/mysql/errors.js'
import { migrations, mysqlNames } from '../../src/mysql/schema.js'
import { mysqlProjection } from '../../src/mysql/projections.js'
import { inlineProjection } from '../../src/projections/index.js'
import { mysqlStatements } from '../../src/mysql/statements.js'
import { freshPrefix, initializedStore, mysqlAvailable, rightOf, testPool } from './support.js'

const available = await mysqlAvailable()

const attempt = (over: Partial<CommitAttempt> = {}): CommitAttempt => ({
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

const Happened = defineEvent('Happened', {})
const anyTopics = topicMap(Happened)
/** An attempt on stream `kept` at `n` whose event decodes (a projection's topics see it). */
const decodable = (n: number): CommitAttempt =>
  attempt({ streamId: 'kept', commitSequence: n, streamRevision: n, events: [{ body: anyTopics.encode(Happened.create({ id: 'kept', version: n, timestamp: new Date() })), headers: {} }] })

describe.skipIf(!available)('mysql store', () => {
  const prefix = freshPrefix()
  let pool: mysql.Pool
  let store: Persistence

  beforeAll(async () => {
    pool = testPool()
    store = await initializedStore({ pool, tablePrefix: prefix, pageSize: 3 })
  })

  afterAll(async () => {
    await store?.drop()
    await store?.close()
    await pool?.end()
  })

  const tables = async (p: string): Promise<string[]> => {
    const [rows] = await pool.query(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ?`,
      [`${p}\\_%`],
    )
    return (rows as { name: string }[]).map((r) => r.name).sort()
  }

  it('SEMANTICS 13: ids that differ only by case, accents, width or trailing blanks are different streams', async () => {
    // given stream ids that a case- or accent-insensitive (or PAD SPACE) collation would take for one
    const ids = ['straße', 'STRASSE', 'strasse', 'strasse ', 'e\u0301', '\u00e9', 'ｓｔｒａｓｓｅ', 'Strasse']
    // when each gets its first commit
    for (const streamId of ids) rightOf(await store.commit(attempt({ tenantId: 'collation', streamId })))
    // then each reads back as its own stream, and tenants that differ the same way are apart too
    for (const streamId of ids) {
      const commits = rightOf(await toArray(store.get('collation', streamId)))
      expect(commits.map((c) => c.streamId)).toEqual([streamId])
    }
    rightOf(await store.commit(attempt({ tenantId: 'Collation', streamId: 'straße' })))
    expect(rightOf(await toArray(store.getFrom(0, 'Collation')))).toHaveLength(1)
    expect(rightOf(await toArray(store.getFrom(0, 'collation')))).toHaveLength(ids.length)
  })

  it('SEMANTICS 13: ids up to the documented limits are kept whole (lookups go through fixed-size keys)', async () => {
    // given tenant, stream and commit ids of multi-byte characters exactly at ID_LIMITS (in UTF-8 bytes)
    const tenantId = `t-${'ü'.repeat((ID_LIMITS.tenantId - 2) / 2)}`
    const streamId = `s-${'🙂'.repeat((ID_LIMITS.streamId - 4) / 4)}xy`
    const commitId = `c-${'x'.repeat(ID_LIMITS.commitId - 2)}`
    expect([tenantId, streamId, commitId].map((id) => Buffer.byteLength(id))).toEqual([ID_LIMITS.tenantId, ID_LIMITS.streamId, ID_LIMITS.commitId])
    // (one byte more is refused before any I/O: issue 10 item 14)
    const over = await store.commit(attempt({ tenantId: `${tenantId}x`, streamId, commitId }))
    expect(E.isLeft(over) && over.left._tag).toBe('InvalidAttempt')
    // when committed twice with the same commit id
    rightOf(await store.commit(attempt({ tenantId, streamId, commitId })))
    const again = await store.commit(attempt({ tenantId, streamId, commitId, commitSequence: 2, streamRevision: 2 }))
    // then they read back verbatim and the second is a duplicate
    const [c] = rightOf(await toArray(store.get(tenantId, streamId)))
    expect([c?.tenantId, c?.streamId, c?.commitId]).toEqual([tenantId, streamId, commitId])
    expect(E.isLeft(again) && again.left._tag).toBe('DuplicateCommit')
  })

  it('SEMANTICS 13: ids that are not well-formed Unicode are refused, not silently changed', async () => {
    // given a stream id with a lone surrogate (UTF-8 cannot carry it, it would turn into U+FFFD)
    const streamId = 'broken-\ud800'
    // when committing, then it is an invalid attempt, and reading it finds nothing
    const r = await store.commit(attempt({ streamId }))
    expect(E.isLeft(r) && r.left._tag).toBe('InvalidAttempt')
    expect(rightOf(await toArray(store.get('tenant', streamId)))).toEqual([])
    expect(rightOf(await store.getSnapshot('tenant', streamId))).toEqual(O.none)
  })

  it('keeps commit stamps to the millisecond, before 1970 and far ahead, whatever the session time zone', async () => {
    // given a store whose only connection runs in a session time zone far from UTC
    const tzPool = testPool({ connectionLimit: 1 })
    await tzPool.query(`SET time_zone = '+05:30'`)
    const tzStore = mysqlStore({ pool: tzPool, tablePrefix: prefix })
    const stamps = ['1969-07-20T20:17:40.001Z', '2026-03-29T01:30:00.999Z', '2999-12-31T23:59:59.999Z']
    // when commits carry those stamps
    for (const [i, s] of stamps.entries()) {
      rightOf(await tzStore.commit(attempt({ streamId: 'stamps', commitSequence: i + 1, streamRevision: i + 1, commitStamp: new Date(s) })))
    }
    // then they read back exactly (through either session), and getTo cuts at the exact millisecond
    const commits = rightOf(await toArray(store.get('tenant', 'stamps')))
    expect(commits.map((c) => c.commitStamp.toISOString())).toEqual(stamps)
    const to = rightOf(await toArray(tzStore.getTo('tenant', 'stamps', new Date('2026-03-29T01:30:00.998Z'))))
    await tzPool.end()
    expect(to).toHaveLength(1)
  })

  it('SEMANTICS 8: a reader is held back behind an open transaction instead of skipping its token', async () => {
    // given a session that has taken the next checkpoint token the way the append routine does, and not committed
    const names = mysqlNames(prefix)
    const holder = await pool.getConnection()
    const before = rightOf(await toArray(store.getFrom(0)))
    const last = before[before.length - 1]?.checkpointToken ?? 0
    try {
      await holder.query('START TRANSACTION')
      await holder.query(`UPDATE ${names.checkpoint} SET value = value + 1 WHERE id = 1`)
      // when another writer appends meanwhile and a reader reads the log
      const later = store.commit(attempt({ streamId: 'behind-an-open-transaction' }))
      await new Promise((resolve) => setTimeout(resolve, 100))
      let answered = false
      const during = toArray(store.getFrom(last)).then((r) => ((answered = true), r))
      await new Promise((resolve) => setTimeout(resolve, 200))
      // then the reader is held back: it does not answer while the token is open (the later append waits, too)
      expect(answered).toBe(false)
      await holder.query('ROLLBACK')
      // and once the holder is done, the later append lands right after the last token, with no hole, and the
      // reader (queued on the counter behind it) answers with it
      expect(rightOf(await later).checkpointToken).toBe(last + 1)
      expect(rightOf(await during).map((c) => c.checkpointToken)).toEqual([last + 1])
    } finally {
      await holder.query('ROLLBACK')
      holder.release()
    }
  })

  it('a refused attempt reports as missed the commits up to the head it was checked against, not those stored while its answer is read', async () => {
    for (const groupCommit of [false, true]) {
      // given a stream with one commit (id x), and a store whose stream reads can be held back
      let hold: { reached: () => void; gate: Promise<void> } | undefined
      const held: MysqlPool = {
        execute: async (sql, values) => {
          const h = hold
          if (h !== undefined && sql.includes('commit_sequence > ?')) {
            hold = undefined
            h.reached()
            await h.gate
          }
          return pool.execute(sql, values as never)
        },
        query: (sql) => pool.query(sql),
        getConnection: () => pool.getConnection(),
        end: async () => undefined,
      }
      const s = mysqlStore({ pool: held, tablePrefix: prefix, groupCommit })
      const streamId = `missed-${groupCommit}`
      rightOf(await s.commit(attempt({ streamId, commitId: 'x' })))
      let release = (): void => undefined
      const reached = new Promise<void>((resolve) => (hold = { reached: resolve, gate: new Promise<void>((r) => (release = r)) }))

      // when an attempt behind the head (id w) is refused and, while its missed commits are being read, the
      // stream's next commit is stored, with the same id w (alone, or in a batch with another attempt)
      const [behind, other] = [s.commit(attempt({ streamId, commitId: 'w' })), s.commit(attempt({ streamId: `${streamId}-other` }))]
      await reached
      rightOf(await store.commit(attempt({ streamId, commitId: 'w', commitSequence: 2, streamRevision: 2 })))
      release()

      // then it answers as a one-at-a-time store answers before that commit: a conflict that missed x only (after
      // it, the answer would have been DuplicateCommit)
      const answer = await behind
      expect(E.isLeft(answer) && answer.left._tag === 'ConcurrencyConflict' ? answer.left.missed.map((c) => c.commitId) : answer).toEqual(['x'])
      expect(E.isRight(await other)).toBe(true)
      await s.close()
    }
  })

  it('records its schema version and initialises idempotently, also from several processes at once', async () => {
    // given a fresh prefix and four stores on four pools, as four processes would have
    const p = freshPrefix()
    const pools = Array.from({ length: 4 }, () => testPool({ connectionLimit: 1 }))
    const stores = pools.map((pl) => mysqlStore({ pool: pl, tablePrefix: p }))
    try {
      // when all of them initialise at the same time, and then again
      const first = await Promise.all(stores.map((s) => s.initialize()))
      const second = await Promise.all(stores.map((s) => s.initialize()))
      // then every call succeeds, the migration ran once, and the store works
      expect([...first, ...second].every(E.isRight)).toBe(true)
      const [rows] = await pool.query(`SELECT version FROM \`${p}_schema_version\``)
      expect(rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }])
      const s0 = stores[0] as Persistence
      expect(rightOf(await s0.commit(attempt())).checkpointToken).toBe(1)
      expect(await tables(p)).toEqual([
        `${p}_checkpoint`,
        `${p}_commits`,
        `${p}_projection_documents`,
        `${p}_schema_version`,
        `${p}_snapshots`,
        `${p}_subscription_parked`,
        `${p}_subscriptions`,
      ])
      // with both append routines (the one-round-trip one, and the one inside the caller's transaction: version 4)
      const routinesOf = async () =>
        ((await pool.query(`SELECT routine_name AS name FROM information_schema.routines WHERE routine_schema = DATABASE() AND routine_name IN (?, ?) ORDER BY routine_name`, [
          `${p}_append`,
          `${p}_append_in_tx`,
        ])) as unknown as [{ name: string }[]])[0].map((r) => r.name)
      expect(await routinesOf()).toEqual([`${p}_append`, `${p}_append_in_tx`])
      // and drop removes every table and both append routines
      rightOf(await s0.drop())
      expect(await tables(p)).toEqual([])
      expect(await routinesOf()).toEqual([])
    } finally {
      await Promise.all(stores.map((s) => s.drop()))
      await Promise.all(pools.map((pl) => pl.end()))
    }
  })

  it('refuses a schema that a newer release has migrated, leaving it as it is', async () => {
    // given an initialised prefix whose version table names a version this release does not know
    const p = freshPrefix()
    const newer = mysqlStore({ pool, tablePrefix: p })
    try {
      rightOf(await newer.initialize())
      await pool.query(`INSERT INTO \`${p}_schema_version\` (version, applied_at) VALUES (999, 0)`)
      // when it is initialised again
      const result = await newer.initialize()
      // then the answer is a StorageError that says why, and nothing was applied
      expect(E.isLeft(result) && result.left._tag === 'StorageError' && result.left.message).toMatch(/version 999, newer than this release/)
      const [rows] = await pool.query(`SELECT version FROM \`${p}_schema_version\` ORDER BY version`)
      expect(rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 999 }])
    } finally {
      await newer.drop()
    }
  })

  it('migrates a store at schema version 3 to version 4: commits stay, plain and inline appends work', async () => {
    // given a prefix as the release before version 4 left it: steps 1-3 applied and recorded, commits in it
    const p = freshPrefix()
    const n = mysqlNames(p)
    const old = mysqlStore({ pool, tablePrefix: p })
    try {
      await pool.query(`CREATE TABLE ${n.schemaVersion} (version INT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL) ENGINE=InnoDB`)
      for (const step of migrations.filter((m) => m.version <= 3)) {
        for (const sql of step.statements(n)) await pool.query(sql)
        await pool.query(`INSERT INTO ${n.schemaVersion} (version, applied_at) VALUES (?, 0)`, [step.version])
      }
      const first = rightOf(await old.commit(decodable(1)))
      // before it is migrated, an append with an inline projection answers a StorageError (no such routine), not a throw
      const seen: number[] = []
      const off = rightOf(
        await inlineProjection(
          old,
          mysqlProjection({
            name: 'seen',
            topics: anyTopics,
            handlers: { Happened: async (_tx, _e, meta) => void seen.push(meta.commit.checkpointToken) },
          }),
        ),
      )
      const early = await old.commit(decodable(2))
      expect(E.isLeft(early) && early.left._tag === 'StorageError' && (early.left.cause as { errno?: number }).errno).toBe(mysqlErrno.noSuchRoutine)
      // when this release initialises it
      rightOf(await old.initialize())
      // then step 4 ran once, the commits are as they were, and appends with and without the projection work
      const [versions] = await pool.query(`SELECT version FROM ${n.schemaVersion} ORDER BY version`)
      expect(versions).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }])
      expect(rightOf(await toArray(old.getFrom(0)))).toEqual([first])
      const second = rightOf(await old.commit(decodable(2)))
      expect(seen).toEqual([second.checkpointToken])
      off()
      const third = rightOf(await old.commit(decodable(3)))
      expect(seen).toEqual([second.checkpointToken])
      expect(rightOf(await toArray(old.getFrom(0))).map((c) => c.checkpointToken)).toEqual([first, second, third].map((c) => c.checkpointToken))
      rightOf(await old.initialize())
      const [again] = await pool.query(`SELECT version FROM ${n.schemaVersion} ORDER BY version`)
      expect(again).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }])
    } finally {
      await old.drop()
    }
  })

  it('answers StorageErrors (with the driver cause) before initialise, and works after', async () => {
    // given a store whose tables do not exist yet
    const p = freshPrefix()
    const fresh = mysqlStore({ pool, tablePrefix: p })
    try {
      // when used, then every operation fails as a value carrying the server's errno
      const commit = await fresh.commit(attempt())
      expect(E.isLeft(commit) && commit.left._tag).toBe('StorageError')
      expect(E.isLeft(commit) && (commit.left as { cause: { errno?: number } }).cause.errno).toBe(mysqlErrno.noSuchRoutine)
      const read = await toArray(fresh.getFrom(0))
      expect(E.isLeft(read) && read.left._tag === 'StorageError' && (read.left.cause as { errno?: number }).errno).toBe(mysqlErrno.noSuchTable)
      expect(E.isLeft(await fresh.purge('tenant'))).toBe(true)
      expect(E.isLeft(await fresh.addSnapshot({ tenantId: 't', streamId: 's', streamRevision: 1, commitSequence: 1, payload: {}, headers: {} }))).toBe(true)
      // and once initialised it works
      rightOf(await fresh.initialize())
      rightOf(await fresh.commit(attempt()))
    } finally {
      await fresh.drop()
    }
  })

  it('leaves a pool it was given open, and refuses work after close', async () => {
    // given a store over the test's pool
    const s = mysqlStore({ pool, tablePrefix: prefix })
    // when it is closed (twice)
    await s.close()
    await s.close()
    // then the pool still answers, and the closed store answers with StorageErrors
    await expect(pool.query('SELECT 1')).resolves.toBeDefined()
    const r = await s.commit(attempt())
    expect(E.isLeft(r) && r.left._tag === 'StorageError' && r.left.operation).toBe('commit')
    expect(E.isLeft(r) && r.left._tag === 'StorageError' && r.left.message).toMatch(/closed/)
  })

  it('retries an append that was a deadlock victim, a bounded number of times', async () => {
    // given a pool whose first CALLs fail as deadlock victims do
    const deadlock = () => Object.assign(new Error('Deadlock found when trying to get lock'), { errno: mysqlErrno.deadlock })
    const flaky = (failures: number): MysqlPool => {
      let left = failures
      return {
        execute: (sql: string, values?: unknown) => {
          if (sql.startsWith('CALL') && left > 0) {
            left -= 1
            return Promise.reject(deadlock())
          }
          return pool.execute(sql, values as never[])
        },
        query: (sql: string) => pool.query(sql),
        getConnection: () => pool.getConnection(),
        end: async () => undefined,
      }
    }
    const retried: number[] = []
    const patient = mysqlStore({ pool: flaky(2), tablePrefix: prefix, onRetry: (_, n) => retried.push(n) })
    // when appending, then the third call succeeds and both retries were reported
    rightOf(await patient.commit(attempt({ streamId: 'deadlocked' })))
    expect(retried).toEqual([1, 2])
    // and a store that may retry only once gives up with the deadlock as the cause
    const impatient = mysqlStore({ pool: flaky(3), tablePrefix: prefix, appendRetries: 1 })
    const r = await impatient.commit(attempt({ streamId: 'deadlocked-again' }))
    expect(E.isLeft(r) && mysqlErrorKind((r.left as { cause: unknown }).cause)).toBe('deadlock')
  })

  it('runs an append again when a unique key refused it, and then classifies it against the new head', async () => {
    // given a writer that bypassed the routine and took sequence 1 just before our call reached the server
    const dupKey = () => Object.assign(new Error('Duplicate entry'), { errno: mysqlErrno.duplicateKey })
    let refused = false
    const racing: MysqlPool = {
      execute: async (sql: string, values?: unknown) => {
        if (sql.startsWith('CALL') && !refused) {
          refused = true
          rightOf(await store.commit(attempt({ streamId: 'raced', commitId: 'the-other-writer' })))
          throw dupKey()
        }
        return pool.execute(sql, values as never[])
      },
      query: (sql: string) => pool.query(sql),
      getConnection: () => pool.getConnection(),
      end: async () => undefined,
    }
    const retried: unknown[] = []
    const ours = mysqlStore({ pool: racing, tablePrefix: prefix, onRetry: (cause) => retried.push(cause) })
    // when our first commit to the stream is refused by the unique key
    const r = await ours.commit(attempt({ streamId: 'raced' }))
    // then it was run again once and is now a conflict carrying the other writer's commit
    expect(retried).toHaveLength(1)
    expect(E.isLeft(r) && r.left._tag === 'ConcurrencyConflict' && r.left.missed.map((c) => c.commitId)).toEqual(['the-other-writer'])
  })

  it('lists streams to snapshot across pages, and deleteStream removes a stream with its snapshots', async () => {
    // given six streams with three revisions each in one tenant (page size 3), two of them snapshotted
    for (let i = 0; i < 6; i++) {
      rightOf(await store.commit(attempt({ tenantId: 'snap', streamId: `s${i}`, streamRevision: 3, events: Array(3).fill({ body: { type: 'E' }, headers: {} }) })))
    }
    rightOf(await store.addSnapshot({ tenantId: 'snap', streamId: 's1', streamRevision: 3, commitSequence: 1, payload: { n: 3 }, headers: {} }))
    rightOf(await store.addSnapshot({ tenantId: 'snap', streamId: 's2', streamRevision: 1, commitSequence: 1, payload: { n: 1 }, headers: {} }))
    // when listing heads at least 2 revisions past their snapshot
    const heads = rightOf(await toArray(store.streamsToSnapshot('snap', 2)))
    // then every stream but the one snapshotted at its head is listed once
    expect(heads.map((h) => h.streamId).sort()).toEqual(['s0', 's2', 's3', 's4', 's5'])
    expect(heads.find((h) => h.streamId === 's2')).toEqual({ tenantId: 'snap', streamId: 's2', headRevision: 3, snapshotRevision: 1 })
    // and after deleting a stream it is gone with its snapshots
    rightOf(await store.deleteStream('snap', 's2'))
    expect(rightOf(await toArray(store.get('snap', 's2')))).toEqual([])
    expect(rightOf(await store.getSnapshot('snap', 's2'))).toEqual(O.none)
  })

  it('issue 10 item 1: binds every value (never splices one into SQL text) and runs only constant statement texts', async () => {
    // given a pool that records every call the store makes
    const executed: { sql: string; values: unknown }[] = []
    const queried: { sql: string; extra: number }[] = []
    const recordOn = <C extends { execute: MysqlPool['execute']; query: MysqlPool['query'] }>(target: C) => ({
      execute: (sql: string, values?: unknown) => {
        executed.push({ sql, values })
        return target.execute(sql, values)
      },
      query: (sql: string, ...extra: unknown[]) => {
        queried.push({ sql, extra: extra.length })
        return target.query(sql)
      },
    })
    const recording: MysqlPool = {
      ...recordOn(pool as unknown as MysqlPool),
      getConnection: async () => {
        const c = await pool.getConnection()
        return { ...recordOn(c as unknown as MysqlPool), release: () => c.release(), destroy: () => c.destroy() }
      },
      end: async () => undefined,
    }
    const p = freshPrefix()
    const s = mysqlStore({ pool: recording, tablePrefix: p, pageSize: 2 })
    try {
      // when it runs every kind of operation, twice
      rightOf(await s.initialize())
      for (let round = 1; round <= 2; round++) {
        const tenantId = `t'${round}\\`
        for (let i = 1; i <= 3; i++) rightOf(await s.commit(attempt({ tenantId, streamId: 'x', commitSequence: i, streamRevision: i })))
        expect(E.isLeft(await s.commit(attempt({ tenantId, streamId: 'x' })))).toBe(true)
        rightOf(await s.addSnapshot({ tenantId, streamId: 'x', streamRevision: 1, commitSequence: 1, payload: { round }, headers: {} }))
        rightOf(await s.getSnapshot(tenantId, 'x', 2))
        for (const read of [
          s.get(tenantId, 'x', { minRevision: 2 }),
          s.getTo(tenantId, 'x', new Date()),
          s.getAllTo(tenantId, new Date()),
          s.getFrom(0),
          s.getFromTo(0, 100, tenantId),
        ]) {
          rightOf(await toArray(read))
        }
        rightOf(await toArray(s.streamsToSnapshot(tenantId, 1)))
        rightOf(await toArray(s.listStreams(tenantId)))
        rightOf(await toArray(s.listTenants()))
        rightOf(await s.deleteStream(tenantId, 'x'))
        rightOf(await s.purge(tenantId))
      }
      rightOf(await s.purge())
      // then text without values only ever went through query, with nothing to splice
      expect(queried.every((q) => q.extra === 0)).toBe(true)
      // and every statement with values is one of the store's constant texts, so each is prepared once per connection
      const texts = new Set(Object.values(mysqlStatements(mysqlNames(p))))
      expect(executed.filter((e) => !texts.has(e.sql))).toEqual([])
      // and no value reached the server as a JavaScript number (which mysql2 would send as a DOUBLE)
      expect(executed.flatMap((e) => (Array.isArray(e.values) ? e.values : [])).filter((v) => typeof v === 'number')).toEqual([])
    } finally {
      await s.drop()
    }
  })
})
