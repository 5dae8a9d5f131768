import type { Migration as SqlMigration } from '../sql/migrations.js'
/**
 * Names and DDL of the MySQL/MariaDB store. Every identifier comes from a validated prefix and is
 * backtick-quoted. Each migration step is idempotent on its own (`IF NOT EXISTS`, drop-and-create for
 * routines), because MySQL commits DDL implicitly: a process that dies half-way through a step simply runs it
 * again next time.
 */

// -------------------------------------------------------------------------------------
// names
// -------------------------------------------------------------------------------------

export interface MysqlNames {
  readonly prefix: string
  /** One row per applied migration step. */
  readonly schemaVersion: string
  /** The single-row counter that hands out checkpoint tokens in commit order. */
  readonly checkpoint: string
  readonly commits: string
  readonly snapshots: string
  /** The stored procedure that appends a commit in one round trip. */
  readonly append: string
  /** The same append inside the caller's transaction (schema version 4), for appends with inline projections. */
  readonly appendInTransaction: string
  /** Subscriptions (schema version 2): one row per name, holding its lease and its checkpoint. */
  readonly subscriptions: string
  /** Parked commits (dead letters), per subscription name and token. */
  readonly parked: string
  /** Documents of document projections (schema version 3). */
  readonly documents: string
}

const quote = (name: string): string => `\`${name.replace(/`/g, '``')}\``

/** Quoted names for a prefix that `validateConfig` accepted. */
export const mysqlNames = (prefix: string): MysqlNames => ({
  prefix,
  schemaVersion: quote(`${prefix}_schema_version`),
  checkpoint: quote(`${prefix}_checkpoint`),
  commits: quote(`${prefix}_commits`),
  snapshots: quote(`${prefix}_snapshots`),
  append: quote(`${prefix}_append`),
  appendInTransaction: quote(`${prefix}_append_in_tx`),
  subscriptions: quote(`${prefix}_subscriptions`),
  parked: quote(`${prefix}_subscription_parked`),
  documents: quote(`${prefix}_projection_documents`),
})

// -------------------------------------------------------------------------------------
// tables
// -------------------------------------------------------------------------------------

/*
 * Ids are kept verbatim in utf8mb4 text columns, but every lookup goes through SHA-256 keys computed in
 * JavaScript (see rows.ts): `stream_key` = H(JSON [tenant, stream]), `tenant_key` = H(tenant),
 * `commit_key` = H(commit id). Comparing 32-byte binary keys sidesteps every collation question (case, accents,
 * PAD SPACE trailing blanks, which even `utf8mb4_bin` ignores on MariaDB) and index length limits, so ids of
 * any length never alias.
 */
const idText = 'LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL'

const createSchemaVersion = (n: MysqlNames): string => `
CREATE TABLE IF NOT EXISTS ${n.schemaVersion} (
  version INT NOT NULL PRIMARY KEY,
  applied_at BIGINT NOT NULL
) ENGINE=InnoDB`

const createCheckpoint = (n: MysqlNames): string => `
CREATE TABLE IF NOT EXISTS ${n.checkpoint} (
  id TINYINT NOT NULL PRIMARY KEY,
  value BIGINT NOT NULL
) ENGINE=InnoDB`

const seedCheckpoint = (n: MysqlNames): string => `INSERT IGNORE INTO ${n.checkpoint} (id, value) VALUES (1, 0)`

const createCommits = (n: MysqlNames): string => `
CREATE TABLE IF NOT EXISTS ${n.commits} (
  checkpoint_token BIGINT NOT NULL PRIMARY KEY,
  tenant_key BINARY(32) NOT NULL,
  stream_key BINARY(32) NOT NULL,
  commit_key BINARY(32) NOT NULL,
  tenant_id ${idText},
  stream_id ${idText},
  commit_id ${idText},
  commit_sequence BIGINT NOT NULL,
  stream_revision BIGINT NOT NULL,
  first_revision BIGINT NOT NULL,
  commit_stamp BIGINT NOT NULL COMMENT 'UTC epoch milliseconds',
  headers LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  events LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  UNIQUE KEY stream_sequence (stream_key, commit_sequence),
  UNIQUE KEY stream_commit (stream_key, commit_key),
  KEY tenant_checkpoint (tenant_key, checkpoint_token)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`

const createSnapshots = (n: MysqlNames): string => `
CREATE TABLE IF NOT EXISTS ${n.snapshots} (
  stream_key BINARY(32) NOT NULL,
  stream_revision BIGINT NOT NULL,
  tenant_key BINARY(32) NOT NULL,
  tenant_id ${idText},
  stream_id ${idText},
  commit_sequence BIGINT NOT NULL,
  payload LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  headers LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  PRIMARY KEY (stream_key, stream_revision),
  KEY tenant_stream (tenant_key, stream_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`

// -------------------------------------------------------------------------------------
// the append routine
// -------------------------------------------------------------------------------------

const text = 'LONGTEXT CHARACTER SET utf8mb4'

/*
 * One round trip per append. The transaction first bumps the single counter row: its row lock is held until
 * COMMIT, so appends pass through here one at a time and checkpoint tokens are handed out in commit order (a
 * reader that sees token T can never later see a lower one; a rolled-back append rolls the counter back, too).
 *
 * Holding that lock, one read finds the stream's head (the row with the highest sequence also has the highest
 * revision, because every commit continues its head) and whether the commit id is already in the stream (a
 * duplicate wins, SEMANTICS 4). It is a plain consistent read: InnoDB takes the snapshot at a transaction's first
 * read, which comes after the counter lock was granted, so it sees every earlier append. The routine inserts
 * only when the attempt continues the head exactly; otherwise it rolls back and returns the head, and the caller
 * classifies duplicate, conflict and gap with the shared `refusal`. Should a head ever be stale all the same
 * (a writer that bypasses this routine), the unique keys on (stream, sequence) and (stream, commit id) refuse the
 * row with errno 1062 and the caller runs the routine again. Parameter text types name their character set
 * because a routine's parameters otherwise take the database's default, which may not be utf8mb4.
 */
const dropAppend = (n: MysqlNames): string => `DROP PROCEDURE IF EXISTS ${n.append}`

/**
 * The append routine's text, with (`own`, the one-round-trip routine of schema version 1) or without (`caller`, schema
 * version 4) its own transaction control; every other statement is the same in both, so their rules cannot drift.
 */
const appendRoutine = (name: string, n: MysqlNames, transaction: 'own' | 'caller'): string => {
  const own = transaction === 'own'
  return `
CREATE PROCEDURE ${name}(
  IN p_tenant_key BINARY(32), IN p_stream_key BINARY(32), IN p_commit_key BINARY(32),
  IN p_tenant_id ${text}, IN p_stream_id ${text}, IN p_commit_id ${text},
  IN p_sequence BIGINT, IN p_revision BIGINT, IN p_first BIGINT, IN p_stamp BIGINT,
  IN p_headers ${text}, IN p_events ${text})
MODIFIES SQL DATA
BEGIN
  DECLARE v_token BIGINT DEFAULT NULL;
  DECLARE v_next BIGINT;
  DECLARE v_duplicate INT DEFAULT 0;
  DECLARE v_sequence BIGINT DEFAULT 0;
  DECLARE v_revision BIGINT DEFAULT 0;
  DECLARE CONTINUE HANDLER FOR NOT FOUND BEGIN END;${
    own
      ? `
  DECLARE EXIT HANDLER FOR SQLEXCEPTION
  BEGIN
    ROLLBACK;
    RESIGNAL;
  END;
  START TRANSACTION;`
      : ''
  }
  UPDATE ${n.checkpoint} SET value = LAST_INSERT_ID(value + 1) WHERE id = 1;
  SET v_next = LAST_INSERT_ID();
  SELECT commit_sequence, stream_revision,
      EXISTS(SELECT 1 FROM ${n.commits} d WHERE d.stream_key = p_stream_key AND d.commit_key = p_commit_key)
    INTO v_sequence, v_revision, v_duplicate
    FROM ${n.commits} WHERE stream_key = p_stream_key ORDER BY commit_sequence DESC LIMIT 1;
  IF v_duplicate = 0 AND p_sequence = v_sequence + 1 AND p_first = v_revision + 1 THEN
    SET v_token = v_next;
    INSERT INTO ${n.commits} (checkpoint_token, tenant_key, stream_key, commit_key, tenant_id, stream_id, commit_id,
      commit_sequence, stream_revision, first_revision, commit_stamp, headers, events)
    VALUES (v_token, p_tenant_key, p_stream_key, p_commit_key, p_tenant_id, p_stream_id, p_commit_id,
      p_sequence, p_revision, p_first, p_stamp, p_headers, p_events);${
        own
          ? `
    COMMIT;
  ELSE
    ROLLBACK;`
          : ''
      }
  END IF;
  SELECT v_token AS checkpoint_token, v_duplicate AS duplicate, v_sequence AS head_sequence,
    v_revision AS head_revision;
END`
}

const createAppend = (n: MysqlNames): string => appendRoutine(n.append, n, 'own')

// -------------------------------------------------------------------------------------
// the append inside the caller's transaction (schema version 4)
// -------------------------------------------------------------------------------------

/*
 * The append routine's body without its transaction control, for an append with inline projections (issue 15):
 * the caller runs `START TRANSACTION`, calls this, runs the projections on the same connection and commits (or
 * rolls back everything, the counter bump included, when the routine did not insert or a projection refused). The
 * rules are the append routine's, statement for statement: the counter row is bumped first, so its lock is held
 * until the caller's COMMIT and tokens are still handed out in commit order; the head is read by a plain consistent
 * read, which is the transaction's first (the caller runs nothing before the CALL), so its snapshot is taken after
 * the counter lock was granted and sees every earlier append. An error leaves the transaction to the caller, who
 * rolls it back. The outcome row is the append routine's.
 */
const dropAppendInTransaction = (n: MysqlNames): string => `DROP PROCEDURE IF EXISTS ${n.appendInTransaction}`

const createAppendInTransaction = (n: MysqlNames): string => appendRoutine(n.appendInTransaction, n, 'caller')

// -------------------------------------------------------------------------------------
// subscriptions (schema version 2)
// -------------------------------------------------------------------------------------

/*
 * One row per subscription name: its lease and its checkpoint together, so that a fenced checkpoint write is one
 * conditional UPDATE of that row. Names and holders are looked up by SHA-256 keys (`name_key`, `holder_key`), for
 * the same reason as ids: no collation or trailing-blank rule can make two names one. `expires_at` is epoch
 * milliseconds by the server's clock, never a client's; `released` ends the fence before expiry; `epoch` grows
 * every time the lease changes hands. `positions` is the checkpoint as JSON text (NULL: none stored). `writes`
 * grows with every write, so that a matched row always counts as changed, whatever the pool's affected-rows flag.
 */
const createSubscriptions = (n: MysqlNames): string => `
CREATE TABLE IF NOT EXISTS ${n.subscriptions} (
  name_key BINARY(32) NOT NULL PRIMARY KEY,
  name ${idText},
  holder_key BINARY(32) NOT NULL,
  holder ${idText},
  epoch BIGINT NOT NULL,
  expires_at BIGINT NOT NULL COMMENT 'UTC epoch milliseconds, by the server clock',
  released TINYINT NOT NULL,
  positions LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  writes BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`

const createParked = (n: MysqlNames): string => `
CREATE TABLE IF NOT EXISTS ${n.parked} (
  name_key BINARY(32) NOT NULL,
  checkpoint_token BIGINT NOT NULL,
  name ${idText},
  tenant_id ${idText},
  stream_id ${idText},
  error LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  parked_at BIGINT NOT NULL COMMENT 'UTC epoch milliseconds',
  PRIMARY KEY (name_key, checkpoint_token)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`

// -------------------------------------------------------------------------------------
// projection documents (schema version 3)
// -------------------------------------------------------------------------------------

/*
 * One row per document of a document projection, keyed by `projection_key` (the SHA-256 of the projection's name)
 * and `doc_key` (the SHA-256 of the JSON array [tenant, id], an unambiguous encoding: no id can collide with another
 * tenant's), so that a rebuild's swap moves a shadow's documents by rewriting `projection_key` alone. `tenant_key`
 * is the tenant's, for the reads of one tenant in key order. `doc` is the JSON text as written (exact round trip).
 */
const createDocuments = (n: MysqlNames): string => `
CREATE TABLE IF NOT EXISTS ${n.documents} (
  projection_key BINARY(32) NOT NULL,
  doc_key BINARY(32) NOT NULL,
  tenant_key BINARY(32) NOT NULL,
  projection ${idText},
  tenant_id ${idText},
  id ${idText},
  doc LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  PRIMARY KEY (projection_key, doc_key),
  KEY by_tenant (projection_key, tenant_key, doc_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`

// -------------------------------------------------------------------------------------
// migrations
// -------------------------------------------------------------------------------------

/** One forward step; its statements run in order, and each is safe to run again (MySQL DDL commits implicitly). */
export type Migration = SqlMigration<MysqlNames>

/** Forward steps, oldest first. A new step gets the next version; released steps never change. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'commits, snapshots, checkpoint counter and the append routine',
    statements: (n) => [
      createCheckpoint(n),
      seedCheckpoint(n),
      createCommits(n),
      createSnapshots(n),
      dropAppend(n),
      createAppend(n),
    ],
  },
  {
    version: 2,
    description: 'subscription leases and checkpoints, parked commits',
    statements: (n) => [createSubscriptions(n), createParked(n)],
  },
  {
    version: 3,
    description: 'documents of document projections',
    statements: (n) => [createDocuments(n)],
  },
  {
    version: 4,
    description: 'the append routine inside the caller\'s transaction, for inline projections',
    statements: (n) => [dropAppendInTransaction(n), createAppendInTransaction(n)],
  },
]

export const schemaVersionDdl = createSchemaVersion

/** Everything `drop()` removes. */
export const dropStatements = (n: MysqlNames): readonly string[] => [
  dropAppend(n),
  dropAppendInTransaction(n),
  `DROP TABLE IF EXISTS ${n.commits}`,
  `DROP TABLE IF EXISTS ${n.snapshots}`,
  `DROP TABLE IF EXISTS ${n.checkpoint}`,
  `DROP TABLE IF EXISTS ${n.subscriptions}`,
  `DROP TABLE IF EXISTS ${n.parked}`,
  `DROP TABLE IF EXISTS ${n.documents}`,
  `DROP TABLE IF EXISTS ${n.schemaVersion}`,
]
