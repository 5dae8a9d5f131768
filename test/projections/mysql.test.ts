import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe } from 'vitest'
import { mysqlProjection, mysqlStore, type MysqlProjectionTx, type MysqlStore } from '../../src/mysql/index.js'
import { mysqlUrl } from '../support/services.js'
import { freshPrefix, mysqlAvailable, testPool } from '../mysql/support.js'
import { asyncProjectionSuite, type AsyncStore } from './asyncSuite.js'
import { testTopics } from './fixtures.js'

const available = await mysqlAvailable()
const pool = available ? testPool() : undefined
const opened: { store: MysqlStore; prefix: string }[] = []
afterAll(async () => {
  for (const { store, prefix } of opened) {
    await store.drop()
    await store.close()
    await pool?.query(`DROP TABLE IF EXISTS ${prefix}_applied, ${prefix}_totals`)
  }
  await pool?.end()
})

const prefixOf = (store: AsyncStore<MysqlProjectionTx>): string => opened.find((o) => o.store === store)?.prefix ?? 'none'
const rows = async (sql: string) => ((await (pool as NonNullable<typeof pool>).query(sql)) as unknown as [Record<string, unknown>[]])[0]

describe.skipIf(!available)('mysql', () => {
  asyncProjectionSuite<MysqlProjectionTx>({
    name: 'MySQL/MariaDB',
    fresh: async () => {
      const prefix = freshPrefix()
      const store = mysqlStore({ uri: mysqlUrl, tablePrefix: prefix, connectionLimit: 4 })
      const init = await store.initialize()
      if (E.isLeft(init)) throw new Error(init.left.message)
      opened.push({ store, prefix })
      await pool?.query(`CREATE TABLE ${prefix}_applied (token BIGINT NOT NULL, idx INT NOT NULL, n INT NOT NULL, PRIMARY KEY (token, idx))`)
      await pool?.query(`CREATE TABLE ${prefix}_totals (stream VARCHAR(200) PRIMARY KEY, total BIGINT NOT NULL)`)
      return store
    },
    counting: (store, name, refuse = () => false) => {
      const p = prefixOf(store)
      return mysqlProjection({
        name,
        topics: testTopics,
        handlers: {
          Bumped: async (tx, event, meta) => {
            await tx.execute(`INSERT INTO ${p}_applied (token, idx, n) VALUES (?, ?, 1) ON DUPLICATE KEY UPDATE n = n + 1`, [meta.commit.checkpointToken, meta.index])
            if (refuse(event.by)) return E.left(`refused ${event.by}`)
            await tx.execute(`INSERT INTO ${p}_totals (stream, total) VALUES (?, ?) ON DUPLICATE KEY UPDATE total = total + VALUES(total)`, [meta.commit.streamId, event.by])
            return undefined
          },
          Noted: async () => undefined,
        },
      })
    },
    clear: async (store, tx) => {
      await tx.execute(`DELETE FROM ${prefixOf(store)}_applied`)
      await tx.execute(`DELETE FROM ${prefixOf(store)}_totals`)
    },
    applied: async (store) =>
      (await rows(`SELECT token, idx, n FROM ${prefixOf(store)}_applied ORDER BY token, idx`)).map((r) => ({ token: Number(r['token']), idx: Number(r['idx']), n: Number(r['n']) })),
    totals: async (store) => Object.fromEntries((await rows(`SELECT stream, total FROM ${prefixOf(store)}_totals`)).map((r) => [r['stream'], Number(r['total'])])),
  })
})
