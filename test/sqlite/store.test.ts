import Database from 'better-sqlite3'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import { toArray, type Commit } from '../../src/eventstore/index.js'
import { openSqliteStore, sqliteStore, type SqliteStoreOptions } from '../../src/sqlite/index.js'
import { attempt, freshIds, next } from 'aett/testing/contract'
import { existsSync } from 'node:fs'
import { databaseOf, open, openInitialized, tempDir, tempFile } from './support.js'

const dir = tempDir()

const pragma = (db: unknown, name: string): unknown => (db as Database.Database).pragma(name, { simple: true })

const committed = async (p: Promise<E.Either<unknown, Commit>>): Promise<Commit> => {
  const r = await p
  if (E.isLeft(r)) throw new Error(`expected a commit, got ${JSON.stringify(r.left)}`)
  return r.right
}

const all = async (reads: AsyncIterable<E.Either<unknown, Commit>>): Promise<readonly Commit[]> => {
  const out: Commit[] = []
  for await (const r of reads) {
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
    out.push(r.right)
  }
  return out
}

describe('sqlite: connection settings', () => {
  it('a file gets the WAL journal and synchronous FULL by default', async () => {
    const store = await open({ filename: tempFile(dir) })
    expect(pragma(await databaseOf(store), 'journal_mode')).toBe('wal')
    expect(pragma(await databaseOf(store), 'synchronous')).toBe(2)
    expect(pragma(await databaseOf(store), 'busy_timeout')).toBe(5000)
    await store.close()
  })

  it('synchronous NORMAL is applied when asked for', async () => {
    const store = await open({ filename: tempFile(dir), synchronous: 'NORMAL', busyTimeoutMs: 250 })
    expect(pragma(await databaseOf(store), 'synchronous')).toBe(1)
    expect(pragma(await databaseOf(store), 'busy_timeout')).toBe(250)
    await store.close()
  })

  it(':memory: keeps its in-memory journal: WAL does not apply to it', async () => {
    const store = await open({ filename: ':memory:' })
    expect(pragma(await databaseOf(store), 'journal_mode')).toBe('memory')
    await store.close()
  })

  it("a connection passed in keeps its own settings unless told otherwise, and stays open after close()", async () => {
    // given a caller's connection with synchronous OFF
    const db = new Database(tempFile(dir))
    db.pragma('synchronous = OFF')
    // when a store is opened on it without a durability option, and another with one
    const untouched = await openInitialized({ database: db })
    expect(pragma(db, 'synchronous')).toBe(0)
    expect(pragma(db, 'journal_mode')).toBe('delete')
    const told = await open({ database: db, synchronous: 'FULL' })
    // then only the explicit option changed the connection, and closing the stores leaves it open
    expect(pragma(db, 'synchronous')).toBe(2)
    await untouched.close()
    await told.close()
    expect(db.open).toBe(true)
    // and the closed stores answer with StorageErrors although the connection still works
    const r = await untouched.commit(attempt({ ...freshIds(), commitSequence: 1 }))
    expect(E.isLeft(r) && r.left._tag).toBe('StorageError')
    expect(E.isLeft(await told.initialize())).toBe(true)
    db.close()
  })

  it('bad options are StorageErrors, not exceptions', async () => {
    const bad: readonly SqliteStoreOptions[] = [
      { filename: ':memory:', tablePrefix: 'x"; DROP TABLE y; --' },
      { filename: ':memory:', tablePrefix: '1abc' },
      { filename: ':memory:', pageSize: 0 },
      { filename: ':memory:', pageSize: 1.5 },
      { filename: ':memory:', busyRetries: -1 },
      { filename: ':memory:', synchronous: 'OFF' as 'FULL' },
      { filename: ':memory:', filePageBytes: 1000 },
      { filename: ':memory:', filePageBytes: 256 },
      { filename: ':memory:', filePageBytes: 131072 },
      { database: {} as never },
      { filename: `${dir}/missing/dir/store.db` },
      undefined as never,
      null as never,
    ]
    for (const options of bad) {
      // constructing never throws; initialize() and every later call answer the StorageError
      const store = sqliteStore(options)
      const init = await store.initialize()
      expect(E.isLeft(init) && init.left._tag, JSON.stringify(options)).toBe('StorageError')
      const r = await store.commit(attempt({ ...freshIds(), commitSequence: 1 }))
      expect(E.isLeft(r) && r.left._tag, JSON.stringify(options)).toBe('StorageError')
      expect(E.isLeft(await store.database()), JSON.stringify(options)).toBe(true)
      await store.close()
      // and the deprecated openSqliteStore answers it as a Left
      const opened = await openSqliteStore(options)
      expect(E.isLeft(opened) && opened.left._tag, JSON.stringify(options)).toBe('StorageError')
    }
  })

  it('filePageBytes sets the page size of a file the store creates, and leaves an existing file as it is', async () => {
    const filename = tempFile(dir)
    // given a new file opened with 1 KiB pages
    const small = sqliteStore({ filename, filePageBytes: 1024 })
    expect(E.isRight(await small.initialize())).toBe(true)
    expect(E.isRight(await small.commit(attempt({ ...freshIds(), commitSequence: 1 })))).toBe(true)
    expect(pragma(await databaseOf(small), 'page_size')).toBe(1024)
    await small.close()
    // when it is opened again asking for another size, then it keeps its pages (and its commit)
    const again = sqliteStore({ filename, filePageBytes: 8192 })
    expect(E.isRight(await again.initialize())).toBe(true)
    expect(pragma(await databaseOf(again), 'page_size')).toBe(1024)
    expect(E.map((cs: readonly Commit[]) => cs.length)(await toArray(again.getFrom(0)))).toEqual(E.right(1))
    await again.close()
    // and without the option a new file gets SQLite's default
    const plain = sqliteStore({ filename: tempFile(dir) })
    expect(E.isRight(await plain.initialize())).toBe(true)
    expect(pragma(await databaseOf(plain), 'page_size')).toBe(4096)
    await plain.close()
  })

  it('construction is synchronous and opens nothing: the file is created by the first call that needs it', async () => {
    const filename = tempFile(dir)
    const store = sqliteStore({ filename })
    expect(existsSync(filename)).toBe(false)
    expect(E.isRight(await store.initialize())).toBe(true)
    expect(existsSync(filename)).toBe(true)
    await store.close()
    // and a closed store hands out no connection
    expect(E.isLeft(await store.database())).toBe(true)
  })

  it('the deprecated openSqliteStore opens the file at once and returns the same kind of store', async () => {
    const filename = tempFile(dir)
    const opened = await openSqliteStore({ filename })
    if (E.isLeft(opened)) return expect.fail(opened.left.message)
    expect(existsSync(filename)).toBe(true)
    expect(E.isRight(await opened.right.initialize())).toBe(true)
    expect(E.isRight(await opened.right.commit(attempt({ ...freshIds(), commitSequence: 1 })))).toBe(true)
    await opened.right.close()
  })
})

describe('sqlite: input the shell refuses (issue 10)', () => {
  it('a snapshot whose stream id holds a lone surrogate is an InvalidAttempt and nothing is stored', async () => {
    // given a store and a stream with a commit; SQLite would store '\uD800' as U+FFFD
    const store = await openInitialized({ filename: ':memory:' })
    const ids = freshIds()
    await committed(store.commit(attempt({ ...ids, commitSequence: 1 })))
    const lone = `${ids.streamId}\uD800`
    // when a snapshot names the stream id with a lone surrogate (and one with its U+FFFD spelling is checked)
    const r = await store.addSnapshot({ ...ids, streamId: lone, streamRevision: 1, commitSequence: 1, payload: { n: 1 }, headers: {} })
    // then it is refused, and no snapshot is stored under either spelling
    expect(E.isLeft(r) && r.left._tag).toBe('InvalidAttempt')
    expect(await store.getSnapshot(ids.tenantId, lone)).toEqual(E.right(O.none))
    expect(await store.getSnapshot(ids.tenantId, `${ids.streamId}\uFFFD`)).toEqual(E.right(O.none))
    const db = (await databaseOf(store)) as unknown as Database.Database
    expect(db.prepare('SELECT COUNT(*) AS n FROM "aett_snapshots"').get()).toEqual({ n: 0 })
    await store.close()
  })
})

describe('sqlite: files', () => {
  it('reopening a file keeps its commits, snapshots and token order', async () => {
    // given a file with commits and a snapshot, closed
    const filename = tempFile(dir)
    const first = await openInitialized({ filename, pageSize: 2 })
    const ids = freshIds()
    const c1 = await committed(first.commit(attempt({ ...ids, commitSequence: 1, events: 2 })))
    const c2 = await committed(first.commit(next(c1, ids)))
    const snap = { ...ids, streamRevision: 2, commitSequence: 1, payload: { balance: 2 }, headers: { h: 'x' } }
    expect(await first.addSnapshot(snap)).toEqual(E.right(undefined))
    await first.close()
    // when it is opened again
    const again = await openInitialized({ filename, pageSize: 2 })
    // then everything reads back, and new commits continue the token order
    expect(await all(again.get(ids.tenantId, ids.streamId))).toEqual([c1, c2])
    expect(E.map(() => true)(await again.getSnapshot(ids.tenantId, ids.streamId))).toEqual(E.right(true))
    const c3 = await committed(again.commit(next(c2, ids)))
    expect(c3.checkpointToken).toBeGreaterThan(c2.checkpointToken)
    await again.close()
  })

  it('two table prefixes keep two stores apart in one file', async () => {
    const filename = tempFile(dir)
    const a = await openInitialized({ filename, tablePrefix: 'a_' })
    const b = await openInitialized({ filename, tablePrefix: 'b_' })
    const ids = freshIds()
    await committed(a.commit(attempt({ ...ids, commitSequence: 1 })))
    expect(await all(b.get(ids.tenantId, ids.streamId))).toEqual([])
    expect(E.isRight(await b.drop())).toBe(true)
    expect(await all(a.get(ids.tenantId, ids.streamId))).toHaveLength(1)
    await a.close()
    await b.close()
  })

  it('checkpoint tokens are never handed out twice, even after the newest commits are deleted', async () => {
    // given two streams, the newer holding the highest token
    const store = await openInitialized({ filename: tempFile(dir) })
    const older = freshIds()
    const newer = { tenantId: older.tenantId, streamId: `${older.streamId}-b` }
    await committed(store.commit(attempt({ ...older, commitSequence: 1 })))
    const top = await committed(store.commit(attempt({ ...newer, commitSequence: 1 })))
    // when the newer stream is deleted and a commit follows
    expect(E.isRight(await store.deleteStream(newer.tenantId, newer.streamId))).toBe(true)
    const after = await committed(store.commit(attempt({ ...newer, commitSequence: 1 })))
    // then its token is above the deleted one, so a reader at `top` still sees it
    expect(after.checkpointToken).toBeGreaterThan(top.checkpointToken)
    expect((await all(store.getFrom(top.checkpointToken))).map((c) => c.commitId)).toEqual([after.commitId])
    // and the same holds after a purge of everything
    expect(E.isRight(await store.purge())).toBe(true)
    const afterPurge = await committed(store.commit(attempt({ ...older, commitSequence: 1 })))
    expect(afterPurge.checkpointToken).toBeGreaterThan(after.checkpointToken)
    await store.close()
  })

  it('close() is idempotent and later calls answer with StorageErrors', async () => {
    const store = await openInitialized({ filename: tempFile(dir) })
    await store.close()
    await store.close()
    const ids = freshIds()
    const r = await store.commit(attempt({ ...ids, commitSequence: 1 }))
    expect(E.isLeft(r) && r.left._tag).toBe('StorageError')
    expect(await toArray(store.getFrom(0))).toMatchObject({ _tag: 'Left', left: { _tag: 'StorageError' } })
  })

  it('a store used before initialize() answers with StorageErrors', async () => {
    const store = await open({ filename: ':memory:' })
    const ids = freshIds()
    const r = await store.commit(attempt({ ...ids, commitSequence: 1 }))
    expect(E.isLeft(r) && r.left._tag).toBe('StorageError')
    expect(E.isRight(await store.initialize())).toBe(true)
    expect(E.isRight(await store.commit(attempt({ ...ids, commitSequence: 1 })))).toBe(true)
    await store.close()
  })

  it('a stale writer on a second connection gets a conflict with what it missed, classified under the lock', async () => {
    // given two stores on one file, and a stream that the first extends
    const filename = tempFile(dir)
    const a = await openInitialized({ filename })
    const b = await openInitialized({ filename })
    const ids = freshIds()
    const c1 = await committed(a.commit(attempt({ ...ids, commitSequence: 1 })))
    const c2 = await committed(a.commit(next(c1, ids)))
    // when the second appends after c1, not knowing c2
    const r = await b.commit(next(c1, ids))
    // then it is a conflict carrying c2, and a duplicate of c2's id is a duplicate whatever the sequence
    expect(E.isLeft(r) && r.left._tag === 'ConcurrencyConflict' && r.left.missed.map((c) => c.commitId)).toEqual([c2.commitId])
    const dup = await b.commit({ ...next(c2, ids), commitId: c2.commitId })
    expect(E.isLeft(dup) && dup.left._tag).toBe('DuplicateCommit')
    await a.close()
    await b.close()
  })
})

describe('sqlite: paging', () => {
  it('long reads fetch at most a page of rows per query, and still read back complete', async () => {
    // given a connection that records how many rows each query returned, and a store on it with pages of 4
    const db = new Database(':memory:')
    const largest: number[] = []
    const spy = {
      get open() {
        return db.open
      },
      get inTransaction() {
        return db.inTransaction
      },
      exec: (sql: string) => db.exec(sql),
      pragma: (sql: string, o?: { readonly simple?: boolean }) => db.pragma(sql, o),
      close: () => db.close(),
      prepare: (sql: string) => {
        const statement = db.prepare(sql)
        const all = statement.all.bind(statement)
        return Object.assign(statement, {
          all: (...params: unknown[]) => {
            const rows = all(...params)
            largest.push(rows.length)
            return rows
          },
        })
      },
    }
    const store = await openInitialized({ database: spy, pageSize: 4 })
    const ids = freshIds()
    let head: Commit | undefined
    for (let i = 0; i < 30; i++) head = await committed(store.commit(next(head, ids)))
    await store.addSnapshot({ ...ids, streamRevision: 1, commitSequence: 1, payload: null, headers: {} })
    largest.length = 0
    // when the stream, the log, a window and the snapshot candidates are read
    expect(await all(store.get(ids.tenantId, ids.streamId))).toHaveLength(30)
    expect(await all(store.get(ids.tenantId, ids.streamId, { minRevision: 7, maxRevision: 19 }))).toHaveLength(13)
    expect(await all(store.getTo(ids.tenantId, ids.streamId, new Date(8.64e15)))).toHaveLength(30)
    expect(await all(store.getAllTo(ids.tenantId, new Date(8.64e15)))).toHaveLength(30)
    expect(await all(store.getFrom(0, ids.tenantId))).toHaveLength(30)
    expect(await all(store.getFromTo(5, 25))).toHaveLength(20)
    // then no query returned more than a page
    expect(largest.length).toBeGreaterThan(6 * 5)
    expect(Math.max(...largest)).toBeLessThanOrEqual(4)
    await store.close()
    db.close()
  })
})

describe('sqlite: the stream catalog', () => {
  it('lists every stream of a tenant with its head, and every tenant holding a commit, across pages', async () => {
    // given two tenants, one with five streams of different lengths, and pages of 2 rows
    const store = await openInitialized({ filename: ':memory:', pageSize: 2 })
    const ids = freshIds()
    const other = { tenantId: `${ids.tenantId}-b`, streamId: ids.streamId }
    const heads: Commit[] = []
    for (let s = 0; s < 5; s++) {
      let head: Commit | undefined
      for (let i = 0; i <= s; i++) head = await committed(store.commit(next(head, { tenantId: ids.tenantId, streamId: `${ids.streamId}-${s}` })))
      heads.push(head as Commit)
    }
    await committed(store.commit(attempt({ ...other, commitSequence: 1 })))
    // when the catalog is read
    const streams = await toArray(store.listStreams(ids.tenantId))
    const tenants = await toArray(store.listTenants())
    // then each stream shows its head commit, in stream id order, and both tenants are listed once
    expect(streams).toEqual(
      E.right(
        heads.map((h) => ({
          tenantId: h.tenantId,
          streamId: h.streamId,
          headRevision: h.streamRevision,
          headSequence: h.commitSequence,
          lastCommitStamp: h.commitStamp,
        })),
      ),
    )
    expect(tenants).toEqual(E.right([ids.tenantId, other.tenantId].sort()))
    await store.close()
  })
})
