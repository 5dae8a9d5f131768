import { createHash } from 'node:crypto'
import type { Names } from './schema.js'

/** A statement pg prepares once per connection (by name) and then runs without parsing or planning it again. */
export interface NamedStatement {
  readonly name: string
  readonly text: string
}

export type Statement = string | NamedStatement

/**
 * Prepared statements are named after a hash of their text, so that stores on different schemas can share a pool
 * (pg refuses one name for two texts on a connection).
 */
const named = (prefix: string, text: string): NamedStatement => ({
  name: `aett_${prefix}_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`,
  text,
})

/**
 * Every SQL statement of the store, built from the validated names. Values are always parameters; only
 * identifiers (validated and quoted in `schema.ts`) are spliced in.
 */
export interface Statements {
  /** Prepared: the append is the hot path, and its plan (index probes and an insert) never depends on values. */
  readonly append: NamedStatement
  readonly collisions: string
  readonly streamPage: string
  readonly streamPageTo: string
  readonly tenantPageTo: string
  readonly globalPage: string
  readonly tenantGlobalPage: string
  readonly nextGlobal: string
  readonly nextTenant: string
  readonly nextTenantTo: string
  readonly getSnapshot: string
  readonly addSnapshot: string
  readonly streamsToSnapshot: string
  readonly purgeAll: string
  readonly purgeTenant: string
  readonly deleteStream: string
}

// Stamps travel as epoch milliseconds so that neither the driver's Date formatting nor a type parser that a
// caller registered on their pool can shift them; the arithmetic below is exact at millisecond precision.
const stampFromMs = (param: string): string => `(timestamptz 'epoch' + ${param}::bigint * interval '1 millisecond')`

/** Columns read back for a commit; see `rows.ts`. */
const commitColumns = `checkpoint_token, tenant_id, stream_id, stream_revision, commit_id, commit_sequence,
  (extract(epoch FROM commit_stamp) * 1000)::bigint AS stamp_ms, headers::text AS headers, events::text AS events`

/**
 * The gap-free horizon (SEMANTICS 8). A commit's token is the id of the transaction that wrote it, and every
 * transaction still in flight has an id at or above the snapshot's xmin, as has every transaction yet to start.
 * So a commit below the horizon is final and nothing can ever appear below it: a reader that hands out token T
 * never meets a lower one later.
 */
const xmin = `pg_snapshot_xmin(pg_current_snapshot())::text::bigint`
const horizon = `checkpoint_token < ${xmin}`

export const statements = (n: Names): Statements => ({
  /*
   * One round trip: read the head and look for the commit id (both in the statement's snapshot), insert only when
   * the attempt continues the head and is not a duplicate, and report what was seen. A writer that races past the
   * snapshot meets the unique constraints instead: the insert waits for the other transaction and fails with
   * 23505 if it committed, which `commitStore.ts` resolves with `collisions`.
   */
  append: named('append', `WITH head AS (
      SELECT commit_sequence, stream_revision FROM ${n.commits}
      WHERE tenant_id = $1 AND stream_id = $2
      ORDER BY commit_sequence DESC LIMIT 1
    ), dup AS (
      SELECT EXISTS (SELECT 1 FROM ${n.commits} WHERE tenant_id = $1 AND stream_id = $2 AND commit_id = $3) AS found
    ), appended AS (
      INSERT INTO ${n.commits}
        (checkpoint_token, tenant_id, stream_id, stream_revision, event_count, commit_id, commit_sequence,
         commit_stamp, headers, events)
      SELECT pg_current_xact_id()::text::bigint, $1, $2, $4::bigint, $5::integer, $3, $6::bigint,
        ${stampFromMs('$7')}, $8::json, $9::json
      FROM dup
      WHERE NOT dup.found
        AND $6::bigint = COALESCE((SELECT commit_sequence FROM head), 0) + 1
        AND $4::bigint - $5::integer = COALESCE((SELECT stream_revision FROM head), 0)
      RETURNING checkpoint_token
    )
    SELECT (SELECT checkpoint_token FROM appended) AS checkpoint_token,
      (SELECT found FROM dup) AS duplicate,
      (SELECT commit_sequence FROM head) AS head_sequence,
      (SELECT stream_revision FROM head) AS head_revision`),

  // What a rejected attempt collided with: its own commit id (a duplicate) or the commits it had not seen (from
  // the first whose sequence or last revision reaches the attempt's sequence or first revision, see `collidesWith`).
  collisions: `SELECT ${commitColumns} FROM ${n.commits}
    WHERE tenant_id = $1 AND stream_id = $2
      AND (commit_sequence >= $3::bigint OR stream_revision >= $4::bigint OR commit_id = $5)
    ORDER BY commit_sequence`,

  // Commits overlapping [$4, $5]: the last revision reaches the minimum, the first does not pass the maximum.
  streamPage: `SELECT ${commitColumns} FROM ${n.commits}
    WHERE tenant_id = $1 AND stream_id = $2 AND commit_sequence > $3::bigint
      AND stream_revision >= $4::bigint AND stream_revision - event_count + 1 <= $5::bigint
    ORDER BY commit_sequence LIMIT $6`,

  streamPageTo: `SELECT ${commitColumns} FROM ${n.commits}
    WHERE tenant_id = $1 AND stream_id = $2 AND commit_sequence > $3::bigint AND commit_stamp <= ${stampFromMs('$4')}
    ORDER BY commit_sequence LIMIT $5`,

  tenantPageTo: `SELECT ${commitColumns} FROM ${n.commits}
    WHERE tenant_id = $1 AND checkpoint_token > $2::bigint AND commit_stamp <= ${stampFromMs('$3')} AND ${horizon}
    ORDER BY checkpoint_token LIMIT $4`,

  globalPage: `SELECT ${commitColumns} FROM ${n.commits}
    WHERE checkpoint_token > $1::bigint AND checkpoint_token <= $2::bigint AND ${horizon}
    ORDER BY checkpoint_token LIMIT $3`,

  tenantGlobalPage: `SELECT ${commitColumns} FROM ${n.commits}
    WHERE tenant_id = $4 AND checkpoint_token > $1::bigint AND checkpoint_token <= $2::bigint AND ${horizon}
    ORDER BY checkpoint_token LIMIT $3`,

  // Where a global read that came back short stands: the next visible commit beyond its cursor (if any) and the
  // horizon, in one snapshot. See `horizonReads.ts`.
  nextGlobal: `SELECT min(checkpoint_token)::text AS next, ${xmin}::text AS horizon FROM ${n.commits}
    WHERE checkpoint_token > $1::bigint AND checkpoint_token <= $2::bigint`,

  nextTenant: `SELECT min(checkpoint_token)::text AS next, ${xmin}::text AS horizon FROM ${n.commits}
    WHERE tenant_id = $3 AND checkpoint_token > $1::bigint AND checkpoint_token <= $2::bigint`,

  nextTenantTo: `SELECT min(checkpoint_token)::text AS next, ${xmin}::text AS horizon FROM ${n.commits}
    WHERE tenant_id = $2 AND checkpoint_token > $1::bigint AND commit_stamp <= ${stampFromMs('$3')}`,

  getSnapshot: `SELECT tenant_id, stream_id, stream_revision, commit_sequence, payload::text AS payload,
      headers::text AS headers
    FROM ${n.snapshots}
    WHERE tenant_id = $1 AND stream_id = $2 AND stream_revision <= $3::bigint
    ORDER BY stream_revision DESC LIMIT 1`,

  // A second snapshot at the same revision replaces the first (SEMANTICS 10).
  addSnapshot: `INSERT INTO ${n.snapshots} (tenant_id, stream_id, stream_revision, commit_sequence, payload, headers)
    VALUES ($1, $2, $3::bigint, $4::bigint, $5::json, $6::json)
    ON CONFLICT (tenant_id, stream_id, stream_revision)
    DO UPDATE SET commit_sequence = EXCLUDED.commit_sequence, payload = EXCLUDED.payload, headers = EXCLUDED.headers`,

  // Heads come from the (tenant, stream, sequence) index in stream order, so a page stops as soon as it is full.
  streamsToSnapshot: `SELECT h.stream_id, h.head_revision, COALESCE(s.revision, 0) AS snapshot_revision
    FROM (
      SELECT stream_id, max(stream_revision) AS head_revision FROM ${n.commits}
      WHERE tenant_id = $1 AND stream_id > $2
      GROUP BY stream_id
    ) h
    LEFT JOIN LATERAL (
      SELECT max(stream_revision) AS revision FROM ${n.snapshots} WHERE tenant_id = $1 AND stream_id = h.stream_id
    ) s ON true
    WHERE h.head_revision - COALESCE(s.revision, 0) >= $3::bigint
    ORDER BY h.stream_id LIMIT $4`,

  purgeAll: `TRUNCATE ${n.commits}, ${n.snapshots}`,

  // Data-modifying CTEs run in one statement, so both deletes happen or neither does.
  purgeTenant: `WITH c AS (DELETE FROM ${n.commits} WHERE tenant_id = $1)
    DELETE FROM ${n.snapshots} WHERE tenant_id = $1`,

  deleteStream: `WITH c AS (DELETE FROM ${n.commits} WHERE tenant_id = $1 AND stream_id = $2)
    DELETE FROM ${n.snapshots} WHERE tenant_id = $1 AND stream_id = $2`,
})
