import * as E from 'fp-ts/lib/Either.js'
import { planMigrations, reportOf, type MigrationReport, type Migration as SqlMigration } from '../sql/migrations.js'
import type { SqliteDatabase } from './config.js'
import { underLock } from './connection.js'

export type { MigrationReport } from '../sql/migrations.js'

// -------------------------------------------------------------------------------------
// names
// -------------------------------------------------------------------------------------

/** Every table and index name of one store, quoted and ready to splice into SQL. */
export interface Names {
  readonly commits: string
  readonly snapshots: string
  readonly schemaVersion: string
  readonly checkpointFloor: string
  /** Subscriptions (schema version 2): one lease row per subscription name. */
  readonly leases: string
  /** One checkpoint row per subscription name. */
  readonly checkpoints: string
  /** Parked commits (dead letters), per subscription name and token. */
  readonly parked: string
  /** Documents of document projections (schema version 3), per projection, tenant and id. */
  readonly documents: string
  /** Builds a further quoted name with the store's prefix (for indexes and later migrations). */
  readonly named: (suffix: string) => string
}

/** The prefix is validated as an identifier in `resolveConfig`; quoting keeps SQL keywords usable too. */
const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`

export const names = (prefix: string): Names => ({
  commits: quote(`${prefix}commits`),
  snapshots: quote(`${prefix}snapshots`),
  schemaVersion: quote(`${prefix}schema_version`),
  checkpointFloor: quote(`${prefix}checkpoint_floor`),
  leases: quote(`${prefix}subscription_leases`),
  checkpoints: quote(`${prefix}subscription_checkpoints`),
  parked: quote(`${prefix}subscription_parked`),
  documents: quote(`${prefix}projection_documents`),
  named: (suffix) => quote(`${prefix}${suffix}`),
})

// -------------------------------------------------------------------------------------
// migrations
// -------------------------------------------------------------------------------------

/** One forward step of the schema; its statements run in order inside one transaction. */
export type Migration = SqlMigration<Names>

/**
 * The schema's history. Append a step for every change; never edit a released one, so that a file created by
 * any earlier release can be brought forward by `initialize()`.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'commits and snapshots',
    statements: (n) => [
      // `checkpoint` is the rowid. SQLite has one writer at a time, so tokens are handed out in commit order and
      // a reader can never skip one (SEMANTICS 8).
      `CREATE TABLE ${n.commits} (
        checkpoint INTEGER PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        stream_id TEXT NOT NULL,
        stream_revision INTEGER NOT NULL,
        items INTEGER NOT NULL,
        commit_id TEXT NOT NULL,
        commit_sequence INTEGER NOT NULL,
        commit_stamp INTEGER NOT NULL,
        payload TEXT NOT NULL
      )`,
      // The database, not the process, enforces the contract's uniqueness, so that two processes writing the
      // same file cannot break it.
      `CREATE UNIQUE INDEX ${n.named('commits_sequence')} ON ${n.commits} (tenant_id, stream_id, commit_sequence)`,
      `CREATE UNIQUE INDEX ${n.named('commits_commit_id')} ON ${n.commits} (tenant_id, stream_id, commit_id)`,
      // Reads by revision (a load after a snapshot) seek here instead of walking the stream from its start.
      `CREATE UNIQUE INDEX ${n.named('commits_revision')} ON ${n.commits} (tenant_id, stream_id, stream_revision)`,
      // No index on tenant alone: each index costs a page write per commit (a tenant index measured about 25%
      // of commit throughput), so tenant-scoped global reads walk the checkpoint order and filter.
      // Tokens are never reused: a new commit's token is above both the newest stored one and this floor, which
      // purge and deleteStream raise before deleting. (AUTOINCREMENT would do the same by writing a counter on
      // every commit, which costs an extra page write per commit; this costs two index reads.)
      `CREATE TABLE ${n.checkpointFloor} (id INTEGER PRIMARY KEY CHECK (id = 0), checkpoint INTEGER NOT NULL)`,
      `INSERT INTO ${n.checkpointFloor} (id, checkpoint) VALUES (0, 0)`,
      `CREATE TABLE ${n.snapshots} (
        tenant_id TEXT NOT NULL,
        stream_id TEXT NOT NULL,
        stream_revision INTEGER NOT NULL,
        commit_sequence INTEGER NOT NULL,
        payload TEXT NOT NULL,
        headers TEXT NOT NULL,
        PRIMARY KEY (tenant_id, stream_id, stream_revision)
      ) WITHOUT ROWID`,
    ],
  },
  {
    version: 2,
    description: 'subscription leases, checkpoints and parked commits',
    statements: (n) => [
      // `expires_at` is epoch ms by SQLite's own clock (`unixepoch('subsec')`), never a client's. `released` ends
      // the fence before expiry; `epoch` grows every time the lease changes hands.
      `CREATE TABLE ${n.leases} (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        released INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID`,
      // `positions` is the checkpoint as JSON text: one last-handled token per feed shard.
      `CREATE TABLE ${n.checkpoints} (
        name TEXT PRIMARY KEY,
        positions TEXT NOT NULL
      ) WITHOUT ROWID`,
      `CREATE TABLE ${n.parked} (
        name TEXT NOT NULL,
        checkpoint_token INTEGER NOT NULL,
        tenant_id TEXT NOT NULL,
        stream_id TEXT NOT NULL,
        error TEXT NOT NULL,
        parked_at INTEGER NOT NULL,
        PRIMARY KEY (name, checkpoint_token)
      ) WITHOUT ROWID`,
    ],
  },
  {
    version: 3,
    description: 'documents of document projections',
    statements: (n) => [
      // The key is three columns, never one joined string, so that no id reaches another projection's or tenant's
      // documents; `doc` is the document's JSON text as it was written (exact round trip).
      `CREATE TABLE ${n.documents} (
        projection TEXT NOT NULL,
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (projection, tenant_id, id)
      ) WITHOUT ROWID`,
    ],
  },
]

/** The schema version this release writes. */
export const currentSchemaVersion: number = migrations[migrations.length - 1]?.version ?? 0

/**
 * Brings the file's schema to the newest version in `steps`. Runs inside one `BEGIN IMMEDIATE` transaction, so
 * two processes initialising the same file at once apply each step exactly once and a failing step leaves the
 * file as it was. Throws the driver's error (the caller wraps it); a file newer than `steps` is refused.
 */
export const runMigrations = (db: SqliteDatabase, n: Names, steps: readonly Migration[] = migrations): MigrationReport => {
  // Checked before anything runs: a bad history fails the same on any file.
  const checked = planMigrations(steps, 0)
  if (E.isLeft(checked)) throw checked.left
  const ran = underLock(db, () => {
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${n.schemaVersion} (
        version INTEGER PRIMARY KEY,
        description TEXT NOT NULL,
        applied_at INTEGER NOT NULL
      )`,
    )
    const row = db
      .prepare(`SELECT COALESCE(MAX(version), 0) AS version FROM ${n.schemaVersion}`)
      .safeIntegers(false)
      .get() as { version: number }
    const plan = planMigrations(steps, row.version)
    if (E.isLeft(plan)) return plan
    const record = db.prepare(`INSERT INTO ${n.schemaVersion} (version, description, applied_at) VALUES (?, ?, ?)`)
    for (const m of plan.right.pending) {
      for (const sql of m.statements(n)) db.exec(sql)
      record.run(m.version, m.description, Date.now())
    }
    return E.right(reportOf(plan.right))
  })
  if (E.isLeft(ran)) throw ran.left
  return ran.right
}

/** Removes every table the store created (indexes go with their tables). */
export const dropStatements = (n: Names): readonly string[] => [
  `DROP TABLE IF EXISTS ${n.commits}`,
  `DROP TABLE IF EXISTS ${n.snapshots}`,
  `DROP TABLE IF EXISTS ${n.checkpointFloor}`,
  `DROP TABLE IF EXISTS ${n.leases}`,
  `DROP TABLE IF EXISTS ${n.checkpoints}`,
  `DROP TABLE IF EXISTS ${n.parked}`,
  `DROP TABLE IF EXISTS ${n.documents}`,
  `DROP TABLE IF EXISTS ${n.schemaVersion}`,
]
