/**
 * What an inline projection costs an append (issue 15): a single-event append whose inline projection upserts one
 * row, against a plain append, on each store, in the same run. Each round appends `--appends` commits one at a time
 * through a store object without inline projections and as many through one with it (each on tables of its own),
 * the order alternating by round; the per-append time of each is the round's mean, and the answer is the median
 * over `--rounds` rounds and the ratio of the medians, against the targets (SQLite 1.3x, PostgreSQL and
 * MySQL/MariaDB 2x). Run under the shared lock:
 *
 *     cd bench && flock /tmp/aett-heavy.lock ../node_modules/.bin/tsx src/extras/inlineCost.ts [--rounds 7] [--appends 300] [--only mysql]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import type { Persistence } from '../../../src/eventstore/ports.js'
import { mysqlProjection, mysqlStore } from '../../../src/mysql/index.js'
import { postgresProjection, postgresStore } from '../../../src/postgres/index.js'
import { inlineProjection } from '../../../src/projections/index.js'
import { sqliteProjection, sqliteStore } from '../../../src/sqlite/index.js'
import { orThrow } from '../aett/contenders.js'
import { topics } from '../domain.js'
import { uniqueName } from '../suites/common.js'
import { mysqlUrl } from '../suites/mysql.js'
import { pgUrl } from '../suites/postgres.js'
import { backend, type BackendId } from './backends.js'
import { median, message, now, singleEvent } from './common.js'

/** Runs one DDL statement of the bench's own (its read model tables) on a connection of its own. */
const ddl = async (on: 'postgres' | 'mysql', sql: string): Promise<void> => {
  if (on === 'postgres') {
    const c = new pg.Client({ connectionString: pgUrl })
    await c.connect()
    try {
      await c.query(sql)
    } finally {
      await c.end()
    }
    return
  }
  const c = await mysql.createConnection({ uri: mysqlUrl })
  try {
    await c.query(sql)
  } finally {
    await c.end()
  }
}

interface Side {
  readonly store: Persistence
  readonly close: () => Promise<void>
}

interface Setup {
  readonly plain: Side
  readonly inline: Side
}

const targets: Record<BackendId, number> = { sqlite: 1.3, postgres: 2, mysql: 2 }

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`)
  return v
}
const only = ((): BackendId | undefined => {
  const i = process.argv.indexOf('--only')
  return i >= 0 ? (process.argv[i + 1] as BackendId) : undefined
})()

/** SQLite on files (WAL, synchronous=NORMAL, group commit on: the defaults of the main bench). */
const sqliteSetup = async (dir: string): Promise<Setup> => {
  const side = async (inline: boolean): Promise<Side> => {
    const filename = join(dir, `${uniqueName('inline')}.db`)
    const store = sqliteStore({ filename, synchronous: 'NORMAL' })
    orThrow('initialize sqlite', await store.initialize())
    if (inline) {
      const db = orThrow('database', await store.database())
      db.exec('CREATE TABLE counts (stream TEXT PRIMARY KEY, n INTEGER NOT NULL)')
      // Prepared once, as an application would (better-sqlite3 compiles a statement on every prepare()).
      const upsert = db.prepare('INSERT INTO counts (stream, n) VALUES (?, 1) ON CONFLICT (stream) DO UPDATE SET n = n + 1')
      const counts = sqliteProjection({
        name: 'counts',
        topics,
        handlers: {
          Deposited: (_db, _event, meta) => {
            upsert.run(meta.commit.streamId)
            return undefined
          },
        },
      })
      orThrow('inline sqlite', await inlineProjection(store, counts))
    }
    return { store, close: () => store.close() }
  }
  return { plain: await side(false), inline: await side(true) }
}

const postgresSetup = async (): Promise<Setup> => {
  const side = async (inline: boolean): Promise<Side> => {
    const schema = uniqueName('aett_inline_cost')
    const store = postgresStore({ connectionString: pgUrl, schema })
    orThrow('initialize postgres', await store.initialize())
    if (inline) {
      await ddl('postgres', `CREATE TABLE "${schema}".counts (stream text PRIMARY KEY, n bigint NOT NULL)`)
      const counts = postgresProjection({
        name: 'counts',
        topics,
        handlers: {
          Deposited: async (client, _event, meta) => {
            await client.query({
              text: `INSERT INTO "${schema}".counts (stream, n) VALUES ($1, 1) ON CONFLICT (stream) DO UPDATE SET n = counts.n + 1`,
              values: [meta.commit.streamId],
            })
            return undefined
          },
        },
      })
      orThrow('inline postgres', await inlineProjection(store, counts))
    }
    return {
      store,
      close: async () => {
        orThrow(`drop ${schema}`, await store.drop())
        await store.close()
      },
    }
  }
  return { plain: await side(false), inline: await side(true) }
}

const mysqlSetup = async (): Promise<Setup> => {
  const side = async (inline: boolean): Promise<Side> => {
    const prefix = uniqueName('aic')
    const store = mysqlStore({ uri: mysqlUrl, tablePrefix: prefix })
    orThrow('initialize mysql', await store.initialize())
    if (inline) {
      await ddl('mysql', `CREATE TABLE ${prefix}_counts (stream VARCHAR(200) PRIMARY KEY, n BIGINT NOT NULL)`)
      const counts = mysqlProjection({
        name: 'counts',
        topics,
        handlers: {
          Deposited: async (connection, _event, meta) => {
            await connection.execute(`INSERT INTO ${prefix}_counts (stream, n) VALUES (?, 1) ON DUPLICATE KEY UPDATE n = n + 1`, [meta.commit.streamId])
            return undefined
          },
        },
      })
      orThrow('inline mysql', await inlineProjection(store, counts))
    }
    return {
      store,
      close: async () => {
        orThrow(`drop ${prefix}_*`, await store.drop())
        await store.close()
        if (inline) await ddl('mysql', `DROP TABLE IF EXISTS ${prefix}_counts`)
      },
    }
  }
  return { plain: await side(false), inline: await side(true) }
}

/** Appends `n` single-event commits one at a time on fresh streams of 100 commits; the mean ms per append. */
const appendRun = async (store: Persistence, round: number, n: number): Promise<number> => {
  const t0 = now()
  for (let i = 0; i < n; i++) orThrow('append', await store.commit(singleEvent(`r${round}-${Math.floor(i / 100)}`, (i % 100) + 1)))
  return (now() - t0) / n
}

const measure = async (id: BackendId, setup: Setup, rounds: number, appends: number) => {
  // A warm-up round of each (connections, prepared statements, the files' first pages), not counted.
  await appendRun(setup.plain.store, 0, Math.min(appends, 50))
  await appendRun(setup.inline.store, 0, Math.min(appends, 50))
  const plain: number[] = []
  const inline: number[] = []
  for (let r = 1; r <= rounds; r++) {
    const order = r % 2 === 0 ? (['plain', 'inline'] as const) : (['inline', 'plain'] as const)
    for (const side of order) (side === 'plain' ? plain : inline).push(await appendRun(setup[side].store, r, appends))
  }
  const ratios = plain.map((p, i) => (inline[i] as number) / p)
  const ratio = median(inline) / median(plain)
  console.log(
    `${id.padEnd(8)} plain ${median(plain).toFixed(3)} ms/append, inline (one-row upsert) ${median(inline).toFixed(3)} ms/append: ` +
      `${ratio.toFixed(2)}x (per round ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x; target at most ${targets[id]}x: ${ratio <= targets[id] ? 'met' : 'MISSED'})`,
  )
}

const main = async (): Promise<void> => {
  const rounds = arg('rounds', 7)
  const appends = arg('appends', 300)
  console.log(`inline projection cost: ${rounds} rounds of ${appends} single-event appends per side, interleaved; medians of the rounds' means`)
  const dir = mkdtempSync(join(tmpdir(), 'aett-inline-cost-'))
  try {
    for (const id of ['sqlite', 'postgres', 'mysql'] as const) {
      if (only !== undefined && only !== id) continue
      const b = backend(id)
      const skipped = await b.probe()
      if (skipped !== undefined) {
        console.log(`${id.padEnd(8)} skipped: ${skipped}`)
        continue
      }
      console.log(`${id.padEnd(8)} ${b.describe()}`)
      let setup: Setup | undefined
      try {
        setup = id === 'sqlite' ? await sqliteSetup(dir) : id === 'postgres' ? await postgresSetup() : await mysqlSetup()
        await measure(id, setup, rounds, id === 'sqlite' ? appends * 10 : appends)
      } catch (e) {
        console.log(`${id.padEnd(8)} failed: ${message(e)}`)
        process.exitCode = 1
      } finally {
        await setup?.plain.close()
        await setup?.inline.close()
        await b.dispose()
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
