import { createHash } from 'node:crypto'
import { tokenScheme, type Names } from './schema.js'

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
  /** `append` at an ordinal of its transaction ($10): one append of a batch that runs them one at a time. */
  readonly appendAt: NamedStatement
  /** Several appends on distinct streams in one statement (arrays, see `appendManyText`). */
  readonly appendMany: NamedStatement
  readonly collisions: string
  readonly streamPage: string
  /** `streamPage` without revision bounds (the whole stream): tenant, stream, after sequence, limit. */
  readonly streamPageAll: string
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
  readonly listStreams: string
  readonly listTenants: string
  readonly purgeAll: string
  readonly purgeTenant: string
  readonly deleteStream: string
  readonly drop: string
  readonly subscriptions: SubscriptionStatements
  /** The oldest transaction in flight at or below the horizon, from `pg_stat_activity` (see `horizonHolder`). */
  readonly horizonHolder: string
}

/** What `subscriptionStore.ts` runs; every time is the server's `clock_timestamp()`, see there. */
export interface SubscriptionStatements {
  readonly acquire: string
  readonly renew: string
  readonly release: string
  readonly lease: string
  readonly checkpoint: string
  readonly saveCheckpoint: string
  readonly resetCheckpoint: string
  readonly park: string
  readonly parked: string
  readonly unpark: string
  /** `LISTEN` on the store's channel (an identifier, so not a parameter). */
  readonly listen: string
  /** The coalesced wake-up after commits, in a transaction of its own that does not wait for its WAL flush. */
  readonly notify: string
}

// Stamps travel as epoch milliseconds so that neither the driver's Date formatting nor a type parser that a
// caller registered on their pool can shift them; the arithmetic below is exact at millisecond precision.
const stampFromMs = (param: string): string => `(timestamptz 'epoch' + ${param}::bigint * interval '1 millisecond')`
const msOf = (column: string): string => `floor(extract(epoch FROM ${column}) * 1000)::bigint`
/** The server's time now, at the moment it is evaluated (not the transaction's start, as `now()` would be). */
const clock = 'clock_timestamp()'
const later = (ttlParam: string): string => `${clock} + ${ttlParam}::bigint * interval '1 millisecond'`
// Identifiers are validated (see config.ts), so a channel name cannot escape its quotes.
const literal = (s: string): string => `'${s}'`

/** Columns read back for a commit; see `rows.ts`. */
const commitColumns = `token AS checkpoint_token, tenant_id, stream_id, stream_revision, commit_id, commit_sequence,
  (extract(epoch FROM commit_stamp) * 1000)::bigint AS stamp_ms, headers::text AS headers, events::text AS events`

/**
 * The gap-free horizon (SEMANTICS 8). A commit's token is the id of the transaction that wrote it times
 * 2^ordinalBits plus its ordinal (`tokenScheme` in schema.ts), and every transaction still in flight has an id at or
 * above the snapshot's xmin, as has every transaction yet to start: all their tokens are at or above
 * `xmin * 2^ordinalBits`. So a commit below the horizon is final and nothing can ever appear below it: a reader
 * that hands out token T never meets a lower one later.
 */
const xmin = `pg_snapshot_xmin(pg_current_snapshot())::text::bigint`
const scaledXmin = `(${xmin} * ${tokenScheme.ordinals})`
const horizon = `token < ${scaledXmin}`

/** The token of the commit at `ordinal` (an SQL expression) of the current transaction. */
const tokenAt = (ordinal: string): string => `pg_current_xact_id()::text::bigint * ${tokenScheme.ordinals} + ${ordinal}`

/** Whether the append statement itself sends a `NOTIFY` (`notify: 'in-transaction'`, see `PostgresStoreOptions`). */
export interface StatementOptions {
  readonly notify: boolean
}

const notifiedCte = (n: Names, from: string): string => `, notified AS (SELECT pg_notify(${literal(n.channel)}, '') FROM ${from})`

/*
 * One round trip: read the head and look for the commit id (both in the statement's snapshot), insert only when
 * the attempt continues the head and is not a duplicate, and report what was seen. A writer that races past the
 * snapshot meets the unique constraints instead: the insert waits for the other transaction and fails with
 * 23505 if it committed, which `commitStore.ts` resolves with `collisions`. The token is taken only for a row
 * that is inserted, so a refused attempt gets no transaction id (and its transaction no commit record to flush).
 *
 * `head_token` is the head's token: a batch's transaction checks that a commit it stored sits above it (see
 * `batchAppend.ts`, `overtook`).
 *
 * With `notify` (`'in-transaction'`), a stored commit also sends `pg_notify` on the store's channel from inside
 * the same statement, so still one round trip: PostgreSQL delivers it when the transaction commits, and never for
 * one that rolls back. A CTE without data changes runs only when read, so the final SELECT reads it.
 */
const appendText = (n: Names, options: StatementOptions, ordinal: string): string => `WITH head AS (
      SELECT commit_sequence, stream_revision, token FROM ${n.commits}
      WHERE tenant_id = $1 AND stream_id = $2
      ORDER BY commit_sequence DESC LIMIT 1
    ), dup AS (
      SELECT EXISTS (SELECT 1 FROM ${n.commits} WHERE tenant_id = $1 AND stream_id = $2 AND commit_id = $3) AS found
    ), appended AS (
      INSERT INTO ${n.commits}
        (token, tenant_id, stream_id, stream_revision, event_count, commit_id, commit_sequence,
         commit_stamp, headers, events)
      SELECT ${tokenAt(ordinal)}, $1, $2, $4::bigint, $5::integer, $3, $6::bigint,
        ${stampFromMs('$7')}, $8::json, $9::json
      FROM dup
      WHERE NOT dup.found
        AND $6::bigint = COALESCE((SELECT commit_sequence FROM head), 0) + 1
        AND $4::bigint - $5::integer = COALESCE((SELECT stream_revision FROM head), 0)
      RETURNING token
    )${options.notify ? notifiedCte(n, 'appended') : ''}
    SELECT (SELECT token FROM appended) AS checkpoint_token,
      (SELECT found FROM dup) AS duplicate,
      (SELECT commit_sequence FROM head) AS head_sequence,
      (SELECT stream_revision FROM head) AS head_revision,
      (SELECT token FROM head) AS head_token${options.notify ? `,
      (SELECT count(*) FROM notified) AS notified` : ''}`

/*
 * `append` for several attempts at once (group commit, see `batchAppend.ts`), each on a stream of its own: the
 * attempts travel as one array per column ($1..$9 as `append`'s, $10 their ordinals), each is checked against its
 * stream's head and commit ids exactly as `append` checks one, and the row of every attempt comes back in ordinal
 * order, with its token if it was stored. One text whatever the batch's size, so it is prepared once per
 * connection. A statement does not see its own inserts, hence one stream per statement: `batchAppend.ts` sends a
 * batch holding a stream twice as several statements in one transaction.
 *
 * The commit-id probe runs only for an attempt that does not continue its head (a conflict, a gap, or the retry of
 * a stored commit): one that continues it is inserted, and should its id be in the stream already (resent under a
 * new sequence), the unique key on (tenant, stream, commit id) fails the statement and the batch is written again
 * one append at a time, whose `append` answers DuplicateCommit. Without table statistics the planner prices the
 * probe on the (tenant, stream, sequence) key the same as on the commit-id key, and its cached plan took the first:
 * every append then scanned its whole stream's entries for the id (measured: 32 writers on streams growing to
 * thousands of commits fell from about 18,000 to 5,000 appends a second as the streams grew).
 */
const appendManyText = (n: Names, options: StatementOptions): string => `WITH input AS (
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::integer[], $6::bigint[], $7::bigint[],
        $8::text[], $9::text[], $10::integer[])
        AS t(tenant_id, stream_id, commit_id, stream_revision, event_count, commit_sequence, stamp_ms, headers, events, ordinal)
    ), checked AS MATERIALIZED (
      SELECT i.*, h.commit_sequence AS head_sequence, h.stream_revision AS head_revision, h.token AS head_token,
        d.found IS NOT NULL AS duplicate
      FROM input i
      LEFT JOIN LATERAL (
        SELECT c.commit_sequence, c.stream_revision, c.token FROM ${n.commits} c
        WHERE c.tenant_id = i.tenant_id AND c.stream_id = i.stream_id
        ORDER BY c.commit_sequence DESC LIMIT 1
      ) h ON true
      -- A lateral probe, not EXISTS: the planner turns an EXISTS over the arrays into a hashed subplan that scans
      -- the whole table. It runs only for an attempt that does not continue its head (see appendManyText).
      LEFT JOIN LATERAL (
        SELECT true AS found FROM ${n.commits} c
        WHERE NOT (i.commit_sequence = COALESCE(h.commit_sequence, 0) + 1
                   AND i.stream_revision - i.event_count = COALESCE(h.stream_revision, 0))
          AND c.tenant_id = i.tenant_id AND c.stream_id = i.stream_id AND c.commit_id = i.commit_id LIMIT 1
      ) d ON true
    ), appended AS (
      INSERT INTO ${n.commits}
        (token, tenant_id, stream_id, stream_revision, event_count, commit_id, commit_sequence,
         commit_stamp, headers, events)
      SELECT ${tokenAt('ordinal')}, tenant_id, stream_id, stream_revision, event_count, commit_id, commit_sequence,
        ${stampFromMs('stamp_ms')}, headers::json, events::json
      FROM checked
      WHERE NOT duplicate
        AND commit_sequence = COALESCE(head_sequence, 0) + 1
        AND stream_revision - event_count = COALESCE(head_revision, 0)
      RETURNING token
    )${options.notify ? notifiedCte(n, 'appended') : ''}
    SELECT c.ordinal, a.token AS checkpoint_token, c.duplicate, c.head_sequence, c.head_revision, c.head_token${options.notify ? `,
      (SELECT count(*) FROM notified) AS notified` : ''}
    FROM checked c LEFT JOIN appended a ON a.token % ${tokenScheme.ordinals} = c.ordinal
    ORDER BY c.ordinal`

export const statements = (n: Names, options: StatementOptions = { notify: false }): Statements => ({
  append: named('append', appendText(n, options, '0')),
  appendAt: named('append_at', appendText(n, options, '$10::integer')),
  appendMany: named('append_many', appendManyText(n, options)),

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

  streamPageAll: `SELECT ${commitColumns} FROM ${n.commits}
    WHERE tenant_id = $1 AND stream_id = $2 AND commit_sequence > $3::bigint
    ORDER BY commit_sequence LIMIT $4`,

  streamPageTo: `SELECT ${commitColumns} FROM ${n.commits}
    WHERE tenant_id = $1 AND stream_id = $2 AND commit_sequence > $3::bigint AND commit_stamp <= ${stampFromMs('$4')}
    ORDER BY commit_sequence LIMIT $5`,

  tenantPageTo: `SELECT ${commitColumns} FROM ${n.commits}
    WHERE tenant_id = $1 AND token > $2::bigint AND commit_stamp <= ${stampFromMs('$3')} AND ${horizon}
    ORDER BY token LIMIT $4`,

  globalPage: `SELECT ${commitColumns} FROM ${n.commits}
    WHERE token > $1::bigint AND token <= $2::bigint AND ${horizon}
    ORDER BY token LIMIT $3`,

  tenantGlobalPage: `SELECT ${commitColumns} FROM ${n.commits}
    WHERE tenant_id = $4 AND token > $1::bigint AND token <= $2::bigint AND ${horizon}
    ORDER BY token LIMIT $3`,

  // Where a global read that came back short stands: the next visible commit beyond its cursor (if any) and the
  // horizon, in one snapshot. See `horizonReads.ts`.
  nextGlobal: `SELECT min(token)::text AS next, ${scaledXmin}::text AS horizon FROM ${n.commits}
    WHERE token > $1::bigint AND token <= $2::bigint`,

  nextTenant: `SELECT min(token)::text AS next, ${scaledXmin}::text AS horizon FROM ${n.commits}
    WHERE tenant_id = $3 AND token > $1::bigint AND token <= $2::bigint`,

  nextTenantTo: `SELECT min(token)::text AS next, ${scaledXmin}::text AS horizon FROM ${n.commits}
    WHERE tenant_id = $2 AND token > $1::bigint AND commit_stamp <= ${stampFromMs('$3')}`,

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

  /*
   * Every stream of a tenant with its head, paged by stream id. The recursive CTE walks the distinct stream ids
   * through the (tenant, stream, sequence) index, one probe each (PostgreSQL has no skip scan), and each head is one
   * more probe: a page costs its size in probes, however long the streams are.
   */
  listStreams: `WITH RECURSIVE ids AS (
      (SELECT stream_id FROM ${n.commits} WHERE tenant_id = $1 AND stream_id > $2 ORDER BY stream_id LIMIT 1)
      UNION ALL
      SELECT (SELECT c.stream_id FROM ${n.commits} c WHERE c.tenant_id = $1 AND c.stream_id > ids.stream_id
              ORDER BY c.stream_id LIMIT 1)
      FROM ids WHERE ids.stream_id IS NOT NULL
    )
    SELECT h.stream_id, h.stream_revision, h.commit_sequence, ${msOf('h.commit_stamp')} AS stamp_ms
    FROM (SELECT stream_id FROM ids WHERE stream_id IS NOT NULL LIMIT $3) p
    CROSS JOIN LATERAL (
      SELECT stream_id, stream_revision, commit_sequence, commit_stamp FROM ${n.commits} c
      WHERE c.tenant_id = $1 AND c.stream_id = p.stream_id ORDER BY c.commit_sequence DESC LIMIT 1
    ) h
    ORDER BY h.stream_id`,

  // Every tenant holding a commit, paged by tenant id, walking the (tenant, token) index as `listStreams` does.
  listTenants: `WITH RECURSIVE ids AS (
      (SELECT tenant_id FROM ${n.commits} WHERE tenant_id > $1 ORDER BY tenant_id LIMIT 1)
      UNION ALL
      SELECT (SELECT c.tenant_id FROM ${n.commits} c WHERE c.tenant_id > ids.tenant_id ORDER BY c.tenant_id LIMIT 1)
      FROM ids WHERE ids.tenant_id IS NOT NULL
    )
    SELECT tenant_id FROM ids WHERE tenant_id IS NOT NULL LIMIT $2`,

  purgeAll: `TRUNCATE ${n.commits}, ${n.snapshots}`,

  // Data-modifying CTEs run in one statement, so both deletes happen or neither does.
  purgeTenant: `WITH c AS (DELETE FROM ${n.commits} WHERE tenant_id = $1)
    DELETE FROM ${n.snapshots} WHERE tenant_id = $1`,

  deleteStream: `WITH c AS (DELETE FROM ${n.commits} WHERE tenant_id = $1 AND stream_id = $2)
    DELETE FROM ${n.snapshots} WHERE tenant_id = $1 AND stream_id = $2`,

  drop: `DROP TABLE IF EXISTS ${n.commits}, ${n.snapshots}, ${n.subscriptions}, ${n.parked}, ${n.documents}, ${n.migrations}`,

  subscriptions: subscriptionStatements(n),

  /*
   * The horizon is the oldest transaction id still in flight (cluster-wide: ids are global), so the session that
   * holds it back is the one whose transaction has that id; a session that only holds a snapshot (backend_xmin)
   * does not. A prepared transaction (two-phase commit) has no session: it is reported by its gid.
   */
  horizonHolder: `WITH h AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::xid AS xid)
    SELECT * FROM (
      SELECT a.pid, a.application_name, a.datname, a.state, ${msOf('a.xact_start')} AS xact_start_ms,
        a.backend_xid::text AS xid, NULL::text AS prepared, age(a.backend_xid) AS age
      FROM pg_stat_activity a, h
      WHERE a.backend_xid IS NOT NULL AND age(a.backend_xid) >= age(h.xid)
      UNION ALL
      SELECT NULL, NULL, p.database, NULL, ${msOf('p.prepared')}, p.transaction::text, p.gid, age(p.transaction)
      FROM pg_prepared_xacts p, h
      WHERE age(p.transaction) >= age(h.xid)
    ) held
    ORDER BY age DESC LIMIT 1`,
})

/*
 * Leases, checkpoints and parked commits. The fence is the row of the subscription: a guarded write names the
 * lease's epoch and holder in its WHERE clause, and PostgreSQL's row locks make the check and the write one step.
 * An UPDATE (saveCheckpoint, renew, release) locks the row it changes, and one that waited on a concurrent takeover
 * re-checks the row as the takeover left it; park and unpark write another table, so they first lock the lease row
 * FOR SHARE, which a takeover's UPDATE must wait for (and which waits for a takeover in flight). Times are
 * `clock_timestamp()` read after the row lock was obtained: `now()` is the time the transaction started, which can
 * lie before a wait for that lock, and would date an expiry (or judge one) by a stale clock.
 */
const subscriptionStatements = (n: Names): SubscriptionStatements => {
  const leaseColumns = `holder, epoch, ${msOf('expires_at')} AS expires_ms`
  const held = `name = $1 AND holder = $2 AND epoch = $3::bigint AND NOT released`
  return {
    // A new name, a free lease (released or expired: the epoch grows, even for its former holder), or a renewal
    // of `holder`'s live lease (same epoch). No row back: another holder's lease is live.
    acquire: `INSERT INTO ${n.subscriptions} AS s (name, holder, epoch, expires_at, released)
      VALUES ($1, $2, 1, ${later('$3')}, false)
      ON CONFLICT (name) DO UPDATE SET
        holder = EXCLUDED.holder,
        epoch = CASE WHEN s.holder = EXCLUDED.holder AND NOT s.released AND s.expires_at > ${clock} THEN s.epoch ELSE s.epoch + 1 END,
        expires_at = ${later('$3')},
        released = false
      WHERE s.released OR s.expires_at <= ${clock} OR s.holder = EXCLUDED.holder
      RETURNING ${leaseColumns}`,
    renew: `UPDATE ${n.subscriptions} SET expires_at = ${later('$4')} WHERE ${held} RETURNING ${leaseColumns}`,
    release: `UPDATE ${n.subscriptions} SET released = true, expires_at = least(expires_at, ${clock}) WHERE ${held}`,
    lease: `SELECT ${leaseColumns} FROM ${n.subscriptions} WHERE name = $1`,
    checkpoint: `SELECT checkpoint::text AS checkpoint FROM ${n.subscriptions} WHERE name = $1 AND checkpoint IS NOT NULL`,
    saveCheckpoint: `UPDATE ${n.subscriptions} SET checkpoint = $4::json WHERE ${held} RETURNING 1 AS held`,
    // Takes a free lease (the epoch grows), writes the checkpoint ($3, NULL removes it) and releases, in one step.
    resetCheckpoint: `INSERT INTO ${n.subscriptions} AS s (name, holder, epoch, expires_at, released, checkpoint)
      VALUES ($1, $2, 1, ${clock}, true, $3::json)
      ON CONFLICT (name) DO UPDATE SET
        holder = EXCLUDED.holder, epoch = s.epoch + 1, expires_at = ${clock}, released = true, checkpoint = EXCLUDED.checkpoint
      WHERE s.released OR s.expires_at <= ${clock}
      RETURNING ${leaseColumns}`,
    park: `WITH lease AS (SELECT name FROM ${n.subscriptions} WHERE ${held} FOR SHARE)
      INSERT INTO ${n.parked} (name, checkpoint_token, tenant_id, stream_id, error, parked_at)
      SELECT name, $4::bigint, $5, $6, $7::json, ${stampFromMs('$8')} FROM lease
      ON CONFLICT (name, checkpoint_token) DO UPDATE SET
        tenant_id = EXCLUDED.tenant_id, stream_id = EXCLUDED.stream_id, error = EXCLUDED.error, parked_at = EXCLUDED.parked_at
      RETURNING 1 AS held`,
    parked: `SELECT name, checkpoint_token, tenant_id, stream_id, error::text AS error, ${msOf('parked_at')} AS parked_ms
      FROM ${n.parked} WHERE name = $1 ORDER BY checkpoint_token`,
    // A data-modifying CTE always runs; its DELETE asks for the locked lease row first.
    unpark: `WITH lease AS (SELECT name FROM ${n.subscriptions} WHERE ${held} FOR SHARE),
      gone AS (DELETE FROM ${n.parked} WHERE name = $1 AND checkpoint_token = $4::bigint AND EXISTS (SELECT 1 FROM lease))
      SELECT count(*)::int AS held FROM lease`,
    listen: `LISTEN "${n.channel}"`,
    // The notifying transaction holds PostgreSQL's global notify lock through its commit; without the flush wait
    // (`synchronous_commit` off for this transaction only) that is brief. Losing it in a crash loses a wake-up only.
    notify: `SELECT set_config('synchronous_commit', 'off', true), pg_notify(${literal(n.channel)}, '')`,
  }
}
