import type { MysqlNames } from './schema.js'

/** The columns every commit read selects, as `toCommit` (rows.ts) reads them. */
const commitColumns =
  'checkpoint_token, tenant_id, stream_id, commit_id, commit_sequence, stream_revision, commit_stamp, headers, events'

/**
 * Every statement of the store that is not DDL: parameterised (`?`, bound by `execute`, never spliced) and built
 * once per store from quoted names, so that each text is constant and prepared once per connection. Reads page
 * by a cursor on an indexed column (`commit_sequence` within a stream, `checkpoint_token` across streams), never
 * by OFFSET, so a page costs the same at the end of a long history as at its start.
 */
export interface MysqlStatements {
  readonly append: string
  /** The append routine without its own transaction (schema version 4): the same parameters and outcome. */
  readonly appendInTransaction: string
  /** [streamKey, minRevision, maxRevision, afterSequence, limit] */
  readonly streamRange: string
  /** The whole stream (`streamRange` without bounds): [streamKey, afterSequence, limit] */
  readonly streamAll: string
  /** [streamKey, maxStamp, afterSequence, limit] */
  readonly streamTo: string
  /** [tenantKey, maxStamp, afterToken, toToken, limit] */
  readonly tenantTo: string
  /** [afterToken, toToken, limit] */
  readonly window: string
  /** [tenantKey, afterToken, toToken, limit] */
  readonly tenantWindow: string
  /**
   * The counter's committed value under a shared lock (released when the statement ends): the horizon of a
   * read by token, see commitStore.ts `horizon`.
   */
  readonly readHorizon: string
  /** [streamKey, maxRevision] */
  readonly snapshotAtOrBelow: string
  /** [streamKey, revision, tenantKey, tenantId, streamId, commitSequence, payload, headers] */
  readonly saveSnapshot: string
  /** [tenantKey, afterStreamKey, tenantKey, threshold, limit] */
  readonly streamsToSnapshot: string
  /** [tenantKey, afterStreamKey, limit]: each stream's head row, by stream key. */
  readonly streamList: string
  /** [afterTenantKey, limit]: every tenant holding a commit, by tenant key. */
  readonly tenantList: string
  /**
   * Taken first by purge and deleteStream, so that deletes queue with appends on the counter row: an append then
   * sees a stream either whole or gone, never a head that a concurrent delete is about to remove.
   */
  readonly lockCounter: string
  /** [tenantKey] */
  readonly purgeCommits: string
  readonly purgeSnapshots: string
  readonly purgeAllCommits: string
  readonly purgeAllSnapshots: string
  /** [streamKey] */
  readonly deleteCommits: string
  readonly deleteSnapshots: string
  /** The connection's default database (the migration lock is named after it). */
  readonly currentDatabase: string
  /** [lockName, timeoutSeconds] */
  readonly getLock: string
  /** [lockName] */
  readonly releaseLock: string
  readonly appliedVersion: string
  /** [version, appliedAt] */
  readonly recordVersion: string
}

export const mysqlStatements = (n: MysqlNames): MysqlStatements => ({
  append: `CALL ${n.append}(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  appendInTransaction: `CALL ${n.appendInTransaction}(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  // A commit overlaps [min, max] when its last revision reaches min and its first does not pass max.
  streamRange: `SELECT ${commitColumns} FROM ${n.commits}
    WHERE stream_key = ? AND stream_revision >= ? AND first_revision <= ? AND commit_sequence > ?
    ORDER BY commit_sequence LIMIT ?`,
  streamAll: `SELECT ${commitColumns} FROM ${n.commits}
    WHERE stream_key = ? AND commit_sequence > ? ORDER BY commit_sequence LIMIT ?`,
  streamTo: `SELECT ${commitColumns} FROM ${n.commits}
    WHERE stream_key = ? AND commit_stamp <= ? AND commit_sequence > ?
    ORDER BY commit_sequence LIMIT ?`,
  tenantTo: `SELECT ${commitColumns} FROM ${n.commits}
    WHERE tenant_key = ? AND commit_stamp <= ? AND checkpoint_token > ? AND checkpoint_token <= ?
    ORDER BY checkpoint_token LIMIT ?`,
  window: `SELECT ${commitColumns} FROM ${n.commits}
    WHERE checkpoint_token > ? AND checkpoint_token <= ?
    ORDER BY checkpoint_token LIMIT ?`,
  tenantWindow: `SELECT ${commitColumns} FROM ${n.commits}
    WHERE tenant_key = ? AND checkpoint_token > ? AND checkpoint_token <= ?
    ORDER BY checkpoint_token LIMIT ?`,
  snapshotAtOrBelow: `SELECT tenant_id, stream_id, stream_revision, commit_sequence, payload, headers
    FROM ${n.snapshots} WHERE stream_key = ? AND stream_revision <= ?
    ORDER BY stream_revision DESC LIMIT 1`,
  // REPLACE keeps one snapshot per revision: a later one at the same revision replaces the earlier (SEMANTICS 10).
  saveSnapshot: `REPLACE INTO ${n.snapshots}
    (stream_key, stream_revision, tenant_key, tenant_id, stream_id, commit_sequence, payload, headers)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  // Heads come from the row with each stream's highest sequence (which also has its highest revision).
  streamsToSnapshot: `SELECT h.stream_key, c.tenant_id, c.stream_id, c.stream_revision AS head_revision,
      COALESCE(s.revision, 0) AS snapshot_revision
    FROM (SELECT stream_key, MAX(commit_sequence) AS head_sequence FROM ${n.commits}
          WHERE tenant_key = ? AND stream_key > ? GROUP BY stream_key) h
    JOIN ${n.commits} c ON c.stream_key = h.stream_key AND c.commit_sequence = h.head_sequence
    LEFT JOIN (SELECT stream_key, MAX(stream_revision) AS revision FROM ${n.snapshots}
          WHERE tenant_key = ? GROUP BY stream_key) s ON s.stream_key = h.stream_key
    WHERE c.stream_revision - COALESCE(s.revision, 0) >= ?
    ORDER BY h.stream_key LIMIT ?`,
  streamList: `SELECT h.stream_key, c.stream_id, c.commit_sequence AS head_sequence, c.stream_revision AS head_revision,
      c.commit_stamp
    FROM (SELECT stream_key, MAX(commit_sequence) AS head_sequence FROM ${n.commits}
          WHERE tenant_key = ? AND stream_key > ? GROUP BY stream_key ORDER BY stream_key LIMIT ?) h
    JOIN ${n.commits} c ON c.stream_key = h.stream_key AND c.commit_sequence = h.head_sequence
    ORDER BY h.stream_key`,
  // Every row of a group has the same tenant id (the key is its digest); MIN picks it under ONLY_FULL_GROUP_BY.
  tenantList: `SELECT tenant_key, MIN(tenant_id) AS tenant_id FROM ${n.commits}
    WHERE tenant_key > ? GROUP BY tenant_key ORDER BY tenant_key LIMIT ?`,
  lockCounter: `SELECT value FROM ${n.checkpoint} WHERE id = 1 FOR UPDATE`,
  readHorizon: `SELECT value FROM ${n.checkpoint} WHERE id = 1 LOCK IN SHARE MODE`,
  purgeCommits: `DELETE FROM ${n.commits} WHERE tenant_key = ?`,
  purgeSnapshots: `DELETE FROM ${n.snapshots} WHERE tenant_key = ?`,
  purgeAllCommits: `DELETE FROM ${n.commits}`,
  purgeAllSnapshots: `DELETE FROM ${n.snapshots}`,
  deleteCommits: `DELETE FROM ${n.commits} WHERE stream_key = ?`,
  deleteSnapshots: `DELETE FROM ${n.snapshots} WHERE stream_key = ?`,
  currentDatabase: 'SELECT DATABASE() AS db',
  getLock: 'SELECT GET_LOCK(?, ?) AS locked',
  releaseLock: 'SELECT RELEASE_LOCK(?) AS released',
  appliedVersion: `SELECT COALESCE(MAX(version), 0) AS version FROM ${n.schemaVersion}`,
  recordVersion: `INSERT INTO ${n.schemaVersion} (version, applied_at) VALUES (?, ?)`,
})

// -------------------------------------------------------------------------------------
// subscriptions
// -------------------------------------------------------------------------------------

/**
 * The server's clock in UTC epoch milliseconds: the only clock a lease is measured by. `UTC_TIMESTAMP(6)` and
 * a difference of two DATETIMEs involve no time zone at all, so neither the session's `time_zone` nor a daylight
 * saving change can shift it (`UNIX_TIMESTAMP(NOW())` would go through the session zone); it is evaluated once per
 * statement, so every use within one statement sees the same instant.
 */
export const serverNow = `(TIMESTAMPDIFF(MICROSECOND, TIMESTAMP'1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000)`

/**
 * The statements of the `SubscriptionStore` (subscriptionStore.ts). Every write a lease guards is one
 * conditional statement whose WHERE names the lease (`name_key`, `holder_key`, `epoch`, not released) or, for a
 * take, the epoch that was seen free: a compare-and-set the caller checks by its affected rows (each write also
 * bumps `writes`, so a matched row always counts). Parking and unparking write another table, so they run in a
 * transaction that first locks the lease row with `fence` (`SELECT ... FOR UPDATE`). Writes that set an expiry
 * hand it back through `LAST_INSERT_ID(expr)` (the result's `insertId`), so that a take or a renewal is one round
 * trip. No SET clause reads a column that an earlier assignment of the same clause writes, so the statements mean
 * the same whether assignments apply left to right (MySQL) or at once (MariaDB's `SIMULTANEOUS_ASSIGNMENT`).
 */
export interface MysqlSubscriptionStatements {
  /** [nameKey]: holder_key, holder, epoch, expires_at, released, and the server's now_ms. */
  readonly lease: string
  /** [nameKey, name, holderKey, holder, ttl]: a first lease (epoch 1); errno 1062 when the row exists. */
  readonly insertLease: string
  /** [holderKey, holder, ttl, nameKey, seenEpoch]: takes the lease if it is still free at the epoch seen. */
  readonly takeLease: string
  /** [ttl, nameKey, holderKey, epoch]: extends the lease while it is held (expired but not taken counts). */
  readonly renewLease: string
  /** [ttl, nameKey, holderKey, epoch]: extends the lease only while it has not expired (acquire's renewal). */
  readonly renewLiveLease: string
  /** [nameKey, holderKey, epoch]: ends the fence and moves the expiry to now. */
  readonly releaseLease: string
  /** [nameKey, name, holderKey, holder, positions]: a reset of a name never leased (epoch 1, released). */
  readonly insertReset: string
  /** [holderKey, holder, positions, nameKey, seenEpoch]: a reset's take, released at once, with the checkpoint. */
  readonly takeReset: string
  /** [nameKey]: positions (NULL: no checkpoint). */
  readonly checkpoint: string
  /** [positions, nameKey, holderKey, epoch]: fenced. */
  readonly saveCheckpoint: string
  /** [nameKey, holderKey, epoch]: locks the lease row while the lease is current; no row: the lease is lost. */
  readonly fence: string
  /** [nameKey, token, name, tenantId, streamId, error, parkedAt] */
  readonly park: string
  /** [nameKey]: name, checkpoint_token, tenant_id, stream_id, error, parked_at, oldest token first. */
  readonly parked: string
  /** [nameKey, token] */
  readonly unpark: string
}

export const mysqlSubscriptionStatements = (n: MysqlNames): MysqlSubscriptionStatements => {
  const now = serverNow
  const held = 'name_key = ? AND holder_key = ? AND epoch = ? AND released = 0'
  const free = `name_key = ? AND epoch = ? AND (released = 1 OR expires_at <= ${now})`
  const columns = 'name_key, name, holder_key, holder, epoch, expires_at, released, positions'
  return {
    lease: `SELECT holder_key, holder, epoch, expires_at, released, ${now} AS now_ms FROM ${n.subscriptions} WHERE name_key = ?`,
    insertLease: `INSERT INTO ${n.subscriptions} (${columns}) VALUES (?, ?, ?, ?, 1, LAST_INSERT_ID(${now} + ?), 0, NULL)`,
    takeLease: `UPDATE ${n.subscriptions}
      SET epoch = epoch + 1, holder_key = ?, holder = ?, expires_at = LAST_INSERT_ID(${now} + ?), released = 0, writes = writes + 1
      WHERE ${free}`,
    renewLease: `UPDATE ${n.subscriptions} SET expires_at = LAST_INSERT_ID(${now} + ?), writes = writes + 1 WHERE ${held}`,
    renewLiveLease: `UPDATE ${n.subscriptions} SET expires_at = LAST_INSERT_ID(${now} + ?), writes = writes + 1
      WHERE ${held} AND expires_at > ${now}`,
    releaseLease: `UPDATE ${n.subscriptions} SET released = 1, expires_at = LEAST(expires_at, ${now}), writes = writes + 1 WHERE ${held}`,
    insertReset: `INSERT INTO ${n.subscriptions} (${columns}) VALUES (?, ?, ?, ?, 1, LAST_INSERT_ID(${now}), 1, ?)`,
    takeReset: `UPDATE ${n.subscriptions}
      SET epoch = epoch + 1, holder_key = ?, holder = ?, expires_at = LAST_INSERT_ID(${now}), released = 1, positions = ?, writes = writes + 1
      WHERE ${free}`,
    checkpoint: `SELECT positions FROM ${n.subscriptions} WHERE name_key = ?`,
    saveCheckpoint: `UPDATE ${n.subscriptions} SET positions = ?, writes = writes + 1 WHERE ${held}`,
    fence: `SELECT epoch FROM ${n.subscriptions} WHERE ${held} FOR UPDATE`,
    // REPLACE keeps one record per token: parking a token again replaces its record.
    park: `REPLACE INTO ${n.parked} (name_key, checkpoint_token, name, tenant_id, stream_id, error, parked_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    parked: `SELECT name, checkpoint_token, tenant_id, stream_id, error, parked_at FROM ${n.parked}
      WHERE name_key = ? ORDER BY checkpoint_token`,
    unpark: `DELETE FROM ${n.parked} WHERE name_key = ? AND checkpoint_token = ?`,
  }
}
