import { createHash } from 'node:crypto'
import type { Migration as SqlMigration } from '../sql/migrations.js'
import type { PostgresConfig } from './config.js'

// -------------------------------------------------------------------------------------
// names
// -------------------------------------------------------------------------------------

/** Quoted, schema-qualified names of everything the store creates. Built once from validated options. */
export interface Names {
  readonly schema: string
  readonly commits: string
  readonly snapshots: string
  readonly migrations: string
  readonly subscriptions: string
  readonly parked: string
  /** Documents of document projections (version 3). */
  readonly documents: string
  /** Unquoted constraint names, as PostgreSQL reports them in a unique violation. */
  readonly constraints: {
    readonly token: string
    readonly sequence: string
    readonly commitId: string
  }
  /** Key of the advisory lock that serialises `initialize()` for this schema. */
  readonly lockKey: string
  /**
   * The `NOTIFY` channel of this store's appends (unquoted): `aett/<schema>/<commits table>`, or, when that does
   * not fit PostgreSQL's 63-byte identifiers, `aett/` and a hash of it.
   */
  readonly channel: string
}

// Identifiers are validated against /^[A-Za-z_][A-Za-z0-9_]*$/ before they get here, so quoting cannot be escaped.
const quote = (identifier: string): string => `"${identifier}"`

export const names = (config: Pick<PostgresConfig, 'schema' | 'tables'>): Names => {
  const schema = quote(config.schema)
  const { commits, snapshots, migrations, subscriptions, parked, documents } = config.tables
  return {
    schema,
    commits: `${schema}.${quote(commits)}`,
    snapshots: `${schema}.${quote(snapshots)}`,
    migrations: `${schema}.${quote(migrations)}`,
    subscriptions: `${schema}.${quote(subscriptions)}`,
    parked: `${schema}.${quote(parked)}`,
    documents: `${schema}.${quote(documents)}`,
    constraints: {
      token: `${commits}_token_pk`,
      sequence: `${commits}_sequence_uq`,
      commitId: `${commits}_commit_id_uq`,
    },
    lockKey: `aett/postgres:${config.schema}`,
    channel: channelOf(config.schema, commits),
  }
}

const maxIdentifierBytes = 63

const channelOf = (schema: string, commits: string): string => {
  const readable = `aett/${schema}/${commits}`
  return readable.length <= maxIdentifierBytes ? readable : `aett/${createHash('sha256').update(readable).digest('hex').slice(0, 32)}`
}

// -------------------------------------------------------------------------------------
// checkpoint tokens
// -------------------------------------------------------------------------------------

/**
 * Since version 4, a commit's token is `xid * 2^ordinalBits + ordinal`: `xid` the id of the transaction that wrote
 * it (`pg_current_xact_id()`, 64 bits, never reused), `ordinal` its place among that transaction's commits
 * (0..2^ordinalBits - 1). Every transaction in flight, and every one yet to start, has an id at or above the
 * snapshot's xmin, so all its tokens are at or above `xmin * 2^ordinalBits`: that is the gap-free horizon.
 *
 * Tokens are JavaScript numbers, exact below 2^53, so the scheme holds while transaction ids stay below
 * 2^(53 - ordinalBits) = 2^45 (about 3.5e13: 110 years at 10,000 transactions a second); `initialize()` refuses a
 * cluster past `maxTransactionId`. With 8 bits a transaction holds at most 256 commits: group commit's `maxBatch`.
 */
export const tokenScheme = {
  ordinalBits: 8,
  /** Commits one transaction can hold. */
  ordinals: 2 ** 8,
  /** The highest transaction id whose tokens are still exact JavaScript numbers. */
  maxTransactionId: 2 ** (53 - 8) - 1,
} as const

// -------------------------------------------------------------------------------------
// migrations
// -------------------------------------------------------------------------------------

/** One forward step of the schema. Steps run in `version` order, each at most once, inside one transaction. */
export type Migration = SqlMigration<Names>

/**
 * Version 1.
 *
 * - `checkpoint_token` is the id of the transaction that wrote the commit (`pg_current_xact_id()`), which is what
 *   makes global reads gap-free: see `statements.ts` and docs/stores/postgres.md.
 * - Bodies and headers are `json`, not `jsonb`: `json` keeps the text exactly (key order, duplicate keys,
 *   `\u0000`), and the store never queries inside them.
 * - Both uniqueness rules of an append live in the database, so that no race between writers can break them.
 */
const v1: Migration = {
  version: 1,
  description: 'commits and snapshots',
  statements: (n) => [
    `CREATE TABLE ${n.commits} (
      checkpoint_token bigint NOT NULL,
      tenant_id text NOT NULL,
      stream_id text NOT NULL,
      stream_revision bigint NOT NULL,
      event_count integer NOT NULL,
      commit_id text NOT NULL,
      commit_sequence bigint NOT NULL,
      commit_stamp timestamptz NOT NULL,
      headers json NOT NULL,
      events json NOT NULL,
      CONSTRAINT ${quoteConstraint(n.constraints.token)} PRIMARY KEY (checkpoint_token),
      CONSTRAINT ${quoteConstraint(n.constraints.sequence)} UNIQUE (tenant_id, stream_id, commit_sequence),
      CONSTRAINT ${quoteConstraint(n.constraints.commitId)} UNIQUE (tenant_id, stream_id, commit_id),
      CHECK (event_count > 0 AND commit_sequence > 0 AND stream_revision >= event_count)
    )`,
    `CREATE INDEX ${quoteConstraint(`${unqualified(n.commits)}_tenant_token_ix`)} ON ${n.commits} (tenant_id, checkpoint_token)`,
    `CREATE TABLE ${n.snapshots} (
      tenant_id text NOT NULL,
      stream_id text NOT NULL,
      stream_revision bigint NOT NULL,
      commit_sequence bigint NOT NULL,
      payload json NOT NULL,
      headers json NOT NULL,
      PRIMARY KEY (tenant_id, stream_id, stream_revision)
    )`,
  ],
}

/**
 * Version 2: what subscriptions keep (issue 13), beside the log.
 *
 * - One row per subscription holds its lease and its checkpoint together, so that a fenced checkpoint write is a
 *   single `UPDATE ... WHERE epoch = $n` on the row the lease lives in. `expires_at` is always set from the
 *   server's `clock_timestamp()`, never from a client's clock. `checkpoint` is NULL until one is stored.
 * - Parked commits (dead letters) are keyed by subscription and token; parking a token again replaces its record.
 */
const v2: Migration = {
  version: 2,
  description: 'subscriptions: leases, checkpoints, parked commits',
  statements: (n) => [
    `CREATE TABLE ${n.subscriptions} (
      name text NOT NULL PRIMARY KEY,
      holder text NOT NULL,
      epoch bigint NOT NULL,
      expires_at timestamptz NOT NULL,
      released boolean NOT NULL,
      checkpoint json
    )`,
    `CREATE TABLE ${n.parked} (
      name text NOT NULL,
      checkpoint_token bigint NOT NULL,
      tenant_id text NOT NULL,
      stream_id text NOT NULL,
      error json NOT NULL,
      parked_at timestamptz NOT NULL,
      PRIMARY KEY (name, checkpoint_token)
    )`,
  ],
}

/**
 * Version 3: the documents of document projections (issue 15). The key is three columns, never one joined
 * string, so that no id reaches another projection's or tenant's documents. `doc` is the JSON text as written
 * (`text`, not `jsonb`, which would reorder keys and normalise numbers): it reads back exactly. The keys sort
 * by `"C"` (bytes), so that paging does not depend on the server's locale.
 */
const v3: Migration = {
  version: 3,
  description: 'documents of document projections',
  statements: (n) => [
    `CREATE TABLE ${n.documents} (
      projection text COLLATE "C" NOT NULL,
      tenant_id text COLLATE "C" NOT NULL,
      id text COLLATE "C" NOT NULL,
      doc text NOT NULL,
      PRIMARY KEY (projection, tenant_id, id)
    )`,
  ],
}

/**
 * Version 4: checkpoint tokens that let one transaction hold many commits (group commit, issue 18). A new commit's
 * token is its transaction's id times 2^`ordinalBits` plus its ordinal in that transaction (see `tokenScheme`);
 * the horizon is scaled alike (`token < xmin * 2^ordinalBits`). Stored tokens are kept as they are: each is an old
 * transaction id, lower than the id of any transaction that starts after this step, so below every new token.
 *
 * The column is renamed (`checkpoint_token` to `token`), so that a process still running an earlier release fails
 * loudly on its next statement, reads and appends alike, instead of writing a token of the old scheme (far below
 * the new ones, behind readers that already passed it) or waiting for ever behind its old, unscaled horizon. The
 * rename waits for the appends in flight (it takes the table's exclusive lock) and is instant (a catalog change).
 */
const v4: Migration = {
  version: 4,
  description: 'checkpoint tokens: transaction id x 256 + ordinal',
  statements: (n) => [`ALTER TABLE ${n.commits} RENAME COLUMN checkpoint_token TO token`],
}

const quoteConstraint = quote

// The table part of a qualified name `"schema"."table"`, without quotes.
const unqualified = (qualified: string): string => qualified.slice(qualified.lastIndexOf('.') + 2, -1)

/** Every step, oldest first. Append new steps; never edit a released one. */
export const migrations: readonly Migration[] = [v1, v2, v3, v4]

export const latestVersion = (): number => migrations[migrations.length - 1]?.version ?? 0

/** The table that records applied versions; created before any step runs. */
export const createMigrationsTable = (n: Names): string =>
  `CREATE TABLE IF NOT EXISTS ${n.migrations} (
    version integer PRIMARY KEY,
    description text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`
