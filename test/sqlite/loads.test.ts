import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import type { SqliteDatabase } from '../../src/sqlite/config.js'
import { statementsPerLoad, withoutReadLatest } from '../support/roundTrips.js'
import { openInitialized } from './support.js'

/** A connection whose statements count their runs (`all`, `get`, `run`, `iterate`). */
const counted = (): { readonly db: SqliteDatabase; readonly runs: () => number } => {
  const db = new Database(':memory:')
  let runs = 0
  const prepare = db.prepare.bind(db)
  db.prepare = ((sql: string) => {
    const statement = prepare(sql)
    for (const method of ['all', 'get', 'run', 'iterate'] as const) {
      const f = statement[method].bind(statement) as (...args: unknown[]) => unknown
      Object.defineProperty(statement, method, {
        value: (...args: unknown[]) => {
          runs += 1
          return f(...args)
        },
      })
    }
    return statement
  }) as typeof db.prepare
  return { db: db as unknown as SqliteDatabase, runs: () => runs }
}

describe('sqlite: statements per load', () => {
  it('a repository load is one statement with readLatest (snapshot or not), two without it', async () => {
    const { db, runs } = counted()
    const store = await openInitialized({ database: db, pageSize: 5 })
    try {
      expect(store.readLatest).toBeDefined()
      expect(await statementsPerLoad(store, runs)).toEqual({ withSnapshot: 1, withoutSnapshot: 1 })
      expect(await statementsPerLoad(withoutReadLatest(store), runs)).toEqual({ withSnapshot: 2, withoutSnapshot: 2 })
    } finally {
      await store.close()
      db.close()
    }
  })
})
