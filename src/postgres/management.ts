import * as E from 'fp-ts/lib/Either.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import { planMigrations } from '../sql/migrations.js'
import type { PgQueryable } from './config.js'
import { run } from './connection.js'
import type { Context } from './context.js'
import { sqlState, sqlStates } from './errors.js'
import { createMigrationsTable, migrations, tokenScheme, type Names } from './schema.js'

type Done = Promise<E.Either<StorageError, void>>

/**
 * Brings the schema to the latest version in one transaction. A transaction-scoped advisory lock keyed by the
 * schema name makes concurrent initializers (two processes starting at once) take turns: the second finds the
 * work done. Everything, the lock included, ends with the transaction.
 */
const migrate = async (client: PgQueryable, n: Names): Done => {
  const steps: readonly (() => Promise<E.Either<StorageError, unknown>>)[] = [
    () => run(client, 'initialize (lock)', 'SELECT pg_advisory_xact_lock(hashtext($1))', [n.lockKey]),
    () => run(client, 'initialize (schema)', `CREATE SCHEMA IF NOT EXISTS ${n.schema}`),
    () => run(client, 'initialize (versions)', createMigrationsTable(n)),
  ]
  for (const step of steps) {
    const r = await step()
    if (E.isLeft(r)) return r
  }
  const rows = await run(client, 'initialize (versions)', `SELECT COALESCE(max(version), 0) AS version FROM ${n.migrations}`)
  if (E.isLeft(rows)) return rows
  const plan = planMigrations(migrations, Number(rows.right[0]?.['version'] ?? 0))
  if (E.isLeft(plan)) return E.left(storageError('initialize', plan.left))
  for (const m of plan.right.pending) {
    for (const statement of m.statements(n)) {
      const r = await run(client, `initialize (version ${m.version})`, statement)
      if (E.isLeft(r)) return r
    }
    const r = await run(client, `initialize (version ${m.version})`, `INSERT INTO ${n.migrations} (version, description) VALUES ($1, $2)`, [
      m.version,
      m.description,
    ])
    if (E.isLeft(r)) return r
  }
  return checkTransactionCounter(client, n)
}

/**
 * Tokens grow with transaction ids (`tokenScheme` in schema.ts), so they only grow while the cluster's transaction
 * counter is ahead of every stored token: every token below `xid * 2^ordinalBits`. A logical dump restored into a
 * new cluster breaks that (new commits would get lower tokens, and the restored ones would be held back for ever),
 * so initialize() refuses such a database instead of serving it; and a cluster whose ids have outgrown the scheme's
 * bound (tokens past 2^53 would no longer be exact numbers). Tokens of version 1-3 (plain ids) are below the bound
 * of any later transaction, so they pass.
 */
const checkTransactionCounter = async (client: PgQueryable, n: Names): Done => {
  const rows = await run(
    client,
    'initialize (transaction counter)',
    `SELECT max(token)::text AS token, pg_current_xact_id()::text AS xid FROM ${n.commits}`,
  )
  if (E.isLeft(rows)) return rows
  const token = rows.right[0]?.['token']
  const xid = BigInt(String(rows.right[0]?.['xid']))
  if (xid > BigInt(tokenScheme.maxTransactionId))
    return E.left(
      storageError(
        'initialize',
        new Error(`the cluster's transaction counter (${xid}) is past ${tokenScheme.maxTransactionId}, beyond which checkpoint tokens are not exact numbers`),
      ),
    )
  if (token === null || token === undefined || BigInt(String(token)) < xid * BigInt(tokenScheme.ordinals)) return E.right(undefined)
  return E.left(
    storageError(
      'initialize',
      new Error(
        `the cluster's transaction counter (${xid}) is not past the highest stored checkpoint token ` +
          `(${String(token)}, tokens are transaction ids x ${tokenScheme.ordinals}), as after restoring a logical dump into a new cluster; advance it (pg_resetwal -x) ` +
          'before using this store, see docs/stores/postgres.md',
      ),
    ),
  )
}

export const initialize = (ctx: Context): Done => ctx.db.transaction('initialize', (client) => migrate(client, ctx.names))

/**
 * Drops the store's tables (its subscriptions' too), then its schema if that is now empty. A schema that also holds
 * other objects (or is `public`) is kept: the store removes only what it created.
 */
export const drop = (ctx: Context): Done =>
  ctx.db.transaction('drop', async (client) => {
    const n = ctx.names
    const tables = await run(client, 'drop', ctx.sql.drop)
    if (E.isLeft(tables)) return tables
    if (n.schema === '"public"') return E.right(undefined)
    await run(client, 'drop', 'SAVEPOINT drop_schema')
    const schema = await run(client, 'drop', `DROP SCHEMA IF EXISTS ${n.schema} RESTRICT`)
    if (E.isRight(schema)) return E.right(undefined)
    if (sqlState(schema.left.cause) !== sqlStates.dependentObjectsStillExist) return schema
    const back = await run(client, 'drop', 'ROLLBACK TO SAVEPOINT drop_schema')
    return E.isLeft(back) ? back : E.right(undefined)
  })

export const purge = async (ctx: Context, tenantId: string | undefined): Done => {
  const rows =
    tenantId === undefined
      ? await ctx.db.query('purge', ctx.sql.purgeAll, [])
      : await ctx.db.query('purge', ctx.sql.purgeTenant, [tenantId])
  return E.isLeft(rows) ? rows : E.right(undefined)
}

export const deleteStream = async (ctx: Context, tenantId: string, streamId: string): Done => {
  const rows = await ctx.db.query('deleteStream', ctx.sql.deleteStream, [tenantId, streamId])
  return E.isLeft(rows) ? rows : E.right(undefined)
}
