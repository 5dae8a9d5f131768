import type { SqliteDatabase, SqliteStatement } from './config.js'
import type { Names } from './schema.js'

/** The columns of a commit row, in the order `rows.ts` reads them. */
export const commitColumns =
  'checkpoint, tenant_id, stream_id, stream_revision, commit_id, commit_sequence, commit_stamp, payload'

/** The columns of a snapshot row, in the order `rows.ts` reads them. */
export const snapshotColumns = 'tenant_id, stream_id, stream_revision, commit_sequence, payload, headers'

/**
 * Every statement a store runs, prepared once per store (better-sqlite3 statements re-prepare themselves when
 * the schema changes underneath). Reads return raw arrays: cheaper than objects, and `rows.ts` names them.
 */
export interface Statements {
  /**
   * The hot path: inserts a commit only when it continues the stream's head exactly, in one autocommit
   * statement (a write statement takes the write lock before it reads, so the check and the insert are atomic
   * across processes). `changes === 0` means "not continuing"; the caller then classifies under a lock.
   * Params: tenant, stream, revision, items, commit id, sequence, stamp, payload,
   * head sequence, head revision, tenant, stream, head sequence, head revision.
   */
  readonly appendIfContinues: SqliteStatement
  /** Params: tenant, stream. Row: `{ commitSequence, streamRevision }`. */
  readonly head: SqliteStatement
  /** Params: tenant, stream, commit id. Raw row `[1]`, or undefined. */
  readonly hasCommitId: SqliteStatement
  /** What a writer behind the head missed: every commit from the first it collides with, on either number. Params: tenant, stream, sequence, revision. */
  readonly missed: SqliteStatement
  /** Commits overlapping [cursor, max] (SEMANTICS 5). Params: tenant, stream, cursor, tenant, stream, max, max, max, limit. */
  readonly streamPage: SqliteStatement
  /** The full-stream case of `streamPage` (no upper bound), one index range: params tenant, stream, cursor, limit. */
  readonly streamPageAll: SqliteStatement
  /** Params: tenant, stream, revision cursor (exclusive), max stamp, limit. */
  readonly streamToPage: SqliteStatement
  /** Params: tenant, checkpoint cursor (exclusive), max stamp, limit. */
  readonly tenantToPage: SqliteStatement
  /** Params: from (exclusive), to (inclusive), limit. */
  readonly windowPage: SqliteStatement
  /** Params: tenant, from (exclusive), to (inclusive), limit. */
  readonly tenantWindowPage: SqliteStatement
  /** Params: tenant, stream, max revision. */
  readonly snapshotAt: SqliteStatement
  /** Params: the snapshot columns. */
  readonly upsertSnapshot: SqliteStatement
  /** Params: tenant, stream cursor (exclusive), threshold, limit. Rows: [stream, head, snapshot]. */
  readonly snapshotCandidates: SqliteStatement
  /** Params: tenant, stream cursor (exclusive), limit. Rows: [stream, head sequence, head revision, head stamp]. */
  readonly streamList: SqliteStatement
  /** Params: tenant cursor (exclusive), limit. Rows: [tenant]. */
  readonly tenantList: SqliteStatement
  /** Raises the token floor to the newest token, before commits are deleted. */
  readonly raiseFloor: SqliteStatement
  readonly deleteStreamCommits: SqliteStatement
  readonly deleteStreamSnapshots: SqliteStatement
  readonly deleteTenantCommits: SqliteStatement
  readonly deleteTenantSnapshots: SqliteStatement
  readonly deleteAllCommits: SqliteStatement
  readonly deleteAllSnapshots: SqliteStatement
}

/** Prepares every statement; throws the driver's error when the schema is missing (the caller wraps it). */
export const prepareStatements = (db: SqliteDatabase, n: Names): Statements => {
  const c = n.commits
  const s = n.snapshots
  // The next token: above the newest commit and above every token ever handed out before a deletion.
  const nextToken = `MAX(COALESCE((SELECT MAX(checkpoint) FROM ${c}), 0), (SELECT checkpoint FROM ${n.checkpointFloor})) + 1`
  // Plain numbers even on a connection whose owner turned on 64-bit integers by default: tokens, revisions and
  // stamps stay far below 2^53.
  const prepare = (sql: string) => db.prepare(sql).safeIntegers(false)
  const raw = (sql: string) => prepare(sql).raw(true)
  return {
    appendIfContinues: prepare(
      `INSERT INTO ${c} (checkpoint, tenant_id, stream_id, stream_revision, items, commit_id, commit_sequence, commit_stamp, payload)
       SELECT ${nextToken}, ?, ?, ?, ?, ?, ?, ?, ?
       WHERE COALESCE(
         (SELECT commit_sequence = ? AND stream_revision = ? FROM ${c}
           WHERE tenant_id = ? AND stream_id = ? ORDER BY commit_sequence DESC LIMIT 1),
         ? = 0 AND ? = 0)`,
    ),
    head: prepare(
      `SELECT commit_sequence AS commitSequence, stream_revision AS streamRevision FROM ${c}
       WHERE tenant_id = ? AND stream_id = ? ORDER BY commit_sequence DESC LIMIT 1`,
    ),
    hasCommitId: raw(`SELECT 1 FROM ${c} WHERE tenant_id = ? AND stream_id = ? AND commit_id = ?`),
    missed: raw(
      `SELECT ${commitColumns} FROM ${c}
       WHERE tenant_id = ? AND stream_id = ? AND (commit_sequence >= ? OR stream_revision >= ?)
       ORDER BY commit_sequence`,
    ),
    // The upper bound is the first commit reaching `max` (the one that straddles it), found by one index probe,
    // so that a short read of a long stream stops there instead of scanning to the stream's end.
    streamPage: raw(
      `SELECT ${commitColumns} FROM ${c}
       WHERE tenant_id = ? AND stream_id = ? AND stream_revision >= ?
         AND stream_revision <= COALESCE(
           (SELECT stream_revision FROM ${c} WHERE tenant_id = ? AND stream_id = ? AND stream_revision >= ?
             ORDER BY stream_revision LIMIT 1), ?)
         AND stream_revision - items + 1 <= ?
       ORDER BY stream_revision LIMIT ?`,
    ),
    streamPageAll: raw(
      `SELECT ${commitColumns} FROM ${c}
       WHERE tenant_id = ? AND stream_id = ? AND stream_revision >= ? ORDER BY stream_revision LIMIT ?`,
    ),
    streamToPage: raw(
      `SELECT ${commitColumns} FROM ${c}
       WHERE tenant_id = ? AND stream_id = ? AND stream_revision > ? AND commit_stamp <= ?
       ORDER BY stream_revision LIMIT ?`,
    ),
    // `+tenant_id` keeps the planner on the checkpoint order: through the (tenant, stream, ...) indexes it would
    // have to sort the tenant's whole log for every page.
    tenantToPage: raw(
      `SELECT ${commitColumns} FROM ${c}
       WHERE +tenant_id = ? AND checkpoint > ? AND commit_stamp <= ? ORDER BY checkpoint LIMIT ?`,
    ),
    windowPage: raw(
      `SELECT ${commitColumns} FROM ${c} WHERE checkpoint > ? AND checkpoint <= ? ORDER BY checkpoint LIMIT ?`,
    ),
    tenantWindowPage: raw(
      `SELECT ${commitColumns} FROM ${c}
       WHERE +tenant_id = ? AND checkpoint > ? AND checkpoint <= ? ORDER BY checkpoint LIMIT ?`,
    ),
    snapshotAt: raw(
      `SELECT ${snapshotColumns} FROM ${s}
       WHERE tenant_id = ? AND stream_id = ? AND stream_revision <= ? ORDER BY stream_revision DESC LIMIT 1`,
    ),
    upsertSnapshot: prepare(
      `INSERT INTO ${s} (${snapshotColumns}) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, stream_id, stream_revision) DO UPDATE SET
         commit_sequence = excluded.commit_sequence, payload = excluded.payload, headers = excluded.headers`,
    ),
    // Grouping walks the (tenant, stream, ...) index in stream order, so the LIMIT ends the scan early.
    snapshotCandidates: raw(
      `SELECT c.stream_id AS stream_id, MAX(c.stream_revision) AS head,
         COALESCE((SELECT MAX(x.stream_revision) FROM ${s} x
           WHERE x.tenant_id = c.tenant_id AND x.stream_id = c.stream_id), 0) AS snap
       FROM ${c} c WHERE c.tenant_id = ? AND c.stream_id > ?
       GROUP BY c.stream_id HAVING head - snap >= ? ORDER BY c.stream_id LIMIT ?`,
    ),
    // With one MAX(), SQLite takes the bare columns from the row holding the maximum: the head commit.
    streamList: raw(
      `SELECT stream_id, MAX(commit_sequence), stream_revision, commit_stamp FROM ${c}
       WHERE tenant_id = ? AND stream_id > ? GROUP BY stream_id ORDER BY stream_id LIMIT ?`,
    ),
    tenantList: raw(`SELECT DISTINCT tenant_id FROM ${c} WHERE tenant_id > ? ORDER BY tenant_id LIMIT ?`),
    raiseFloor: prepare(
      `UPDATE ${n.checkpointFloor} SET checkpoint = MAX(checkpoint, COALESCE((SELECT MAX(checkpoint) FROM ${c}), 0))`,
    ),
    deleteStreamCommits: prepare(`DELETE FROM ${c} WHERE tenant_id = ? AND stream_id = ?`),
    deleteStreamSnapshots: prepare(`DELETE FROM ${s} WHERE tenant_id = ? AND stream_id = ?`),
    deleteTenantCommits: prepare(`DELETE FROM ${c} WHERE tenant_id = ?`),
    deleteTenantSnapshots: prepare(`DELETE FROM ${s} WHERE tenant_id = ?`),
    deleteAllCommits: prepare(`DELETE FROM ${c}`),
    deleteAllSnapshots: prepare(`DELETE FROM ${s}`),
  }
}

// -------------------------------------------------------------------------------------
// subscriptions
// -------------------------------------------------------------------------------------

/**
 * SQLite's own clock, in epoch milliseconds: every lease expiry is measured by it, never by a client's clock.
 * `'now'` is the same for every use within one statement. (`unixepoch('subsec')` needs SQLite 3.42; the
 * better-sqlite3 12 this store supports bundles a later one.)
 */
export const databaseNow = `CAST(ROUND(unixepoch('subsec') * 1000) AS INTEGER)`

/** The columns of a lease row as `rows.ts` reads them. */
export const leaseColumns = 'holder, epoch, expires_at'

/** The columns of a parked row, in the order `rows.ts` reads them. */
export const parkedColumns = 'name, checkpoint_token, tenant_id, stream_id, error, parked_at'

/**
 * The statements of the `SubscriptionStore`, prepared apart from the event store's, on first use, so that a file
 * whose schema predates subscriptions still appends and reads until it is migrated. Every write a lease guards is
 * one conditional statement (a write statement takes the write lock before it reads, so the check and the write
 * are atomic across processes), except `unpark`, which checks and deletes under `BEGIN IMMEDIATE`. Named
 * parameters: `@name`, `@holder`, `@epoch`, `@ttl` and the row's columns.
 */
export interface SubscriptionStatements {
  /** Takes a free lease (the epoch grows) or renews `@holder`'s live one. Row: lease columns, or none when held by another. */
  readonly acquire: SqliteStatement
  /** Extends `@holder`'s lease at `@epoch` unless released. Row: lease columns, or none. */
  readonly renew: SqliteStatement
  /** Ends the fence of `@holder`'s lease at `@epoch` and moves its expiry to now. */
  readonly release: SqliteStatement
  /** Params: name. Row: lease columns. */
  readonly lease: SqliteStatement
  /** Takes a free lease for a reset, released at once (the epoch grows). Row: lease columns, or none when live. */
  readonly takeForReset: SqliteStatement
  /** Whether `@holder` holds the lease at `@epoch`. Row `[1]`, or none. */
  readonly holds: SqliteStatement
  /** Params: name. Row: `[positions]`. */
  readonly checkpoint: SqliteStatement
  /** Upserts `@positions`, fenced: `changes === 0` means the lease is lost. */
  readonly saveCheckpoint: SqliteStatement
  /** Upserts `@positions` (under the reset's own lease, in its transaction). */
  readonly writeCheckpoint: SqliteStatement
  /** Params: name. */
  readonly deleteCheckpoint: SqliteStatement
  /** Upserts a parked commit, fenced: `changes === 0` means the lease is lost. */
  readonly park: SqliteStatement
  /** Params: name. Rows: parked columns, oldest token first. */
  readonly parked: SqliteStatement
  /** Params: name, token. */
  readonly unpark: SqliteStatement
}

export const prepareSubscriptionStatements = (db: SqliteDatabase, n: Names): SubscriptionStatements => {
  const now = databaseNow
  const prepare = (sql: string) => db.prepare(sql).safeIntegers(false)
  const raw = (sql: string) => prepare(sql).raw(true)
  const live = `released = 0 AND expires_at > ${now}`
  const fence = `EXISTS (SELECT 1 FROM ${n.leases} WHERE name = @name AND holder = @holder AND epoch = @epoch AND released = 0)`
  return {
    // In `DO UPDATE`, bare columns are the stored row's (all read before any is set), `excluded.` the new one's.
    acquire: raw(
      `INSERT INTO ${n.leases} (name, holder, epoch, expires_at, released) VALUES (@name, @holder, 1, ${now} + @ttl, 0)
       ON CONFLICT (name) DO UPDATE SET
         epoch = CASE WHEN ${live} THEN epoch ELSE epoch + 1 END,
         holder = excluded.holder, expires_at = excluded.expires_at, released = 0
       WHERE NOT (${live}) OR holder = excluded.holder
       RETURNING ${leaseColumns}`,
    ),
    renew: raw(
      `UPDATE ${n.leases} SET expires_at = ${now} + @ttl
       WHERE name = @name AND holder = @holder AND epoch = @epoch AND released = 0 RETURNING ${leaseColumns}`,
    ),
    release: prepare(
      `UPDATE ${n.leases} SET released = 1, expires_at = MIN(expires_at, ${now})
       WHERE name = @name AND holder = @holder AND epoch = @epoch AND released = 0`,
    ),
    lease: raw(`SELECT ${leaseColumns} FROM ${n.leases} WHERE name = ?`),
    takeForReset: raw(
      `INSERT INTO ${n.leases} (name, holder, epoch, expires_at, released) VALUES (@name, @holder, 1, ${now}, 1)
       ON CONFLICT (name) DO UPDATE SET
         epoch = epoch + 1, holder = excluded.holder, expires_at = excluded.expires_at, released = 1
       WHERE NOT (${live})
       RETURNING ${leaseColumns}`,
    ),
    holds: raw(`SELECT 1 WHERE ${fence}`),
    checkpoint: raw(`SELECT positions FROM ${n.checkpoints} WHERE name = ?`),
    // An INSERT from a SELECT needs its WHERE before ON CONFLICT (SQLite's parsing rule); the fence is that WHERE.
    saveCheckpoint: prepare(
      `INSERT INTO ${n.checkpoints} (name, positions) SELECT @name, @positions WHERE ${fence}
       ON CONFLICT (name) DO UPDATE SET positions = excluded.positions`,
    ),
    writeCheckpoint: prepare(
      `INSERT INTO ${n.checkpoints} (name, positions) VALUES (@name, @positions)
       ON CONFLICT (name) DO UPDATE SET positions = excluded.positions`,
    ),
    deleteCheckpoint: prepare(`DELETE FROM ${n.checkpoints} WHERE name = ?`),
    park: prepare(
      `INSERT INTO ${n.parked} (${parkedColumns})
       SELECT @name, @checkpointToken, @tenantId, @streamId, @error, @parkedAt WHERE ${fence}
       ON CONFLICT (name, checkpoint_token) DO UPDATE SET
         tenant_id = excluded.tenant_id, stream_id = excluded.stream_id, error = excluded.error, parked_at = excluded.parked_at`,
    ),
    parked: raw(`SELECT ${parkedColumns} FROM ${n.parked} WHERE name = ? ORDER BY checkpoint_token`),
    unpark: prepare(`DELETE FROM ${n.parked} WHERE name = ? AND checkpoint_token = ?`),
  }
}
