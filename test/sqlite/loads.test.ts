import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import type { SqliteDatabase } from '../../src/sqlite/config.js'
import { statementsPerLoad, withoutReadLatest } from '../support/roundTrips.js'
import { openInitialized } from './support.js'

/**
 * A connection whose statements count their runs (`all`, `get`, `run`, `iterate`), and the synchronous steps they
 * ran in: runs with no `await` between them share a step (a microtask queued at a step's first run ends it).
 */
const counted = (): { readonly db: SqliteDatabase; readonly runs: () => number; readonly steps: () => number } => {
  const db = new Database(':memory:')
  let runs = 0
  let steps = 0
  let inStep = false
  const prepare = db.prepare.bind(db)
  db.prepare = ((sql: string) => {
    const statement = prepare(sql)
    for (const method of ['all', 'get', 'run', 'iterate'] as const) {
      const f = statement[method].bind(statement) as (...args: unknown[]) => unknown
      Object.defineProperty(statement, method, {
        value: (...args: unknown[]) => {
          runs += 1
          if (!inStep) {
            inStep = true
            steps += 1
            queueMicrotask(() => {
              inStep = false
            })
          }
          return f(...args)
        },
      })
    }
    return statement
  }) as typeof db.prepare
  return { db: db as unknown as SqliteDatabase, runs: () => runs, steps: () => steps }
}

describe('sqlite: statements and driver steps per load', () => {
  it('a repository load is one synchronous step with readLatest (the snapshot probe and the page back to back), two without it', async () => {
    const { db, runs, steps } = counted()
    const store = await openInitialized({ database: db, pageSize: 5 })
    try {
      expect(store.readLatest).toBeDefined()
      // SQLite runs in the process: the two plain statements cost less than one compound SELECT of both (see
      // src/sqlite/loads.ts), so a load keeps two statements and saves the asynchronous step between them.
      expect(await statementsPerLoad(store, steps)).toEqual({ withSnapshot: 1, withoutSnapshot: 1 })
      expect(await statementsPerLoad(store, runs)).toEqual({ withSnapshot: 2, withoutSnapshot: 2 })
      expect(await statementsPerLoad(withoutReadLatest(store), steps)).toEqual({ withSnapshot: 2, withoutSnapshot: 2 })
      expect(await statementsPerLoad(withoutReadLatest(store), runs)).toEqual({ withSnapshot: 2, withoutSnapshot: 2 })
    } finally {
      await store.close()
      db.close()
    }
  })
})
