import type Database from 'better-sqlite3'
import { initialAccount, TENANT, type Account } from '../domain.js'
import type { Contender } from '../harness/types.js'
import type { RawContenders } from '../suites/standard.js'
import { commitPayload, eventsIn, foldPayload } from './commitRows.js'

type Db = Database.Database

/**
 * The raw better-sqlite3 baseline: the contract's layout (one row per commit, unique sequence and commit id per
 * stream, a global autoincrement checkpoint) written and read by hand with prepared statements.
 */
export const createRawSqlite = (db: Db): RawContenders => {
  db.exec(`CREATE TABLE IF NOT EXISTS raw_commits (
    checkpoint INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL, stream_id TEXT NOT NULL, stream_revision INTEGER NOT NULL, items INTEGER NOT NULL,
    commit_id TEXT NOT NULL, commit_sequence INTEGER NOT NULL, commit_stamp INTEGER NOT NULL, payload TEXT NOT NULL)`)
  db.exec('CREATE UNIQUE INDEX IF NOT EXISTS raw_commits_seq ON raw_commits (tenant_id, stream_id, commit_sequence)')
  db.exec('CREATE UNIQUE INDEX IF NOT EXISTS raw_commits_id ON raw_commits (tenant_id, stream_id, commit_id)')
  const head = db
    .prepare(
      'SELECT commit_sequence, stream_revision FROM raw_commits WHERE tenant_id = ? AND stream_id = ? ORDER BY commit_sequence DESC LIMIT 1',
    )
    .raw(true)
  const insert = db.prepare(
    `INSERT INTO raw_commits (tenant_id, stream_id, stream_revision, items, commit_id, commit_sequence, commit_stamp, payload)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const stream = db.prepare('SELECT payload FROM raw_commits WHERE tenant_id = ? AND stream_id = ? ORDER BY commit_sequence').pluck(true)
  const page = db.prepare('SELECT checkpoint, payload FROM raw_commits WHERE checkpoint > ? ORDER BY checkpoint LIMIT ?').raw(true)
  const begin = db.prepare('BEGIN IMMEDIATE')
  const commitTx = db.prepare('COMMIT')

  /** One transaction: read the head, refuse if it moved, insert one row. */
  const append = (streamId: string, sequence: number, revision: number, count: number): void => {
    begin.run()
    try {
      const h = head.get(TENANT, streamId) as [number, number] | undefined
      if ((h?.[0] ?? 0) !== sequence - 1 || (h?.[1] ?? 0) !== revision - count) throw new Error(`raw sqlite: conflict on ${streamId}`)
      insert.run(TENANT, streamId, revision, count, crypto.randomUUID(), sequence, Date.now(), commitPayload(streamId, revision - count + 1, count))
      commitTx.run()
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK')
      throw e
    }
  }

  const fold = (streamId: string): Account => {
    let s = initialAccount
    for (const payload of stream.iterate(TENANT, streamId) as IterableIterator<string>) s = foldPayload(s, payload)
    return s
  }

  return {
    fold: (streamId: string, events: number): Contender => ({
      library: 'raw',
      run: async () => {
        const s = fold(streamId)
        if (s.deposits !== events) throw new Error(`raw sqlite folded ${s.deposits} events, expected ${events}`)
      },
    }),
    appendSingles: (n: number, prefix: string): Contender => ({
      library: 'raw',
      run: async (round) => {
        for (let i = 1; i <= n; i++) append(`${prefix}-${round}`, i, i, 1)
      },
    }),
    appendBatch: (n: number, prefix: string): Contender => ({
      library: 'raw',
      run: async (round) => append(`${prefix}-${round}`, 1, n, n),
    }),
    seedStream: (streamId: string, events: number, perCommit: number): void => {
      for (let seq = 1; seq * perCommit <= events; seq++) append(streamId, seq, seq * perCommit, perCommit)
    },
    seedLog: (prefix: string, commits: number, perCommit: number): void => {
      for (let i = 0; i < commits; i++) {
        const seq = Math.floor(i / 100) + 1
        append(`${prefix}-${i % 100}`, seq, seq * perCommit, perCommit)
      }
    },
    /** Load (select + parse + fold), decide, append: a command handler by hand. */
    commands: (n: number, streams: number, prefix: string): Contender => ({
      library: 'raw',
      run: async (round) => {
        for (let i = 0; i < n; i++) {
          const streamId = `${prefix}-${round}-${i % streams}`
          // One event per commit here, so the state's count is both the next sequence and the next revision.
          const version = fold(streamId).deposits + 1
          append(streamId, version, version, 1)
        }
      },
    }),
    readLog: (events: number, pageSize: number): Contender => ({
      library: 'raw',
      run: async () => {
        let seen = 0
        let after = 0
        for (;;) {
          const rows = page.all(after, pageSize) as [number, string][]
          for (const [, payload] of rows) seen += eventsIn(payload)
          const last = rows[rows.length - 1]
          if (last === undefined || rows.length < pageSize) break
          after = last[0]
        }
        if (seen !== events) throw new Error(`raw global read saw ${seen} events, expected ${events}`)
      },
    }),
  }
}
