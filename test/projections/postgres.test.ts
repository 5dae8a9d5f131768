import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe } from 'vitest'
import { postgresProjection, type PostgresProjectionTx, type PostgresStore } from '../../src/postgres/index.js'
import { pgAvailable, pgStores } from '../postgres/support.js'
import { asyncProjectionSuite } from './asyncSuite.js'
import { testTopics } from './fixtures.js'

const available = await pgAvailable()
const stores = pgStores('aett_proj')
const opened: PostgresStore[] = []
afterAll(async () => {
  for (const s of opened) await s.close()
  if (available) await stores.dropAll()
})

const query = async (tx: PostgresProjectionTx, text: string, values: unknown[] = []) => (await tx.query({ text, values })).rows

describe.skipIf(!available)('postgres', () => {
  asyncProjectionSuite<PostgresProjectionTx>({
    name: 'PostgreSQL',
    fresh: async () => {
      const store = stores.create()
      const init = await store.initialize()
      if (E.isLeft(init)) throw new Error(init.left.message)
      opened.push(store)
      const schema = stores.schemaOf(store)
      await stores.pool().query(`CREATE TABLE "${schema}".applied (token bigint NOT NULL, idx int NOT NULL, n int NOT NULL, PRIMARY KEY (token, idx))`)
      await stores.pool().query(`CREATE TABLE "${schema}".totals (stream text PRIMARY KEY, total bigint NOT NULL)`)
      return store
    },
    counting: (store, name, refuse = () => false) => {
      const s = `"${stores.schemaOf(store)}"`
      return postgresProjection({
        name,
        topics: testTopics,
        handlers: {
          Bumped: async (tx, event, meta) => {
            await query(tx, `INSERT INTO ${s}.applied (token, idx, n) VALUES ($1, $2, 1) ON CONFLICT (token, idx) DO UPDATE SET n = applied.n + 1`, [meta.commit.checkpointToken, meta.index])
            if (refuse(event.by)) return E.left(`refused ${event.by}`)
            await query(tx, `INSERT INTO ${s}.totals (stream, total) VALUES ($1, $2) ON CONFLICT (stream) DO UPDATE SET total = totals.total + EXCLUDED.total`, [meta.commit.streamId, event.by])
            return undefined
          },
          Noted: async () => undefined,
        },
      })
    },
    clear: async (store, tx) => {
      await query(tx, `DELETE FROM "${stores.schemaOf(store)}".applied`)
      await query(tx, `DELETE FROM "${stores.schemaOf(store)}".totals`)
    },
    applied: async (store) =>
      (await stores.pool().query(`SELECT token::int AS token, idx, n FROM "${stores.schemaOf(store)}".applied ORDER BY token, idx`)).rows as { token: number; idx: number; n: number }[],
    totals: async (store) =>
      Object.fromEntries((await stores.pool().query(`SELECT stream, total::int AS total FROM "${stores.schemaOf(store)}".totals`)).rows.map((r: { stream: string; total: number }) => [r.stream, r.total])),
  })
})

