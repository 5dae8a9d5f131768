import { describe, expect, it } from 'vitest'
import { mysqlStore } from '../../src/mysql/index.js'
import type { MysqlPool } from '../../src/mysql/config.js'
import { statementsPerLoad, withoutReadLatest } from '../support/roundTrips.js'
import { freshPrefix, mysqlAvailable, testPool } from './support.js'

const available = await mysqlAvailable()

describe.skipIf(!available)('mysql: round trips per load', () => {
  it('a repository load is one round trip with readLatest (snapshot or not), two without it', async () => {
    // A pool whose `execute` counts every prepared statement the store sends (reads go through the pool).
    const pool = testPool()
    let executed = 0
    const countingPool: MysqlPool = {
      execute: (sql, values) => {
        executed += 1
        return pool.execute(sql, values as never) as unknown as ReturnType<MysqlPool['execute']>
      },
      query: (sql) => pool.query(sql) as unknown as ReturnType<MysqlPool['query']>,
      getConnection: () => pool.getConnection() as unknown as ReturnType<MysqlPool['getConnection']>,
      end: () => pool.end(),
    }
    const store = mysqlStore({ pool: countingPool, tablePrefix: freshPrefix(), pageSize: 5 })
    try {
      const init = await store.initialize()
      expect(init._tag).toBe('Right')
      expect(await statementsPerLoad(store, () => executed)).toEqual({ withSnapshot: 1, withoutSnapshot: 1 })
      expect(await statementsPerLoad(withoutReadLatest(store), () => executed)).toEqual({ withSnapshot: 2, withoutSnapshot: 2 })
    } finally {
      await store.drop()
      await store.close()
      await pool.end()
    }
  })
})
