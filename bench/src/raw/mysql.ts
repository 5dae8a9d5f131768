import type { Pool } from 'mysql2/promise'
import { evolveAccount, initialAccount, TENANT, type Account } from '../domain.js'
import type { Contender } from '../harness/types.js'
import type { RawContenders } from '../suites/standard.js'
import { eventsIn, eventsJson, rawScenarios } from './commitRows.js'

interface Row {
  readonly events: string
}

/**
 * The raw mysql2 baseline: one row per commit, optimistic concurrency from a unique key on (tenant, stream,
 * sequence), an auto-increment checkpoint; one `INSERT` per append. It is the driver's limit, not an
 * equivalent store: auto-increment values are not handed out in commit order, so its global read could skip
 * a commit still in flight (aett pays for a checkpoint counter to guarantee that, see docs/stores.md).
 */
export const createRawMysql = async (pool: Pool): Promise<RawContenders> => {
  await pool.query(`CREATE TABLE raw_commits (
    checkpoint BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    tenant_id VARCHAR(191) NOT NULL, stream_id VARCHAR(191) NOT NULL, stream_revision BIGINT NOT NULL, event_count INT NOT NULL,
    commit_id VARCHAR(191) NOT NULL, commit_sequence BIGINT NOT NULL, commit_stamp BIGINT NOT NULL, headers LONGTEXT NOT NULL, events LONGTEXT NOT NULL,
    UNIQUE KEY raw_seq (tenant_id, stream_id, commit_sequence), UNIQUE KEY raw_id (tenant_id, stream_id, commit_id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`)
  const insert = `INSERT INTO raw_commits (tenant_id, stream_id, stream_revision, event_count, commit_id, commit_sequence, commit_stamp, headers, events)
    VALUES (?, ?, ?, ?, ?, ?, ?, '{}', ?)`

  const append = async (streamId: string, sequence: number, revision: number, count: number): Promise<void> => {
    await pool.query(insert, [TENANT, streamId, revision, count, crypto.randomUUID(), sequence, Date.now(), eventsJson(streamId, revision - count + 1, count)])
  }

  const fold = async (streamId: string): Promise<Account> => {
    const [rows] = await pool.query('SELECT events FROM raw_commits WHERE tenant_id = ? AND stream_id = ? ORDER BY commit_sequence', [TENANT, streamId])
    let s = initialAccount
    for (const row of rows as Row[]) for (const e of JSON.parse(row.events) as { body: { amount: number } }[]) s = evolveAccount(s, e.body)
    return s
  }

  return {
    ...rawScenarios({ name: 'mysql', via: 'INSERT', append, fold }),
    readLog: (events: number, pageSize: number): Contender => ({
      library: 'raw',
      run: async () => {
        let seen = 0
        let after = 0
        for (;;) {
          const [rows] = await pool.query('SELECT checkpoint, events FROM raw_commits WHERE checkpoint > ? ORDER BY checkpoint LIMIT ?', [after, pageSize])
          const page = rows as { checkpoint: number; events: string }[]
          for (const row of page) seen += eventsIn(`{"events":${row.events}}`)
          const last = page[page.length - 1]
          if (last === undefined || page.length < pageSize) break
          after = last.checkpoint
        }
        if (seen !== events) throw new Error(`raw mysql global read saw ${seen} events, expected ${events}`)
      },
    }),
  }
}
