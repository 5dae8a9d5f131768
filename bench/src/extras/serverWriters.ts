/**
 * Concurrent writers on PostgreSQL and MariaDB (issue 18 item 2: "measure first whether sending concurrent appends
 * on one pool as one statement beats the server's own group commit"). N writers in one process, each on its own
 * stream, single-event commits, one pool of `--pool` connections per contender. Contenders, in rotating order each
 * round, each on fresh tables:
 *   aett        the store with its defaults: group commit on both (`aett/postgres` with its coalesced NOTIFY and
 *               tokens of transaction id x 256 + ordinal; `aett/mysql` with its counter row)
 *   aett-1x1    the same store with `groupCommit: false` (one append statement or routine call per append)
 *   raw         the driver, one INSERT per commit (its own transaction), optimistic concurrency from a unique key
 *   raw-batch   the driver, appends made in one turn of the event loop sent as ONE multi-row INSERT (one
 *               transaction, one sync): the upper bound of batching on the client. It answers every append in a
 *               batch with the batch's outcome, so it is not a store (one conflict would fail its neighbours), only
 *               the measure of what batching could buy.
 * Prints commits/s and p50/p99 latency (ms) per contender and writer count, each round and the median.
 *
 * Standalone, not part of `npm run bench`:
 *   cd bench && ../node_modules/.bin/tsx src/extras/serverWriters.ts [--writers 1,8,32] [--seconds 10] [--rounds 3]
 *     [--pool 16] [--suites postgres,mysql] [--no-checkpoint]
 */
import * as E from 'fp-ts/lib/Either.js'
import mysql from 'mysql2/promise'
import { parseArgs } from 'node:util'
import pg from 'pg'
import type { CommitAttempt, Persistence } from '../../../src/eventstore/index.js'
import { mysqlStore } from '../../../src/mysql/index.js'
import { postgresStore } from '../../../src/postgres/index.js'
import { uniqueName } from '../suites/common.js'
import { mysqlUrl } from '../suites/mysql.js'
import { pgUrl } from '../suites/postgres.js'
import { drive, fmt, printMedians, type Append, type Result } from './writerRounds.js'

const { values } = parseArgs({
  options: {
    writers: { type: 'string', default: '1,8,32' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    pool: { type: 'string', default: '16' },
    suites: { type: 'string', default: 'postgres,mysql' },
    // PostgreSQL: a CHECKPOINT before every window, so that no contender's window pays for the WAL the one before
    // it wrote (a checkpoint falling inside a 5 s window moved a contender's rate by 2-3x between rounds).
    checkpoint: { type: 'boolean', default: true },
  },
  allowNegative: true,
})
const writerCounts = values.writers.split(',').map(Number)
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)
const poolSize = Number(values.pool)
const suites = values.suites.split(',')

interface Opened {
  readonly append: Append
  readonly close: () => Promise<void>
}
interface Contender {
  readonly name: string
  readonly open: () => Promise<Opened>
}

const body = (n: number) => JSON.stringify([{ headers: {}, body: { type: 'Incremented', n } }])

/** Collects the appends of one turn of the event loop and hands them to `write` together. */
const turnBatcher = <T>(write: (batch: readonly T[]) => Promise<void>) => {
  let open: { items: T[]; done: Promise<void> } | undefined
  return (item: T): Promise<void> => {
    if (open === undefined) {
      const batch: { items: T[]; done: Promise<void> } = { items: [], done: Promise.resolve() }
      batch.done = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        open = undefined
        return write(batch.items)
      })
      open = batch
    }
    open.items.push(item)
    return open.done
  }
}

const attempt = (streamId: string, n: number): CommitAttempt => ({
  tenantId: 'bench',
  streamId,
  streamRevision: n,
  commitId: `${streamId}-${n}`,
  commitSequence: n,
  commitStamp: new Date(),
  headers: {},
  events: [{ headers: {}, body: { type: 'Incremented', n } }],
})

const aettContender = (name: string, make: () => { store: Persistence; close: () => Promise<void> }): Contender => ({
  name,
  open: async () => {
    const { store, close } = make()
    const init = await store.initialize()
    if (E.isLeft(init)) throw new Error(init.left.message)
    return {
      append: async (streamId, n) => {
        const r = await store.commit(attempt(streamId, n))
        if (E.isLeft(r)) throw new Error(`${streamId}-${n}: ${r.left._tag}`)
      },
      close: async () => {
        await store.drop()
        await store.close()
        await close()
      },
    }
  },
})

// PostgreSQL ------------------------------------------------------------------------------------------------------

const pgPool = () => {
  const p = new pg.Pool({ connectionString: pgUrl, max: poolSize })
  p.on('error', () => undefined)
  return p
}

const pgRaw = (batched: boolean): Contender => ({
  name: batched ? 'raw-batch' : 'raw',
  open: async () => {
    const pool = pgPool()
    const schema = uniqueName('aett_writers')
    const t = `"${schema}".commits`
    await pool.query(`CREATE SCHEMA "${schema}"`)
    // The token is the writing transaction's id times 1024 plus the row's ordinal in its statement: the scheme a
    // batching store would need (one transaction, many commits), with the same gap-free horizon.
    await pool.query(`CREATE TABLE ${t} (checkpoint bigint PRIMARY KEY, tenant_id text NOT NULL, stream_id text NOT NULL,
      commit_sequence bigint NOT NULL, commit_id text NOT NULL, commit_stamp timestamptz NOT NULL, events json NOT NULL,
      UNIQUE (tenant_id, stream_id, commit_sequence), UNIQUE (tenant_id, stream_id, commit_id))`)
    const one = `INSERT INTO ${t} VALUES (pg_current_xact_id()::text::bigint * 1024, 'bench', $1, $2, $3, now(), $4::json)`
    const many = `INSERT INTO ${t} SELECT pg_current_xact_id()::text::bigint * 1024 + o, 'bench', s, q, c, now(), e::json
      FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) WITH ORDINALITY AS x(s, q, c, e, o)`
    const batch = turnBatcher<{ s: string; n: number }>(async (items) => {
      await pool.query(many, [items.map((i) => i.s), items.map((i) => i.n), items.map((i) => `${i.s}-${i.n}`), items.map((i) => body(i.n))])
    })
    return {
      append: batched
        ? (s, n) => batch({ s, n })
        : async (s, n) => void (await pool.query(one, [s, n, `${s}-${n}`, body(n)])),
      close: async () => {
        await pool.query(`DROP SCHEMA "${schema}" CASCADE`)
        await pool.end()
      },
    }
  },
})

const pgContenders: readonly Contender[] = [
  aettContender('aett', () => {
    const pool = pgPool()
    return { store: postgresStore({ pool, schema: uniqueName('aett_writers') }), close: () => pool.end() }
  }),
  // The same store with group commit off: one append statement (one transaction) per append.
  aettContender('aett-1x1', () => {
    const pool = pgPool()
    return { store: postgresStore({ pool, schema: uniqueName('aett_writers'), groupCommit: false }), close: () => pool.end() }
  }),
  pgRaw(false),
  pgRaw(true),
]

// MariaDB ---------------------------------------------------------------------------------------------------------

const myPool = () => mysql.createPool({ uri: mysqlUrl, connectionLimit: poolSize })

const myRaw = (batched: boolean): Contender => ({
  name: batched ? 'raw-batch' : 'raw',
  open: async () => {
    const pool = myPool()
    const t = uniqueName('raw_writers')
    await pool.query(`CREATE TABLE ${t} (checkpoint BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, tenant_id VARCHAR(191) NOT NULL,
      stream_id VARCHAR(191) NOT NULL, commit_sequence BIGINT NOT NULL, commit_id VARCHAR(191) NOT NULL, commit_stamp BIGINT NOT NULL,
      events LONGTEXT NOT NULL, UNIQUE KEY s (tenant_id, stream_id, commit_sequence), UNIQUE KEY c (tenant_id, stream_id, commit_id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`)
    const cols = `(tenant_id, stream_id, commit_sequence, commit_id, commit_stamp, events)`
    const row = (s: string, n: number) => ['bench', s, BigInt(n), `${s}-${n}`, BigInt(Date.now()), body(n)]
    const batch = turnBatcher<{ s: string; n: number }>(async (items) => {
      const placeholders = items.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')
      await pool.execute(`INSERT INTO ${t} ${cols} VALUES ${placeholders}`, items.flatMap((i) => row(i.s, i.n)))
    })
    return {
      append: batched
        ? (s, n) => batch({ s, n })
        : async (s, n) => void (await pool.execute(`INSERT INTO ${t} ${cols} VALUES (?, ?, ?, ?, ?, ?)`, row(s, n))),
      close: async () => {
        await pool.query(`DROP TABLE ${t}`)
        await pool.end()
      },
    }
  },
})

const myContenders: readonly Contender[] = [
  aettContender('aett', () => {
    const pool = myPool()
    return { store: mysqlStore({ pool, tablePrefix: uniqueName('aett_writers') }), close: () => pool.end() }
  }),
  // The same store with group commit off: one call of the append routine (one transaction) per append.
  aettContender('aett-1x1', () => {
    const pool = myPool()
    return { store: mysqlStore({ pool, tablePrefix: uniqueName('aett_writers'), groupCommit: false }), close: () => pool.end() }
  }),
  myRaw(false),
  myRaw(true),
]

// the run ---------------------------------------------------------------------------------------------------------

const quiet = async (suite: string): Promise<void> => {
  if (suite !== 'postgres' || !values.checkpoint) return
  const client = new pg.Client({ connectionString: pgUrl })
  await client.connect()
  await client.query('CHECKPOINT')
  await client.end()
}

const run = async (suite: string, c: Contender, writers: number): Promise<Result> => {
  await quiet(suite)
  const { append, close } = await c.open()
  return drive(append, close, writers, seconds)
}

const main = async () => {
  const all: [string, readonly Contender[]][] = [
    ['postgres', pgContenders],
    ['mysql', myContenders],
  ]
  console.log(`writers ${writerCounts.join('/')}, ${seconds} s per run, ${rounds} rotating rounds, pool ${poolSize}`)
  const results = new Map<string, Result[]>()
  for (const [suite, contenders] of all.filter(([s]) => suites.includes(s)))
    for (let round = 0; round < rounds; round++)
      for (const writers of writerCounts)
        for (let k = 0; k < contenders.length; k++) {
          const c = contenders[(k + round) % contenders.length] as Contender
          const r = await run(suite, c, writers)
          const key = `${suite.padEnd(8)} ${String(writers).padStart(2)} writers  ${c.name.padEnd(10)}`
          results.set(key, [...(results.get(key) ?? []), r])
          console.log(`round ${round + 1}  ${key}  ${fmt(r)}`)
        }
  printMedians(results)
}

await main()
