import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { afterAll, describe, expect, it } from 'vitest'
import type { Commit, Persistence, Projectable } from '../../src/eventstore/index.js'
import { postgresProjection, type PostgresProjectionTx, type PostgresStore } from '../../src/postgres/index.js'
import { documentProjection, documentsOf, inlineProjection, type Projection } from '../../src/projections/index.js'
import { sqliteProjection, sqliteStore, type SqliteStore } from '../../src/sqlite/index.js'
import { mysqlProjection, mysqlStore, type MysqlProjectionTx, type MysqlStore } from '../../src/mysql/index.js'
import { pgAvailable, pgStores } from '../postgres/support.js'
import { freshPrefix, mysqlAvailable, testPool } from '../mysql/support.js'
import { orThrow, tempDir, tempFile } from '../sqlite/support.js'
import { mysqlUrl } from '../support/services.js'
import { Bumped, attempt, logTokens, must, testTopics, type TestEvent } from './fixtures.js'

// Inline projections: inside the append's own transaction (and, under SQLite's group commit, its own savepoint).

const dir = tempDir()
const bump = (streamId: string, version: number, by: number) => Bumped.create({ id: streamId, version, timestamp: new Date(), by })

/** A total per stream; refuses a bump of 13 after writing a row, so that a rollback must undo it. */
const sqliteTotals = sqliteProjection({
  name: 'totals',
  topics: testTopics,
  handlers: {
    Bumped: (db, event, meta) => {
      db.prepare('INSERT INTO totals (stream, total) VALUES (?, ?) ON CONFLICT (stream) DO UPDATE SET total = total + excluded.total').run(meta.commit.streamId, event.by)
      return event.by === 13 ? E.left('unlucky') : undefined
    },
    Noted: () => undefined,
  },
})

const tallies = documentProjection({
  name: 'tallies',
  topics: testTopics,
  id: (event) => event.id,
  evolve: (doc: { n: number } | undefined, event) => (event.type === 'Bumped' && event.by === 14 ? { n: Number.NaN } : { n: (doc?.n ?? 0) + 1 }),
})

const openSqlite = async (groupCommit: boolean): Promise<SqliteStore> => {
  const store = sqliteStore({ filename: tempFile(dir), groupCommit })
  orThrow(await store.initialize())
  orThrow(await store.database()).exec('CREATE TABLE totals (stream TEXT PRIMARY KEY, total INTEGER NOT NULL)')
  return store
}
const totalsOf = async (store: SqliteStore) =>
  Object.fromEntries((orThrow(await store.database()).prepare('SELECT stream, total FROM totals').all() as { stream: string; total: number }[]).map((r) => [r.stream, r.total]))

for (const groupCommit of [false, true]) {
  describe(`inline projections on SQLite (group commit ${groupCommit ? 'on' : 'off'})`, () => {
    it('are applied when the append returns; a refusal fails the append with HookRejected and leaves neither events nor read model changed', async () => {
      const store = await openSqlite(groupCommit)
      const off = must(await inlineProjection(store, sqliteTotals))
      must(await inlineProjection(store, tallies))
      const first = must(await store.commit(attempt(undefined, 'a', [bump('a', 1, 5)])))
      expect(await totalsOf(store)).toEqual({ a: 5 })
      expect(must(await documentsOf(store, tallies).get(first.tenantId, 'a'))).toEqual(O.some({ n: 1 }))
      const refused = await store.commit(attempt(first, 'a', [bump('a', 2, 13)]))
      expect(E.isLeft(refused) && refused.left._tag === 'HookRejected' && refused.left.hook).toBe('projection:totals')
      const notJson = await store.commit(attempt(first, 'a', [bump('a', 2, 14)]))
      expect(E.isLeft(notJson) && notJson.left._tag === 'HookRejected' && notJson.left.hook).toBe('projection:tallies')
      // Neither refused append is stored, and the row the handler wrote before refusing was rolled back.
      expect(await logTokens(store)).toEqual([first.checkpointToken])
      expect(await totalsOf(store)).toEqual({ a: 5 })
      expect(must(await documentsOf(store, tallies).get(first.tenantId, 'a'))).toEqual(O.some({ n: 1 }))
      // Unregistered: later appends are not projected by it.
      off()
      must(await store.commit(attempt(first, 'a', [bump('a', 2, 13)])))
      expect(await totalsOf(store)).toEqual({ a: 5 })
      await store.close()
    })
  })
}

describe('inline projections under group commit', () => {
  it('roll back only the refused append of a batch', async () => {
    const store = await openSqlite(true)
    must(await inlineProjection(store, sqliteTotals))
    // Appended in one turn: they share one transaction, each in its own savepoint.
    const [x, y, z] = await Promise.all([
      store.commit(attempt(undefined, 'x', [bump('x', 1, 1)])),
      store.commit(attempt(undefined, 'y', [bump('y', 1, 13)])),
      store.commit(attempt(undefined, 'z', [bump('z', 1, 3)])),
    ])
    expect(E.isRight(x) && E.isRight(z)).toBe(true)
    expect(E.isLeft(y) && y.left._tag).toBe('HookRejected')
    expect((await logTokens(store)).length).toBe(2)
    expect(await totalsOf(store)).toEqual({ x: 1, z: 3 })
    await store.close()
  })
})

/** What the server stores' shared cases need: a fresh store with a `totals` table, a projection into it, its rows. */
interface ServerDriver<Tx, S extends Persistence & Projectable<Tx, 'async'>> {
  readonly open: () => Promise<S>
  /** Adds `by` to the stream's total; refuses a bump of 13 after writing its row, so that a rollback must undo it. */
  readonly totals: (store: S) => Projection<Tx, 'async', TestEvent>
  readonly read: (store: S) => Promise<Record<string, number>>
}

const serverCases = <Tx, S extends Persistence & Projectable<Tx, 'async'>>(driver: ServerDriver<Tx, S>) => {
  it('are applied in the append’s transaction; a refusal fails the append and leaves neither events nor read model changed', async () => {
    // Given a store with a transactional and a document projection registered inline
    const store = await driver.open()
    const offTotals = must(await inlineProjection(store, driver.totals(store)))
    const offTallies = must(await inlineProjection(store, tallies))
    // When an append is accepted, then both read models show it the moment the append returns
    const first: Commit = must(await store.commit(attempt(undefined, 'a', [bump('a', 1, 5)])))
    expect(await driver.read(store)).toEqual({ a: 5 })
    expect(must(await documentsOf(store, tallies).get(first.tenantId, 'a'))).toEqual(O.some({ n: 1 }))
    // When a handler refuses (after writing) or a document is not JSON, then the append is HookRejected
    const refused = await store.commit(attempt(first, 'a', [bump('a', 2, 13)]))
    expect(E.isLeft(refused) && refused.left._tag === 'HookRejected' && refused.left.hook).toBe('projection:totals')
    const notJson = await store.commit(attempt(first, 'a', [bump('a', 2, 14)]))
    expect(E.isLeft(notJson) && notJson.left._tag === 'HookRejected' && notJson.left.hook).toBe('projection:tallies')
    // and nothing of either is stored: neither the commit nor the row the handler wrote before refusing
    expect(await logTokens(store)).toEqual([first.checkpointToken])
    expect(await driver.read(store)).toEqual({ a: 5 })
    expect(must(await documentsOf(store, tallies).get(first.tenantId, 'a'))).toEqual(O.some({ n: 1 }))
    // A conflict is still a conflict (the append is refused before any projection runs), and so is a duplicate.
    const conflict = await store.commit(attempt(undefined, 'a', [bump('a', 1, 1)]))
    expect(E.isLeft(conflict) && conflict.left._tag).toBe('ConcurrencyConflict')
    const duplicate = await store.commit({ ...attempt(first, 'a', [bump('a', 2, 1)]), commitId: first.commitId })
    expect(E.isLeft(duplicate) && duplicate.left._tag).toBe('DuplicateCommit')
    expect(await driver.read(store)).toEqual({ a: 5 })
    // The next append after the refusals continues the stream and is projected.
    const second = must(await store.commit(attempt(first, 'a', [bump('a', 2, 2)])))
    expect(second.checkpointToken).toBeGreaterThan(first.checkpointToken)
    expect(await driver.read(store)).toEqual({ a: 7 })
    expect(must(await documentsOf(store, tallies).get(first.tenantId, 'a'))).toEqual(O.some({ n: 2 }))
    // When both are unregistered, then later appends (even the one the projection would refuse) are not projected
    offTotals()
    offTallies()
    must(await store.commit(attempt(second, 'a', [bump('a', 3, 13)])))
    expect(await driver.read(store)).toEqual({ a: 7 })
    expect(must(await documentsOf(store, tallies).get(first.tenantId, 'a'))).toEqual(O.some({ n: 2 }))
    await store.close()
  })
}

const pgUp = await pgAvailable()
const pg = pgStores('aett_inline')
afterAll(async () => {
  if (pgUp) await pg.dropAll()
})

describe.skipIf(!pgUp)('inline projections on PostgreSQL', () => {
  serverCases<PostgresProjectionTx, PostgresStore>({
    open: async () => {
      const store: PostgresStore = pg.create()
      must(await store.initialize())
      await pg.pool().query(`CREATE TABLE "${pg.schemaOf(store)}".totals (stream text PRIMARY KEY, total int NOT NULL)`)
      return store
    },
    totals: (store) => {
      const schema = pg.schemaOf(store)
      return postgresProjection({
        name: 'totals',
        topics: testTopics,
        handlers: {
          Bumped: async (client, event, meta) => {
            await client.query({
              text: `INSERT INTO "${schema}".totals (stream, total) VALUES ($1, $2) ON CONFLICT (stream) DO UPDATE SET total = totals.total + EXCLUDED.total`,
              values: [meta.commit.streamId, event.by],
            })
            return event.by === 13 ? E.left('unlucky') : undefined
          },
          Noted: async () => undefined,
        },
      })
    },
    read: async (store) =>
      Object.fromEntries((await pg.pool().query(`SELECT stream, total FROM "${pg.schemaOf(store)}".totals`)).rows.map((r: { stream: string; total: number }) => [r.stream, r.total])),
  })

  it('a handler that catches a failed statement and answers success fails the append (PostgreSQL rolled it back): a StorageError, nothing stored', async () => {
    // Given a store whose inline projection runs a statement that fails, catches the error and answers success
    const store: PostgresStore = pg.create()
    must(await store.initialize())
    let swallow = true
    must(
      await inlineProjection(
        store,
        postgresProjection({
          name: 'swallowing',
          topics: testTopics,
          handlers: {
            Bumped: async (client) => {
              if (swallow) await client.query({ text: 'SELECT 1 / 0' }).catch(() => undefined)
              return undefined
            },
            Noted: async () => undefined,
          },
        }),
      ),
    )
    // When an append runs it, then the append is a StorageError that says the transaction was rolled back
    const failed = await store.commit(attempt(undefined, 'z', [bump('z', 1, 1)]))
    expect(E.isLeft(failed) && failed.left._tag).toBe('StorageError')
    expect(E.isLeft(failed) && failed.left._tag === 'StorageError' && failed.left.message).toMatch(/rolled back/)
    // and nothing was stored: the stream starts at sequence 1 again, and the log holds only that later commit
    swallow = false
    const stored = must(await store.commit(attempt(undefined, 'z', [bump('z', 1, 1)])))
    expect(await logTokens(store)).toEqual([stored.checkpointToken])
  })
})

const myUp = await mysqlAvailable()
const myPool = myUp ? testPool() : undefined
const myOpened: { store: MysqlStore; prefix: string }[] = []
afterAll(async () => {
  for (const { store, prefix } of myOpened) {
    await store.drop()
    await store.close()
    await myPool?.query(`DROP TABLE IF EXISTS ${prefix}_totals, ${prefix}_counted`)
  }
  await myPool?.end()
})
const myRows = async (sql: string) => ((await (myPool as NonNullable<typeof myPool>).query(sql)) as unknown as [Record<string, unknown>[]])[0]
const openMysql = async (connectionLimit = 4): Promise<{ store: MysqlStore; prefix: string }> => {
  const prefix = freshPrefix()
  const store = mysqlStore({ uri: mysqlUrl, tablePrefix: prefix, connectionLimit })
  must(await store.initialize())
  myOpened.push({ store, prefix })
  await myPool?.query(`CREATE TABLE ${prefix}_totals (stream VARCHAR(200) PRIMARY KEY, total BIGINT NOT NULL)`)
  return { store, prefix }
}
const prefixOf = (store: MysqlStore): string => myOpened.find((o) => o.store === store)?.prefix ?? 'none'

describe.skipIf(!myUp)('inline projections on MySQL/MariaDB', () => {
  serverCases<MysqlProjectionTx, MysqlStore>({
    open: async () => (await openMysql()).store,
    totals: (store) => {
      const p = prefixOf(store)
      return mysqlProjection({
        name: 'totals',
        topics: testTopics,
        handlers: {
          Bumped: async (tx, event, meta) => {
            await tx.execute(`INSERT INTO ${p}_totals (stream, total) VALUES (?, ?) ON DUPLICATE KEY UPDATE total = total + VALUES(total)`, [meta.commit.streamId, event.by])
            return event.by === 13 ? E.left('unlucky') : undefined
          },
          Noted: async () => undefined,
        },
      })
    },
    read: async (store) => Object.fromEntries((await myRows(`SELECT stream, total FROM ${prefixOf(store)}_totals`)).map((r) => [r['stream'], Number(r['total'])])),
  })

  it('treat a deadlock in a handler as the end of the transaction, even when the handler swallows it: run again, or a StorageError', async () => {
    // Given a store whose inline projection counts each event, but first raises a deadlock (errno 1213, as InnoDB
    // reports a victim) that it catches and ignores, on its first `fakes` calls
    const prefix = freshPrefix()
    const retries: number[] = []
    const store = mysqlStore({ uri: mysqlUrl, tablePrefix: prefix, connectionLimit: 2, appendRetries: 2, onRetry: (_cause, n) => void retries.push(n) })
    must(await store.initialize())
    myOpened.push({ store, prefix })
    await myPool?.query(`CREATE TABLE ${prefix}_counted (commit_id VARCHAR(64) NOT NULL, idx INT NOT NULL, token BIGINT NOT NULL, n INT NOT NULL, PRIMARY KEY (commit_id, idx))`)
    let fakes = 0
    must(
      await inlineProjection(
        store,
        mysqlProjection({
          name: 'swallowing',
          topics: testTopics,
          handlers: {
            Bumped: async (tx, _event, meta) => {
              if (fakes > 0) {
                fakes--
                await tx.execute("SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, MESSAGE_TEXT = 'a deadlock'").catch(() => undefined)
              }
              await tx.execute(`INSERT INTO ${prefix}_counted (commit_id, idx, token, n) VALUES (?, ?, ?, 1) ON DUPLICATE KEY UPDATE n = n + 1`, [meta.commit.commitId, meta.index, meta.commit.checkpointToken])
              return undefined
            },
            Noted: async () => undefined,
          },
        }),
      ),
    )
    const counted = async () => (await myRows(`SELECT commit_id, n FROM ${prefix}_counted`)).map((r) => [r['commit_id'], Number(r['n'])])
    // When the first try meets it, then the append is run again (onRetry 1) and stored and counted once
    fakes = 1
    const first = must(await store.commit(attempt(undefined, 'd', [bump('d', 1, 1)])))
    expect(retries).toEqual([1])
    expect(await counted()).toEqual([[first.commitId, 1]])
    // When every try meets it, then after the retries the append is a StorageError naming the deadlock, nothing stored
    fakes = 10
    const failed = await store.commit(attempt(first, 'd', [bump('d', 2, 1)]))
    expect(E.isLeft(failed) && failed.left._tag === 'StorageError' && (failed.left.cause as { errno?: number }).errno).toBe(1213)
    expect(retries).toEqual([1, 1, 2])
    expect(await logTokens(store)).toEqual([first.checkpointToken])
    expect(await counted()).toEqual([[first.commitId, 1]])
  })

  it('count every stored event exactly once under concurrent writers, none of a refused or conflicting append, with tokens in commit order', async () => {
    // Given a store (pool of 4) with an inline projection counting each event by (commit id, index); it refuses a
    // bump of 13 after counting it, throws on 17, and records whether any token above its own was committed first
    const { store, prefix } = await openMysql(4)
    await myPool?.query(`CREATE TABLE ${prefix}_counted (commit_id VARCHAR(64) NOT NULL, idx INT NOT NULL, token BIGINT NOT NULL, n INT NOT NULL, PRIMARY KEY (commit_id, idx))`)
    const outOfOrder: number[] = []
    const counter = mysqlProjection({
      name: 'counter',
      topics: testTopics,
      handlers: {
        Bumped: async (tx, event, meta) => {
          const token = meta.commit.checkpointToken
          const [above] = (await tx.execute(`SELECT COUNT(*) AS c FROM ${prefix}_counted WHERE token >= ? AND commit_id <> ?`, [token, meta.commit.commitId])) as unknown as [{ c: unknown }[]]
          if (Number(above[0]?.c) > 0) outOfOrder.push(token)
          await tx.execute(`INSERT INTO ${prefix}_counted (commit_id, idx, token, n) VALUES (?, ?, ?, 1) ON DUPLICATE KEY UPDATE n = n + 1`, [meta.commit.commitId, meta.index, token])
          if (event.by === 17) throw new Error('seventeen')
          return event.by === 13 ? E.left('unlucky') : undefined
        },
        Noted: async () => undefined,
      },
    })
    must(await inlineProjection(store, counter))
    // and a second store object on the same tables without it (its appends interleave on the same counter row)
    const plain = mysqlStore({ uri: mysqlUrl, tablePrefix: prefix, connectionLimit: 2 })
    const streams = ['s0', 's1', 's2']
    const heads = new Map<string, Commit>()
    const refusedIds: string[] = []
    const conflictedIds: string[] = []
    const storedInline: Commit[] = []
    const storedPlain: Commit[] = []
    let writing = true
    // A reader tails the log during the writes: were a token ever visible before a lower one, it would skip that one.
    const tailed: number[] = []
    const tail = async () => {
      let after = 0
      for (;;) {
        const done = !writing
        for await (const r of store.getFrom(after)) {
          tailed.push(must(r).checkpointToken)
          after = must(r).checkpointToken
        }
        if (done) return
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
    }
    const writer = async (w: number, via: MysqlStore, appends: number) => {
      for (let i = 0; i < appends; i++) {
        const streamId = streams[(w + i) % streams.length] as string
        const head = heads.get(streamId)
        const by = [1, 2, 13, 3, 17, 4][(w * 7 + i) % 6] as number
        const a = attempt(head, streamId, [bump(streamId, (head?.streamRevision ?? 0) + 1, by), bump(streamId, (head?.streamRevision ?? 0) + 2, 1)])
        const r = await via.commit(a)
        if (E.isRight(r)) {
          ;(via === store ? storedInline : storedPlain).push(r.right)
          if ((heads.get(streamId)?.commitSequence ?? 0) < r.right.commitSequence) heads.set(streamId, r.right)
        } else if (r.left._tag === 'HookRejected') refusedIds.push(a.commitId)
        else if (r.left._tag === 'ConcurrencyConflict') {
          conflictedIds.push(a.commitId)
          const last = r.left.missed[r.left.missed.length - 1]
          if (last !== undefined && (heads.get(streamId)?.commitSequence ?? 0) < last.commitSequence) heads.set(streamId, last)
        } else throw new Error(`unexpected ${JSON.stringify(r.left)}`)
      }
    }
    // When 4 inline writers and 1 plain writer append concurrently on 3 streams
    const tailing = tail()
    await Promise.all([writer(0, store, 20), writer(1, store, 20), writer(2, store, 20), writer(3, store, 20), writer(4, plain, 20)])
    writing = false
    await tailing
    // Then every event of every commit stored through the inline store was counted exactly once, at its own token
    const counted = await myRows(`SELECT commit_id, idx, token, n FROM ${prefix}_counted ORDER BY token, idx`)
    const expected = storedInline
      .flatMap((c) => c.events.map((_e, idx) => ({ commit_id: c.commitId, idx, token: c.checkpointToken, n: 1 })))
      .sort((x, y) => x.token - y.token || x.idx - y.idx)
    expect(counted.map((r) => ({ commit_id: r['commit_id'], idx: Number(r['idx']), token: Number(r['token']), n: Number(r['n']) }))).toEqual(expected)
    // and none of a refused, conflicting or plain append (whose ids appear nowhere among the counted rows)
    const countedIds = new Set(counted.map((r) => r['commit_id']))
    expect([...refusedIds, ...conflictedIds, ...storedPlain.map((c) => c.commitId)].filter((id) => countedIds.has(id))).toEqual([])
    expect(refusedIds.length).toBeGreaterThan(0)
    expect(conflictedIds.length).toBeGreaterThan(0)
    // and the log holds exactly the stored commits, tokens strictly ascending, none of them committed after a higher one
    const log = await logTokens(store)
    expect(log).toEqual([...storedInline, ...storedPlain].map((c) => c.checkpointToken).sort((x, y) => x - y))
    expect(log.every((t, i) => i === 0 || t > (log[i - 1] as number))).toBe(true)
    expect(tailed).toEqual(log)
    expect(outOfOrder).toEqual([])
    await plain.close()
  }, 60_000)
})
