import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { afterAll, describe, expect, it } from 'vitest'
import type { Commit } from '../../src/eventstore/index.js'
import { postgresProjection, type PostgresStore } from '../../src/postgres/index.js'
import { documentProjection, documentsOf, inlineProjection } from '../../src/projections/index.js'
import { sqliteProjection, sqliteStore, type SqliteStore } from '../../src/sqlite/index.js'
import { mysqlStore } from '../../src/mysql/index.js'
import { pgAvailable, pgStores } from '../postgres/support.js'
import { orThrow, tempDir, tempFile } from '../sqlite/support.js'
import { mysqlUrl } from '../support/services.js'
import { Bumped, attempt, logTokens, must, testTopics } from './fixtures.js'

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

  it('are not offered by MySQL/MariaDB (its append is one stored procedure with its own transaction)', async () => {
    const store = mysqlStore({ uri: mysqlUrl, tablePrefix: 'never_opened' })
    const r = await inlineProjection(store, tallies)
    expect(E.isLeft(r) && r.left._tag).toBe('InvalidArgument')
    await store.close()
  })
})

const pgUp = await pgAvailable()
const pg = pgStores('aett_inline')
afterAll(async () => {
  if (pgUp) await pg.dropAll()
})

describe.skipIf(!pgUp)('inline projections on PostgreSQL', () => {
  it('are applied in the append’s transaction; a refusal fails the append and leaves neither events nor read model changed', async () => {
    const store: PostgresStore = pg.create()
    must(await store.initialize())
    const schema = pg.schemaOf(store)
    await pg.pool().query(`CREATE TABLE "${schema}".totals (stream text PRIMARY KEY, total int NOT NULL)`)
    const totals = postgresProjection({
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
    must(await inlineProjection(store, totals))
    must(await inlineProjection(store, tallies))
    const read = async () => Object.fromEntries((await pg.pool().query(`SELECT stream, total FROM "${schema}".totals`)).rows.map((r: { stream: string; total: number }) => [r.stream, r.total]))
    const first: Commit = must(await store.commit(attempt(undefined, 'a', [bump('a', 1, 5)])))
    expect(await read()).toEqual({ a: 5 })
    expect(must(await documentsOf(store, tallies).get(first.tenantId, 'a'))).toEqual(O.some({ n: 1 }))
    const refused = await store.commit(attempt(first, 'a', [bump('a', 2, 13)]))
    expect(E.isLeft(refused) && refused.left._tag === 'HookRejected' && refused.left.hook).toBe('projection:totals')
    const notJson = await store.commit(attempt(first, 'a', [bump('a', 2, 14)]))
    expect(E.isLeft(notJson) && notJson.left._tag === 'HookRejected' && notJson.left.hook).toBe('projection:tallies')
    expect(await logTokens(store)).toEqual([first.checkpointToken])
    expect(await read()).toEqual({ a: 5 })
    // A conflict is still a conflict (the append is refused before any projection runs).
    const conflict = await store.commit(attempt(undefined, 'a', [bump('a', 1, 1)]))
    expect(E.isLeft(conflict) && conflict.left._tag).toBe('ConcurrencyConflict')
    expect(await read()).toEqual({ a: 5 })
    await store.close()
  })
})
