import { createHash } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { StoreShell } from '../eventstore/adapter/defineStore.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import { singleShardPosition, type DocumentKey, type DocumentPage, type ProjectionStore } from '../eventstore/projectionStore.js'
import { leaseLost, type LeaseLost } from '../eventstore/subscriptionStore.js'
import { num } from '../sql/rows.js'
import type { MysqlPoolConnection } from './config.js'
import { execute, selectRows, withTransaction } from './connection.js'
import type { MysqlContext } from './context.js'
import { addInline } from './inline.js'
import { encodeCheckpoint, nameKey, toCheckpoint } from './rows.js'
import { projectionFor } from '../projections/define.js'

/**
 * The transaction handle a MySQL/MariaDB projection's handlers receive: the mysql2 pool connection the store
 * borrowed, inside `START TRANSACTION` (typed by the part of mysql2's connection the kit relies on; at run time it
 * is mysql2's own promise connection). Handlers must neither commit, roll back nor release it.
 */
export type MysqlProjectionTx = MysqlPoolConnection

const statementsOf = (ctx: MysqlContext) => {
  const s = ctx.names.subscriptions
  const d = ctx.names.documents
  return {
    // Locks the lease row: a takeover (an UPDATE of that row) waits for this transaction, or this one sees it.
    fence: `SELECT positions FROM ${s} WHERE name_key = ? AND holder_key = ? AND epoch = ? AND released = 0 FOR UPDATE`,
    unpark: `DELETE FROM ${ctx.names.parked} WHERE name_key = ? AND checkpoint_token = ?`,
    save: `UPDATE ${s} SET positions = ?, writes = writes + 1 WHERE name_key = ?`,
    load: `SELECT doc FROM ${d} WHERE projection_key = ? AND doc_key = ?`,
    upsert: `INSERT INTO ${d} (projection_key, doc_key, tenant_key, projection, tenant_id, id, doc) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON DUPLICATE KEY UPDATE doc = VALUES(doc)`,
    remove: `DELETE FROM ${d} WHERE projection_key = ? AND doc_key = ?`,
    clear: `DELETE FROM ${d} WHERE projection_key = ?`,
    rename: `UPDATE ${d} SET projection_key = ?, projection = ? WHERE projection_key = ?`,
    pageAll: `SELECT doc_key, tenant_id, id, doc FROM ${d} WHERE projection_key = ? AND doc_key > ? ORDER BY doc_key LIMIT ?`,
    pageTenant: `SELECT doc_key, tenant_id, id, doc FROM ${d} WHERE projection_key = ? AND tenant_key = ? AND doc_key > ? ORDER BY doc_key LIMIT ?`,
  }
}
const cache = new WeakMap<MysqlContext, ReturnType<typeof statementsOf>>()
/** The statements of the store whose transaction a connection is in (the documents' calls get only the connection). */
const connections = new WeakMap<object, ReturnType<typeof statementsOf>>()
const sqlOf = (connection: object): ReturnType<typeof statementsOf> => {
  const sql = connections.get(connection)
  if (sql === undefined) throw new Error('a document was read or written outside a projection transaction')
  return sql
}

/** A document's key within its projection: the SHA-256 of [tenant, id] as JSON, an encoding no two keys share. */
const docKey = (key: DocumentKey): Buffer => createHash('sha256').update(JSON.stringify([key.tenantId, key.id]), 'utf8').digest()
const whereKey = (key: DocumentKey): unknown[] => [nameKey(key.projection), docKey(key)]
const keyParameters = (key: DocumentKey): unknown[] => [nameKey(key.projection), docKey(key), nameKey(key.tenantId), key.projection, key.tenantId, key.id]
const wire = (v: unknown): unknown => (typeof v === 'number' ? BigInt(v) : v)
/** Text as the driver hands it back (a string; a Buffer for a binary column). */
const textOf = (v: unknown): string | undefined => (typeof v === 'string' ? v : v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : undefined)
const statements = (ctx: MysqlContext) => {
  let s = cache.get(ctx)
  if (s === undefined) cache.set(ctx, (s = statementsOf(ctx)))
  return s
}

/**
 * The MySQL/MariaDB store's part of transactional projections (a named extra of the store's layout): each batch
 * runs in one transaction on a connection borrowed from the pool, which first locks the subscription's row through
 * the fence (`SELECT ... FOR UPDATE`), then hands the connection to the handlers, then stores the checkpoint, then
 * commits. A handler's `Left` rolls it all back.
 */
export const mysqlProjections = (shell: StoreShell<MysqlContext>): ProjectionStore<MysqlProjectionTx, 'async'> => ({
  mode: 'async',
  // Run by the append (commitStore.ts) on its transaction's connection, after the routine stored the row.
  inline: (apply) =>
    shell.run('inline', (ctx) =>
      E.right(
        addInline(ctx, (connection, commit) => {
          connections.set(connection, statements(ctx))
          return apply(connection, commit)
        }),
      ),
    ),
  documents: {
    load: async (tx, key) => {
      const [rows] = await tx.execute(sqlOf(tx).load, whereKey(key))
      return textOf((rows as { doc?: unknown }[])[0]?.doc)
    },
    save: async (tx, key, json) => {
      const sql = sqlOf(tx)
      if (json === undefined) await tx.execute(sql.remove, whereKey(key))
      else await tx.execute(sql.upsert, [...keyParameters(key), json].map(wire))
    },
    clear: async (tx, projection) => {
      await tx.execute(sqlOf(tx).clear, [nameKey(projection)])
    },
    rename: async (tx, from, to) => {
      await tx.execute(sqlOf(tx).rename, [nameKey(to), to, nameKey(from)])
    },
    get: (key) =>
      shell.run('documents.get', async (ctx) => {
        const rows = await selectRows<{ readonly doc: unknown }>(ctx.pool, 'documents.get', statements(ctx).load, whereKey(key))
        if (E.isLeft(rows)) return rows
        return E.right(O.fromNullable(textOf(rows.right[0]?.doc)))
      }),
    page: (projection, tenantId, after, limit) =>
      shell.run('documents.page', async (ctx): Promise<E.Either<StorageError, DocumentPage>> => {
        const sql = statements(ctx)
        const cursor = Buffer.from(after ?? '', 'hex')
        const rows = await selectRows<{ readonly doc_key: Uint8Array; readonly tenant_id: unknown; readonly id: unknown; readonly doc: unknown }>(
          ctx.pool,
          'documents.page',
          tenantId === undefined ? sql.pageAll : sql.pageTenant,
          tenantId === undefined ? [nameKey(projection), cursor, limit] : [nameKey(projection), nameKey(tenantId), cursor, limit],
        )
        if (E.isLeft(rows)) return rows
        const documents = rows.right.map((r) => ({ tenantId: textOf(r.tenant_id) ?? '', id: textOf(r.id) ?? '', json: textOf(r.doc) ?? 'null' }))
        const last = rows.right[rows.right.length - 1]
        return E.right({ documents, next: documents.length < limit || last === undefined ? undefined : Buffer.from(last.doc_key).toString('hex') })
      }),
  },
  transact: (fence, position, items, apply, options) =>
    shell.run('project', async (ctx): Promise<E.Either<StorageError | LeaseLost, void>> => {
      const sql = statements(ctx)
      const key = nameKey(fence.name)
      // The transaction helper rolls back on any Left; what is not a StorageError travels beside it.
      let refused: LeaseLost | undefined
      let rejected: { readonly left: unknown } | undefined
      const done = await withTransaction(ctx.pool, 'project', async (connection): Promise<E.Either<StorageError, void>> => {
        connections.set(connection, sql)
        const held = await selectRows<{ readonly positions: unknown }>(connection, 'project', sql.fence, [key, nameKey(fence.holder), fence.epoch])
        if (E.isLeft(held)) return held
        const row = held.right[0]
        if (row === undefined) {
          refused = leaseLost(fence.name, fence.epoch)
          return E.left(storageError('project', refused))
        }
        let stored: number
        try {
          stored = row.positions === null || row.positions === undefined ? 0 : singleShardPosition(toCheckpoint(row.positions).positions)
        } catch (cause) {
          return E.left(storageError('project', cause))
        }
        for (const item of items) {
          const token = item.checkpointToken
          if (token <= stored) {
            // Below the checkpoint only a parked commit (a replay) is applied; anything else was applied already.
            const unparked = await execute(connection, 'project', sql.unpark, [key, token])
            if (E.isLeft(unparked)) return unparked
            if (num((unparked.right as { affectedRows?: unknown } | null)?.affectedRows ?? 0) === 0) continue
          }
          const applied = await apply(connection, item)
          if (E.isLeft(applied)) {
            rejected = { left: applied.left }
            return E.left(storageError('project', applied.left))
          }
        }
        const saved = await execute(connection, 'project', sql.save, [encodeCheckpoint({ positions: { '0': options?.reset === true ? position : Math.max(stored, position) } }), key])
        return E.isLeft(saved) ? saved : E.right(undefined)
      })
      if (E.isRight(done)) return done
      if (refused !== undefined) return E.left(refused)
      if (rejected !== undefined) return E.left(rejected.left as never)
      return done
    }),
})

/**
 * A transactional projection for the MySQL/MariaDB store: `mysqlProjection({ name, topics, handlers })`, whose
 * handlers receive the mysql2 connection inside the batch's transaction and answer a promise.
 */
export const mysqlProjection = projectionFor<MysqlProjectionTx, 'async'>('async')
