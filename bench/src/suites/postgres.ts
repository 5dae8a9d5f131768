import pg from 'pg'
import type { Persistence } from '../../../src/eventstore/ports.js'
import { postgresStore } from '../../../src/postgres/index.js'
import { orThrow } from '../aett/contenders.js'
import { loadEmmett } from '../emmett/load.js'
import type { EmmettStore } from '../emmett/types.js'
import type { Suite } from '../harness/types.js'
import { createRawPostgres } from '../raw/postgres.js'
import type { Sizes } from '../sizes.js'
import { uniqueName } from './common.js'
import { standardScenarios } from './standard.js'

export const pgUrl = process.env['AETT_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

const withDatabase = (url: string, database: string): string => {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

/**
 * PostgreSQL: a fresh database per run (Emmett's tables are unqualified, so a database is what isolates it),
 * aett and the raw baseline in schemas of their own inside it; the database is dropped at the end.
 */
export const postgresSuite = (sizes: Sizes): Suite => {
  const database = uniqueName('aett_bench')
  const url = withDatabase(pgUrl, database)
  let admin: pg.Client | undefined
  let created = false
  let aett: Persistence | undefined
  let emmett: EmmettStore | undefined
  let rawPool: pg.Pool | undefined
  const notes: string[] = []
  return {
    id: 'postgres',
    title: 'PostgreSQL',
    notes,
    open: async () => {
      admin = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 3000 })
      admin.on('error', () => undefined)
      try {
        await admin.connect()
      } catch (e) {
        admin = undefined
        return { skipped: `PostgreSQL unreachable at ${pgUrl}: ${e instanceof Error ? e.message : String(e)}` }
      }
      const settings = await admin.query<{ version: string; sc: string }>(
        "SELECT current_setting('server_version') AS version, current_setting('synchronous_commit') AS sc",
      )
      const s = settings.rows[0]
      await admin.query(`CREATE DATABASE "${database}"`)
      created = true
      notes.push(
        `PostgreSQL ${s?.version ?? '?'} on the same machine (loopback TCP), synchronous_commit=${s?.sc ?? '?'} for every contender; a fresh database per run.`,
        'aett: `aett/postgres` (its own pg pool). raw: a pg pool, one row per commit, one `INSERT` per append (optimistic ' +
          'concurrency from the unique constraints, the transaction id as checkpoint), keyset pages below `pg_snapshot_xmin`.',
      )
      aett = postgresStore({ connectionString: url, schema: 'aett', pageSize: sizes.pageSize })
      orThrow('initialize aett postgres', await aett.initialize())
      rawPool = new pg.Pool({ connectionString: url })
      // Other suites on this machine may restart or kill backends; an idle client's error must not crash the run.
      rawPool.on('error', () => undefined)
      const raw = await createRawPostgres(rawPool, 'raw')
      const modules = await loadEmmett()
      if ('missing' in modules) notes.push(`Emmett: ${modules.missing}.`)
      else {
        emmett = await modules.postgres.openEmmettPostgres(url)
        notes.push('Emmett: `@event-driven-io/emmett-postgresql` 0.42.0 (pg pool through dumbo 0.12.7) in the `public` schema.')
      }
      return {
        scenarios: standardScenarios({
          id: 'postgres',
          label: 'PostgreSQL',
          shortLabel: 'PostgreSQL',
          sizes,
          aett,
          emmett: emmett ?? ('missing' in modules ? modules.missing : 'n/a'),
          raw,
          reads: true,
        }),
      }
    },
    close: async () => {
      await aett?.close()
      await emmett?.close()
      await rawPool?.end()
      if (admin !== undefined) {
        if (created) {
          // Emmett's close does not wait for its pools' sockets to go; dropping a database under an idle
          // client of theirs would crash the process with an unhandled pool error, so wait for them first.
          for (let i = 0; i < 50; i++) {
            const left = await admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [database])
            if (left.rows[0]?.n === 0) break
            await new Promise((r) => setTimeout(r, 100))
          }
          await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
        }
        await admin.end()
      }
    },
  }
}
