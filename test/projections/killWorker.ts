/**
 * The projecting process of the SIGKILL tests (test/projections/kill.test.ts). Usage:
 *   node --import tsx test/projections/killWorker.ts <sqlite|postgres|mysql|dynamodb> <file | schema | table prefix | json of endpoint and prefix> <log file> <json settings>
 * Runs the transactional projection `counters` (a counter per event, in the table `counters`, which the test
 * created) and appends `h <token>` to the log file for each event it handled, before the transaction commits,
 * so that the test can tell that a kill landed in the middle of a batch. Each handler call spins for `spinMs`
 * (SQLite: the handler is synchronous) or sleeps (PostgreSQL) so that a batch takes a while. With
 * `exitWhenCaughtUp` it stops cleanly once caught up and exits 0.
 *
 * On DynamoDB (no transactions) the projection is the document projection `counters` (`dynamoCounters`): one
 * document per stream holding a counter per event, written one conditional write per document and commit; `evolve`
 * logs `h <token>` and spins before the write.
 */
import { openSync, writeSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import * as E from 'fp-ts/lib/Either.js'
import { postgresProjection, postgresStore } from '../../src/postgres/index.js'
import { startProjection, type RunningProjection } from '../../src/projections/index.js'
import { sqliteProjection, sqliteStore } from '../../src/sqlite/index.js'
import { mysqlProjection, mysqlStore } from '../../src/mysql/index.js'
import { dynamoDbStore } from '../../src/dynamodb/index.js'
import { dynamoCounters } from './fixtures.js'
import { mysqlUrl, pgUrl } from '../support/services.js'
import { testTopics } from './fixtures.js'

interface Settings {
  readonly batchSize: number
  readonly spinMs: number
  readonly exitWhenCaughtUp: boolean
}

const [kind, target, logFile, settingsJson] = process.argv.slice(2) as [string, string, string, string]
const settings = JSON.parse(settingsJson) as Settings
const fd = openSync(logFile, 'a')
const log = (line: string) => void writeSync(fd, `${line}\n`)
const fail = (what: string): never => {
  process.stderr.write(`projection worker: ${what}\n`)
  process.exit(1)
}
const spin = (ms: number) => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    // Busy on purpose: a synchronous handler that takes a while, so that a kill lands inside its transaction.
  }
}
const options = { batchSize: settings.batchSize, pollMs: 20, leaseTtlMs: 1_000, standbyPollMs: 50, retry: { attempts: 3, initialDelayMs: 10 } }

const run = async (): Promise<{ running: RunningProjection; close: () => Promise<void> }> => {
  if (kind === 'sqlite') {
    const store = sqliteStore({ filename: target, busyRetries: 50 })
    const init = await store.initialize()
    if (E.isLeft(init)) return fail(init.left.message)
    const projection = sqliteProjection({
      name: 'counters',
      topics: testTopics,
      handlers: {
        Bumped: (tx, _event, meta) => {
          log(`h ${meta.commit.checkpointToken}`)
          tx.prepare('INSERT INTO counters (token, idx, n) VALUES (?, ?, 1) ON CONFLICT (token, idx) DO UPDATE SET n = n + 1').run(meta.commit.checkpointToken, meta.index)
          spin(settings.spinMs)
          return undefined
        },
        Noted: () => undefined,
      },
    })
    const running = startProjection(store, projection, options)
    if (E.isLeft(running)) return fail(running.left.message)
    return { running: running.right, close: () => store.close() }
  }
  if (kind === 'dynamodb') {
    const { endpoint, prefix } = JSON.parse(target) as { endpoint: string; prefix: string }
    const store = dynamoDbStore({ clientConfig: { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }, tables: { prefix } })
    const projection = dynamoCounters((token) => {
      log(`h ${token}`)
      spin(settings.spinMs)
    })
    const running = startProjection(store, projection, options)
    if (E.isLeft(running)) return fail(running.left.message)
    return { running: running.right, close: () => store.close() }
  }
  if (kind === 'mysql') {
    const store = mysqlStore({ uri: mysqlUrl, tablePrefix: target, connectionLimit: 2 })
    const init = await store.initialize()
    if (E.isLeft(init)) return fail(init.left.message)
    const projection = mysqlProjection({
      name: 'counters',
      topics: testTopics,
      handlers: {
        Bumped: async (tx, _event, meta) => {
          log(`h ${meta.commit.checkpointToken}`)
          await tx.execute(`INSERT INTO \`${target}_counters\` (token, idx, n) VALUES (?, ?, 1) ON DUPLICATE KEY UPDATE n = n + 1`, [meta.commit.checkpointToken, meta.index])
          await sleep(settings.spinMs)
          return undefined
        },
        Noted: async () => undefined,
      },
    })
    const running = startProjection(store, projection, options)
    if (E.isLeft(running)) return fail(running.left.message)
    return { running: running.right, close: () => store.close() }
  }
  const store = postgresStore({ connectionString: pgUrl, schema: target, poolSize: 2 })
  const init = await store.initialize()
  if (E.isLeft(init)) return fail(init.left.message)
  const projection = postgresProjection({
    name: 'counters',
    topics: testTopics,
    handlers: {
      Bumped: async (tx, _event, meta) => {
        log(`h ${meta.commit.checkpointToken}`)
        await tx.query({
          text: `INSERT INTO "${target}".counters (token, idx, n) VALUES ($1, $2, 1) ON CONFLICT (token, idx) DO UPDATE SET n = counters.n + 1`,
          values: [meta.commit.checkpointToken, meta.index],
        })
        await sleep(settings.spinMs)
        return undefined
      },
      Noted: async () => undefined,
    },
  })
  const running = startProjection(store, projection, options)
  if (E.isLeft(running)) return fail(running.left.message)
  return { running: running.right, close: () => store.close() }
}

const main = async () => {
  const { running, close } = await run()
  log('ready')
  if (!settings.exitWhenCaughtUp) return
  const caught = await running.caughtUp()
  if (E.isLeft(caught)) return fail(`caughtUp: ${JSON.stringify(caught.left)}`)
  await running.stop()
  await close()
  log('done')
  process.exit(0)
}

void main()
