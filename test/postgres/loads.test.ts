import { describe, expect, it } from 'vitest'
import { postgresStore } from '../../src/postgres/index.js'
import type { PgPool } from '../../src/postgres/config.js'
import { statementsPerLoad, withoutReadLatest } from '../support/roundTrips.js'
import { cleanUpAfterAll, pgAvailable, pgStores, testPool } from './support.js'

const available = await pgAvailable()
const stores = pgStores('aett_loads')

describe.skipIf(!available)('postgres: round trips per load', () => {
  cleanUpAfterAll(stores)

  it('a repository load is one round trip with readLatest (snapshot or not), two without it', async () => {
    // A pool whose `query` counts every statement the store sends (the store sends single statements this way),
    // but the coalesced NOTIFY that follows appends on its own timer, which is no part of a load.
    const pool = testPool()
    let queries = 0
    const countingPool: PgPool = {
      query: (config) => {
        if (!config.text.includes('pg_notify')) queries += 1
        return pool.query(config as never) as unknown as ReturnType<PgPool['query']>
      },
      connect: () => pool.connect() as unknown as ReturnType<PgPool['connect']>,
    }
    const store = postgresStore({ pool: countingPool, schema: `${stores.run}_counted`, pageSize: 5 })
    try {
      const init = await store.initialize()
      expect(init._tag).toBe('Right')
      expect(await statementsPerLoad(store, () => queries)).toEqual({ withSnapshot: 1, withoutSnapshot: 1 })
      expect(await statementsPerLoad(withoutReadLatest(store), () => queries)).toEqual({ withSnapshot: 2, withoutSnapshot: 2 })
    } finally {
      await store.drop()
      await store.close()
      await pool.end()
    }
  })
})
