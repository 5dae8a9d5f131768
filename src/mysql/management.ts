import { createHash } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import { planMigrations } from '../sql/migrations.js'
import type { MysqlPoolConnection } from './config.js'
import { run, withConnection, type MysqlContext } from './db.js'
import { toNumber } from './rows.js'
import { migrations, schemaVersionDdl, type MysqlNames } from './schema.js'

/** Seconds a process waits for another one's migration to finish before `initialize` fails. */
const lockTimeoutSeconds = 60

/**
 * Named locks are server-wide and limited to 64 characters, so the name is a digest of the database and the
 * prefix: two stores with different prefixes never wait for each other.
 */
const lockName = (connectionDatabase: string, n: MysqlNames): string =>
  `aett_${createHash('sha256').update(`${connectionDatabase}\u0000${n.prefix}`).digest('hex').slice(0, 40)}`

const currentDatabase = async (c: MysqlPoolConnection): Promise<E.Either<StorageError, string>> => {
  const rows = await run(c, 'initialize', 'SELECT DATABASE() AS db')
  if (E.isLeft(rows)) return rows
  const db = (rows.right as readonly { readonly db: unknown }[])[0]?.db
  return typeof db === 'string' ? E.right(db) : E.left(storageError('initialize', new Error('the connection has no default database')))
}

const appliedVersion = async (c: MysqlPoolConnection, n: MysqlNames): Promise<E.Either<StorageError, number>> => {
  const rows = await run(c, 'initialize', `SELECT COALESCE(MAX(version), 0) AS version FROM ${n.schemaVersion}`)
  if (E.isLeft(rows)) return rows
  return E.right(toNumber((rows.right as readonly { readonly version: unknown }[])[0]?.version ?? 0))
}

const migrateLocked = async (ctx: MysqlContext, c: MysqlPoolConnection): Promise<E.Either<StorageError, void>> => {
  const n = ctx.names
  const created = await run(c, 'initialize', schemaVersionDdl(n))
  if (E.isLeft(created)) return created
  const version = await appliedVersion(c, n)
  if (E.isLeft(version)) return version
  const plan = planMigrations(migrations, version.right)
  if (E.isLeft(plan)) return E.left(storageError('initialize', plan.left))
  for (const step of plan.right.pending) {
    for (const sql of step.statements(n)) {
      const done = await run(c, `initialize (migration ${step.version})`, sql)
      if (E.isLeft(done)) return done
    }
    const recorded = await run(c, 'initialize', `INSERT INTO ${n.schemaVersion} (version, applied_at) VALUES (?, ?)`, [
      step.version,
      Date.now(),
    ])
    if (E.isLeft(recorded)) return recorded
  }
  return E.right(undefined)
}

/**
 * Brings the schema to the newest version. Idempotent, and safe when several processes initialise at once: a
 * named lock (`GET_LOCK`, held by this session until released or disconnected) lets one migrate while the others
 * wait, after which they find nothing left to do.
 */
export const migrate = (ctx: MysqlContext): Promise<E.Either<StorageError, void>> =>
  withConnection(ctx, 'initialize', async (c) => {
    const database = await currentDatabase(c)
    if (E.isLeft(database)) return database
    const name = lockName(database.right, ctx.names)
    const locked = await run(c, 'initialize', 'SELECT GET_LOCK(?, ?) AS locked', [name, lockTimeoutSeconds])
    if (E.isLeft(locked)) return locked
    if (toNumber((locked.right as readonly { readonly locked: unknown }[])[0]?.locked) !== 1) {
      return E.left(storageError('initialize', new Error(`timed out waiting for the migration lock ${name}`)))
    }
    const migrated = await migrateLocked(ctx, c)
    const released = await run(c, 'initialize', 'SELECT RELEASE_LOCK(?)', [name])
    if (E.isLeft(migrated)) return migrated
    return E.isLeft(released) ? released : E.right(undefined)
  })
