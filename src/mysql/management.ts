import { createHash } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import { planMigrations } from '../sql/migrations.js'
import { num } from '../sql/rows.js'
import type { MysqlPoolConnection } from './config.js'
import { execute, inTransaction, runText, selectRows, withConnection } from './connection.js'
import type { MysqlContext } from './context.js'
import { streamKey, tenantKey } from './rows.js'
import { dropStatements, migrations, schemaVersionDdl, type MysqlNames } from './schema.js'

type Done = Promise<E.Either<StorageError, void>>

// -------------------------------------------------------------------------------------
// initialize (migrations)
// -------------------------------------------------------------------------------------

/** Seconds a process waits for another one's migration to finish before `initialize` fails. */
const lockTimeoutSeconds = 60

/**
 * Named locks are server-wide and limited to 64 characters, so the name is a digest of the database and the
 * prefix: two stores with different prefixes never wait for each other.
 */
const lockName = (connectionDatabase: string, n: MysqlNames): string =>
  `aett_${createHash('sha256').update(`${connectionDatabase}\u0000${n.prefix}`).digest('hex').slice(0, 40)}`

/** The first column of the single row a statement answers. */
const single = async (c: MysqlPoolConnection, sql: string, values: readonly unknown[]): Promise<E.Either<StorageError, unknown>> => {
  const rows = await selectRows<Record<string, unknown>>(c, 'initialize', sql, values)
  if (E.isLeft(rows)) return rows
  const row = rows.right[0]
  return E.right(row === undefined ? undefined : Object.values(row)[0])
}

const migrateLocked = async (ctx: MysqlContext, c: MysqlPoolConnection): Done => {
  const n = ctx.names
  const created = await runText(c, 'initialize', schemaVersionDdl(n))
  if (E.isLeft(created)) return created
  const version = await single(c, ctx.statements.appliedVersion, [])
  if (E.isLeft(version)) return version
  const plan = planMigrations(migrations, num(version.right ?? 0))
  if (E.isLeft(plan)) return E.left(storageError('initialize', plan.left))
  for (const step of plan.right.pending) {
    for (const sql of step.statements(n)) {
      const done = await runText(c, `initialize (migration ${step.version})`, sql)
      if (E.isLeft(done)) return done
    }
    const recorded = await execute(c, 'initialize', ctx.statements.recordVersion, [step.version, Date.now()])
    if (E.isLeft(recorded)) return recorded
  }
  return E.right(undefined)
}

/**
 * Brings the schema to the newest version. Idempotent, and safe when several processes initialise at once: a
 * named lock (`GET_LOCK`, held by this session until released or disconnected) lets one migrate while the others
 * wait, after which they find nothing left to do.
 */
export const initialize = (ctx: MysqlContext): Done =>
  withConnection(ctx.pool, 'initialize', async (c) => {
    const database = await single(c, ctx.statements.currentDatabase, [])
    if (E.isLeft(database)) return database
    if (typeof database.right !== 'string') return E.left(storageError('initialize', new Error('the connection has no default database')))
    const name = lockName(database.right, ctx.names)
    const locked = await single(c, ctx.statements.getLock, [name, lockTimeoutSeconds])
    if (E.isLeft(locked)) return locked
    if (num(locked.right ?? 0) !== 1) return E.left(storageError('initialize', new Error(`timed out waiting for the migration lock ${name}`)))
    const migrated = await migrateLocked(ctx, c)
    const released = await single(c, ctx.statements.releaseLock, [name])
    if (E.isLeft(migrated)) return migrated
    return E.isLeft(released) ? released : E.right(undefined)
  })

// -------------------------------------------------------------------------------------
// drop, purge, deleteStream
// -------------------------------------------------------------------------------------

export const drop = async (ctx: MysqlContext): Done => {
  for (const sql of dropStatements(ctx.names)) {
    const done = await runText(ctx.pool, 'drop', sql)
    if (E.isLeft(done)) return done
  }
  return E.right(undefined)
}

/**
 * Deletes in one transaction that first locks the counter row, so that deletes queue with appends: an append
 * sees a stream either whole or gone. The counter is kept: tokens are never reused.
 */
export const purge = (ctx: MysqlContext, tenantId: string | undefined): Done => {
  const s = ctx.statements
  if (tenantId === undefined) {
    return inTransaction(ctx.pool, 'purge', [
      [s.lockCounter, []],
      [s.purgeAllCommits, []],
      [s.purgeAllSnapshots, []],
    ])
  }
  const key = tenantKey(tenantId)
  return inTransaction(ctx.pool, 'purge', [
    [s.lockCounter, []],
    [s.purgeCommits, [key]],
    [s.purgeSnapshots, [key]],
  ])
}

export const deleteStream = (ctx: MysqlContext, tenantId: string, streamId: string): Done => {
  const s = ctx.statements
  const key = streamKey(tenantId, streamId)
  return inTransaction(ctx.pool, 'deleteStream', [
    [s.lockCounter, []],
    [s.deleteCommits, [key]],
    [s.deleteSnapshots, [key]],
  ])
}
