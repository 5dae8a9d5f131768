import mysql from 'mysql2/promise'
import pg from 'pg'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Persistence } from '../../src/eventstore/index.js'
import { mysqlStore } from '../../src/mysql/index.js'
import { sqliteStore } from '../../src/sqlite/index.js'
import { startDynalite, type Dynalite } from '../dynamodb/server.js'
import { mysqlUp as mysqlAvailable, postgresUp } from '../support/serverProbes.js'
import { mysqlUrl, pgUrl, uniqueName } from '../support/services.js'
import { seed } from './fixtures/seed.js'
import { aett, configPath, lines, logOf, portable, rightOf, scratchDir, useBuiltBin, type Run } from './support.js'

/**
 * The bin against the database servers, as a user runs it: every verb's output and exit code on PostgreSQL and
 * MariaDB (each in a schema or table prefix of its own, removed afterwards), and the move a user makes with
 * export and import: SQLite -> PostgreSQL -> MariaDB -> DynamoDB (dynalite) -> SQLite, after which the log reads
 * back equal (ids, stamps, headers, events, order). A server that does not answer is left out of the chain (and
 * its verbs skipped, loudly; a failure under AETT_REQUIRE_SERVICES=1).
 */
const pgUp = await postgresUp()
const mysqlUp = await mysqlAvailable()

useBuiltBin()
const dir = scratchDir()
const withParam = (url: string, name: string, value: string): string => {
  const u = new URL(url)
  u.searchParams.set(name, value)
  return u.toString()
}
const schema = uniqueName('aett_cli')
const missingSchema = uniqueName('aett_cli_none')
const prefix = uniqueName('cli')
const missingPrefix = uniqueName('none')
const PG = withParam(pgUrl, 'schema', schema)
const MY = withParam(mysqlUrl, 'prefix', prefix)
const source = join(dir, 'source.db')
const target = join(dir, 'target.db')
const awsEnv = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' }

let dynalite: Dynalite
let DY: string
let expected: ReturnType<typeof portable>[]

beforeAll(async () => {
  dynalite = await startDynalite()
  DY = `dynamodb://us-east-1?endpoint=${encodeURIComponent(dynalite.endpoint)}&tables=${uniqueName('cli')}_`
  const store = sqliteStore({ filename: source })
  rightOf(await store.initialize())
  await seed(store)
  expected = (await logOf(store)).map(portable)
  await store.close()
})

afterAll(async () => {
  await dynalite?.close()
  if (pgUp) {
    const c = new pg.Client({ connectionString: pgUrl })
    await c.connect()
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await c.query(`DROP SCHEMA IF EXISTS "${missingSchema}" CASCADE`)
    await c.end()
  }
  if (mysqlUp) {
    const s: Persistence = mysqlStore({ uri: mysqlUrl, tablePrefix: prefix })
    await s.drop()
    await s.close()
  }
})

const oneLine = (r: Run): string => {
  expect(lines(r.stderr), r.stderr).toHaveLength(1)
  return r.stderr.trim()
}

/** Export from one store into a file, import the file into the next (creating its schema). */
const hop = async (from: string, to: string, file: string, env: Record<string, string> = {}): Promise<string> => {
  const exported = await aett(['export', '-s', from, '-o', file], { env })
  expect(exported.code, exported.stderr).toBe(0)
  const imported = await aett(['import', file, '-s', to, '--init'], { env })
  expect(imported.code, imported.stderr).toBe(0)
  expect(imported.stderr).toMatch(new RegExp(`^imported ${expected.length} commits \\(20 events\\) into `))
  return readFileSync(file, 'utf8')
}

/** Every verb on a server store that holds the seeded log. */
const verbsOn = async (url: string, label: string, missingUrl: string, downUrl: string) => {
  const C = ['-c', configPath]
  const [streams, tenants, show, tail, replay, check, status, parked, noStream, noSchema, down] = await Promise.all([
    aett(['streams', '-s', url]),
    aett(['tenants', '-s', url]),
    aett(['show', 'acc-1', '-s', url]),
    aett(['tail', '-s', url, '-n', '2', '--json']),
    aett(['replay', 'acc-1', '-s', url, ...C, '--to', '2']),
    aett(['check', '-s', url, ...C]),
    aett(['subscriptions', 'status', 'audit', '-s', url]),
    aett(['subscriptions', 'parked', 'audit', '-s', url]),
    aett(['show', 'nope', '-s', url]),
    aett(['streams', '-s', missingUrl]),
    aett(['tenants', '-s', downUrl]),
  ])
  expect(streams.code).toBe(0)
  expect(streams.stdout).toMatch(/default\s+acc-1\s+3\s+3\s+2026-01-01T00:02:00\.000Z/)
  expect(streams.stdout).toContain('10 streams in 2 tenants')
  expect(tenants.stdout.split('\n').filter(Boolean).sort()).toEqual(['default', 'other'])
  expect(show.stdout).toContain('stream acc-1 (tenant default): 3 commits, 3 events, revision 3')
  const tailed = lines(tail.stdout).map((l) => JSON.parse(l) as { streamId: string; checkpointToken: number })
  expect(tailed.map((c) => c.streamId)).toEqual(['acc-8', 'acc-8'])
  expect(tailed[0]!.checkpointToken).toBeLessThan(tailed[1]!.checkpointToken)
  expect(replay.stdout).toBe('stream acc-1 (tenant default) at version 2 of 3:\n{\n  "owner": "ann",\n  "balance": 10,\n  "movements": 1\n}\n')
  expect([check.code, lines(check.stdout).pop()]).toEqual([0, `checked 20 events in ${expected.length} commits: every event decodes`])
  expect(status.stdout).toMatch(
    new RegExp(`^NAME\\s+CHECKPOINT\\s+HEAD\\s+LAG\\s+OLDEST UNHANDLED\\s+PARKED\\s+LEASE\naudit\\s+never ran\\s+\\d+\\s+${expected.length}\\s+2026-01-01T00:00:00\\.000Z\\s+0\\s+none\n$`),
  )
  expect(parked.stdout).toBe('no commits parked for audit\n')
  expect([noStream.code, oneLine(noStream)]).toEqual([1, `aett: no stream "nope" in tenant "default" of ${label}`])
  expect(noSchema.code).toBe(1)
  expect(oneLine(noSchema)).toMatch(/the aett schema is missing or older than this release \(.*\); run `aett migrate` on this store first$/)
  expect(down.code).toBe(1)
  expect(oneLine(down)).toMatch(/: cannot connect: connect ECONNREFUSED 127\.0\.0\.1:1$/)

  // The write verbs: migrate (a no-op on a store that is up to date) and a reset of a subscription.
  const [migrate, reset] = await Promise.all([aett(['migrate', '-s', url]), aett(['subscriptions', 'reset', 'audit', '--to', 'end', '-s', url])])
  expect([migrate.code, migrate.stdout]).toEqual([0, `${label}: schema created or brought up to date\n`])
  expect([reset.code, reset.stdout]).toEqual([0, `subscription audit: checkpoint set to token ${tailed[1]!.checkpointToken}\n`])
}

describe('aett on the servers, and export/import from one kind of store to the next', () => {
  const chain = [
    { url: () => `sqlite:${source}`, name: 'sqlite' },
    ...(pgUp ? [{ url: () => PG, name: 'postgres' }] : []),
    ...(mysqlUp ? [{ url: () => MY, name: 'mysql' }] : []),
    { url: () => DY, name: 'dynamodb' },
    { url: () => `sqlite:${target}`, name: 'sqlite (target)' },
  ]

  it(`moves the log ${chain.map((c) => c.name).join(' -> ')}, and it reads back equal`, { timeout: 180_000 }, async () => {
    const exports: string[] = []
    for (let i = 0; i + 1 < chain.length; i++) {
      const from = chain[i]!
      const to = chain[i + 1]!
      exports.push(await hop(from.url(), to.url(), join(dir, `${i}-${from.name}.ndjson`), awsEnv))
      if (to.name === 'postgres') await verbsOn(PG, `postgres ${new URL(pgUrl).host}${new URL(pgUrl).pathname} schema ${schema}`, withParam(pgUrl, 'schema', missingSchema), PG.replace(/:\d+\//, ':1/'))
      if (to.name === 'mysql') await verbsOn(MY, `mysql ${new URL(mysqlUrl).host}${new URL(mysqlUrl).pathname} prefix ${prefix}`, withParam(mysqlUrl, 'prefix', missingPrefix), MY.replace(/:\d+\//, ':1/'))
    }
    // Every export lists the same commits in the same order (tokens are each store's own, ascending).
    for (const text of exports) {
      const commits = lines(text).map((l) => JSON.parse(l) as Record<string, unknown> & { checkpointToken: number })
      expect(commits.map(({ checkpointToken: _, ...c }) => c)).toEqual(expected)
      const tokens = commits.map((c) => c.checkpointToken)
      expect(tokens).toEqual([...tokens].sort((a, b) => a - b))
    }
    const store = sqliteStore({ filename: target })
    expect((await logOf(store)).map(portable)).toEqual(expected)
    await store.close()

    // Read verbs never migrate: the schema and the prefix they were pointed at do not exist.
    if (pgUp) {
      const c = new pg.Client({ connectionString: pgUrl })
      await c.connect()
      expect((await c.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [missingSchema])).rows).toEqual([])
      await c.end()
    }
    if (mysqlUp) {
      const c = await mysql.createConnection({ uri: mysqlUrl })
      const [rows] = await c.query(`SHOW TABLES LIKE '${missingPrefix}%'`)
      await c.end()
      expect(rows).toEqual([])
    }
  })
})
