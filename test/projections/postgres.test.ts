import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { postgresProjection, type PostgresProjectionTx, type PostgresStore } from '../../src/postgres/index.js'
import { pgAvailable, pgStores } from '../postgres/support.js'
import { asyncProjectionSuite } from './asyncSuite.js'
import { startProjection } from '../../src/projections/index.js'
import { logTokens, must, testTopics, writeCommits } from './fixtures.js'

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

describe.skipIf(!available)('postgres: a handler that swallows a failed statement', () => {
  it('does not move the checkpoint over a batch PostgreSQL rolled back: the batch is run again and every event applied once', async () => {
    // Given a log, and a projection whose handler, on its first call, runs a failing statement and ignores the error
    const store = stores.create()
    must(await store.initialize())
    opened.push(store)
    const s = `"${stores.schemaOf(store)}"`
    await stores.pool().query(`CREATE TABLE ${s}.applied (token bigint NOT NULL, idx int NOT NULL, n int NOT NULL, PRIMARY KEY (token, idx))`)
    const written = await writeCommits(store, 3, 2, 100)
    let swallow = 1
    const projection = postgresProjection({
      name: 'swallowing',
      topics: testTopics,
      handlers: {
        Bumped: async (tx, _event, meta) => {
          if (swallow > 0) {
            swallow--
            await tx.query({ text: 'SELECT 1 / 0' }).catch(() => undefined)
          }
          await query(tx, `INSERT INTO ${s}.applied (token, idx, n) VALUES ($1, $2, 1) ON CONFLICT (token, idx) DO UPDATE SET n = applied.n + 1`, [meta.commit.checkpointToken, meta.index]).catch(() => undefined)
          return undefined
        },
        Noted: async () => undefined,
      },
    })
    // When it catches up
    const running = must(startProjection(store, projection, { pollMs: 20, leaseTtlMs: 3_000, retry: { attempts: 3, initialDelayMs: 5 } }))
    expect(E.isRight(await running.caughtUp())).toBe(true)
    await running.stop()
    // Then the rolled-back batch was run again: every event of the log is applied exactly once
    const tokens = await logTokens(store)
    expect(tokens).toEqual(written.map((c) => c.checkpointToken))
    const applied = (await stores.pool().query(`SELECT token::int AS token, idx, n FROM ${s}.applied ORDER BY token, idx`)).rows
    expect(applied).toEqual(tokens.map((token) => ({ token, idx: 0, n: 1 })))
  })
})
