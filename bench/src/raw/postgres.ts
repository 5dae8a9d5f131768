import type pg from 'pg'
import { evolveAccount, initialAccount, TENANT, type Account } from '../domain.js'
import type { Contender } from '../harness/types.js'
import type { RawContenders } from '../suites/standard.js'
import { eventsJson, rawScenarios } from './commitRows.js'

interface EventsColumn {
  readonly events: readonly { readonly body: { readonly amount: number } }[]
}

/**
 * The raw pg baseline: one row per commit in a schema of its own, optimistic concurrency from the unique
 * constraint on (tenant, stream, sequence), the writing transaction's id as the checkpoint so that a global
 * read can stay below the oldest transaction in flight. One `INSERT` per append: one round trip.
 */
export const createRawPostgres = async (pool: pg.Pool, schema: string): Promise<RawContenders> => {
  const t = `"${schema}".commits`
  await pool.query(`CREATE SCHEMA "${schema}"`)
  await pool.query(`CREATE TABLE ${t} (
    checkpoint bigint PRIMARY KEY, tenant_id text NOT NULL, stream_id text NOT NULL, stream_revision bigint NOT NULL,
    event_count integer NOT NULL, commit_id text NOT NULL, commit_sequence bigint NOT NULL, commit_stamp timestamptz NOT NULL,
    headers json NOT NULL, events json NOT NULL,
    UNIQUE (tenant_id, stream_id, commit_sequence), UNIQUE (tenant_id, stream_id, commit_id))`)
  const insert = `INSERT INTO ${t} (checkpoint, tenant_id, stream_id, stream_revision, event_count, commit_id, commit_sequence, commit_stamp, headers, events)
    VALUES (pg_current_xact_id()::text::bigint, $1, $2, $3, $4, $5, $6, now(), '{}', $7::json)`
  const select = `SELECT events FROM ${t} WHERE tenant_id = $1 AND stream_id = $2 ORDER BY commit_sequence`
  const page = `SELECT checkpoint, events FROM ${t}
    WHERE checkpoint > $1 AND checkpoint < pg_snapshot_xmin(pg_current_snapshot())::text::bigint ORDER BY checkpoint LIMIT $2`
  // The horizon is cluster-wide: any transaction in flight anywhere on the server (another database's, say) holds
  // it back. A short page is the end of the log only when nothing lies beyond it; otherwise wait, as aett's
  // reader does, for the horizon to pass.
  const beyond = `SELECT EXISTS (SELECT 1 FROM ${t} WHERE checkpoint > $1) AS more`

  const append = async (streamId: string, sequence: number, revision: number, count: number): Promise<void> => {
    const events = eventsJson(streamId, revision - count + 1, count)
    await pool.query(insert, [TENANT, streamId, revision, count, crypto.randomUUID(), sequence, events])
  }

  const fold = async (streamId: string): Promise<Account> => {
    let s = initialAccount
    for (const row of (await pool.query<EventsColumn>(select, [TENANT, streamId])).rows) for (const e of row.events) s = evolveAccount(s, e.body)
    return s
  }

  return {
    ...rawScenarios({ name: 'pg', via: 'INSERT', append, fold }),
    readLog: (events: number, pageSize: number): Contender => ({
      library: 'raw',
      run: async () => {
        let seen = 0
        let after = '0'
        const giveUp = Date.now() + 10_000
        for (;;) {
          const rows = (await pool.query<{ checkpoint: string; events: unknown[] }>(page, [after, pageSize])).rows
          for (const row of rows) seen += row.events.length
          const last = rows[rows.length - 1]
          if (last !== undefined) after = last.checkpoint
          if (rows.length === pageSize) continue
          if (!(await pool.query<{ more: boolean }>(beyond, [after])).rows[0]?.more || Date.now() > giveUp) break
          await new Promise((resolve) => setTimeout(resolve, 2))
        }
        if (seen !== events) throw new Error(`raw pg global read saw ${seen} events, expected ${events}`)
      },
    }),
  }
}
