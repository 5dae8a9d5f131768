import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Persistence } from '../../../src/eventstore/ports.js'
import { sqliteStore } from '../../../src/sqlite/index.js'
import { appendSingles, orThrow } from '../aett/contenders.js'
import { loadEmmett } from '../emmett/load.js'
import type { EmmettStore } from '../emmett/types.js'
import type { Suite } from '../harness/types.js'
import { createRawSqlite } from '../raw/sqlite.js'
import { count, type Sizes } from '../sizes.js'
import { scenario } from './common.js'
import { standardScenarios } from './standard.js'

export type SqliteMode = 'FULL' | 'NORMAL'

/**
 * SQLite on files in a temporary directory (one file per library, same disk), every connection in WAL journal
 * mode with the given `synchronous`. Reads do not depend on `synchronous`, so only the NORMAL suite reads.
 */
export const sqliteSuite = (sizes: Sizes, mode: SqliteMode): Suite => {
  const id = `sqlite-wal-${mode.toLowerCase()}`
  const label = `SQLite (WAL, synchronous=${mode})`
  let dir: string | undefined
  let aett: Persistence | undefined
  let emmett: EmmettStore | undefined
  let raw: Database.Database | undefined
  const notes = [
    `journal_mode=WAL, synchronous=${mode} on every connection; one file per library in the same temporary directory.`,
    'aett: `aett/sqlite` on better-sqlite3 12.11.1, opening the file itself with `synchronous` set. ' +
      'raw: better-sqlite3 with prepared statements, one row per commit; an append is `BEGIN IMMEDIATE`, a head check, one insert, `COMMIT`.',
  ]
  return {
    id,
    title: label,
    notes,
    open: async () => {
      dir = mkdtempSync(join(tmpdir(), 'aett-bench-'))
      aett = sqliteStore({ filename: join(dir, 'aett.db'), synchronous: mode, pageSize: sizes.pageSize })
      orThrow('initialize aett sqlite', await aett.initialize())
      raw = new Database(join(dir, 'raw.db'))
      raw.pragma('journal_mode = WAL')
      raw.pragma(`synchronous = ${mode}`)
      const modules = await loadEmmett()
      if ('missing' in modules) notes.push(`Emmett: ${modules.missing}.`)
      else {
        emmett = await modules.sqlite.openEmmettSqlite(join(dir, 'emmett.db'), mode)
        notes.push(
          'Emmett: `@event-driven-io/emmett-sqlite` 0.42.4 on node-sqlite3 5.1.7, handed one long-lived connection on which ' +
            `the bench sets \`synchronous=${mode}\`. Emmett has no durability option: left alone it opens a new connection ` +
            'per operation, sets WAL on it and keeps the driver default (`synchronous=FULL`).',
        )
      }
      const scenarios = standardScenarios({
        id,
        label,
        shortLabel: label,
        sizes,
        aett,
        emmett: emmett ?? ('missing' in modules ? modules.missing : 'n/a'),
        raw: createRawSqlite(raw),
        // Reads never sync, so they run once, in the NORMAL suite, where seeding 10,000 appends per library
        // does not wait for 30,000 fsyncs.
        reads: mode === 'NORMAL',
      })
      if (mode === 'FULL' && !('missing' in modules)) {
        // Emmett out of the box opens a connection per operation; one row shows what that costs.
        const plain = await modules.sqlite.openEmmettSqliteDefault(join(dir, 'emmett-default.db'))
        scenarios.push(
          scenario(
            {
              id: `${id}/append-single-emmett-default`,
              title: `${count(sizes.appends)} single-event appends, Emmett as configured by default (a connection per operation), ${label}`,
              unit: 'ops',
              operations: sizes.appends,
            },
            {
              aett: appendSingles(aett, sizes.appends, 'single-d'),
              emmett: { ...plain.appendSingles(sizes.appends, 'single-d'), via: 'appendToStream (default pool)' },
              raw: createRawSqlite(raw).appendSingles(sizes.appends, 'single-d'),
            },
          ),
        )
      }
      return { scenarios }
    },
    close: async () => {
      await aett?.close()
      await emmett?.close()
      raw?.close()
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
    },
  }
}
