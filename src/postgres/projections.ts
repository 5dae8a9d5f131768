import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { StoreShell } from '../eventstore/adapter/defineStore.js'
import { storageError, type StorageError } from '../eventstore/errors.js'
import { singleShardPosition, type DocumentPage, type ProjectionStore } from '../eventstore/projectionStore.js'
import { leaseLost, type LeaseLost } from '../eventstore/subscriptionStore.js'
import type { PgPoolClient, PgQueryable } from './config.js'
import { run } from './connection.js'
import { addInline } from './inline.js'
import type { Context } from './context.js'
import { checkpointJson, toCheckpoint } from './rows.js'
import { projectionFor } from '../projections/define.js'

/**
 * The transaction handle a PostgreSQL projection's handlers receive: the pg `PoolClient` the store checked out,
 * inside `BEGIN` (typed by the part of pg's client the kit relies on; at run time it is pg's own client, so a cast
 * to `pg.PoolClient` is sound). Handlers must neither commit, roll back nor release it.
 */
export type PostgresProjectionTx = PgPoolClient

/** The statements of a projection's transaction, built once per store from its names. */
const statementsOf = (ctx: Context) => {
  const s = ctx.names.subscriptions
  const d = ctx.names.documents
  return {
    // Locks the lease row (so a takeover waits for this transaction, and this one sees a takeover that came first).
    fence: `SELECT checkpoint FROM ${s} WHERE name = $1 AND holder = $2 AND epoch = $3::bigint AND NOT released FOR UPDATE`,
    unpark: `DELETE FROM ${ctx.names.parked} WHERE name = $1 AND checkpoint_token = $2::bigint RETURNING 1 AS parked`,
    save: `UPDATE ${s} SET checkpoint = $2::json WHERE name = $1`,
    load: `SELECT doc FROM ${d} WHERE projection = $1 AND tenant_id = $2 AND id = $3`,
    upsert: `INSERT INTO ${d} (projection, tenant_id, id, doc) VALUES ($1, $2, $3, $4)
      ON CONFLICT (projection, tenant_id, id) DO UPDATE SET doc = EXCLUDED.doc`,
    remove: `DELETE FROM ${d} WHERE projection = $1 AND tenant_id = $2 AND id = $3`,
    clear: `DELETE FROM ${d} WHERE projection = $1`,
    rename: `UPDATE ${d} SET projection = $2 WHERE projection = $1`,
    pageAll: `SELECT tenant_id, id, doc FROM ${d} WHERE projection = $1 AND (tenant_id, id) > ($2, $3) ORDER BY tenant_id, id LIMIT $4`,
    pageTenant: `SELECT tenant_id, id, doc FROM ${d} WHERE projection = $1 AND tenant_id = $2 AND id > $3 ORDER BY id LIMIT $4`,
  }
}
const cache = new WeakMap<Context, ReturnType<typeof statementsOf>>()
/** The statements of the store whose transaction a client is in (the documents' calls get only the client). */
const clients = new WeakMap<object, ReturnType<typeof statementsOf>>()
const sqlOfClient = (client: object): ReturnType<typeof statementsOf> => {
  const sql = clients.get(client)
  if (sql === undefined) throw new Error('a document was read or written outside a projection transaction')
  return sql
}

/** The page cursor: the last (tenant, id) of the page before, as JSON; none starts before every key. */
const cursorOf = (after: string | undefined): [string, string] => {
  if (after === undefined) return ['', '']
  const parsed: unknown = JSON.parse(after)
  if (!Array.isArray(parsed) || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') throw new TypeError('not a page cursor of this store')
  return [parsed[0], parsed[1]]
}
const statements = (ctx: Context) => {
  let s = cache.get(ctx)
  if (s === undefined) cache.set(ctx, (s = statementsOf(ctx)))
  return s
}

/**
 * The PostgreSQL store's part of transactional projections (a named extra of the store's layout): each batch runs
 * in one transaction on a client checked out of the pool, which first locks the subscription's lease row through
 * the fence (`FOR UPDATE`), then hands the client to the handlers, then stores the checkpoint, then commits. A
 * handler's `Left` rolls it all back; so does a lost connection (a commit whose answer was lost and that did
 * land is found by the next try: its items are at or below the stored checkpoint, and skipped).
 */
export const postgresProjections = (shell: StoreShell<Context>): ProjectionStore<PostgresProjectionTx, 'async'> => ({
  mode: 'async',
  inline: (apply) =>
    shell.run('inline', (ctx) =>
      E.right(
        addInline(ctx, (client, commit) => {
          clients.set(client, statements(ctx))
          return apply(client as PostgresProjectionTx, commit)
        }),
      ),
    ),
  documents: {
    // Inside a transaction: the statements of the store's own context (the client is the transaction's).
    load: async (tx, key) => {
      const { rows } = await tx.query({ text: sqlOfClient(tx).load, values: [key.projection, key.tenantId, key.id] })
      const doc = rows[0]?.['doc']
      return typeof doc === 'string' ? doc : undefined
    },
    save: async (tx, key, json) => {
      const sql = sqlOfClient(tx)
      if (json === undefined) await tx.query({ text: sql.remove, values: [key.projection, key.tenantId, key.id] })
      else await tx.query({ text: sql.upsert, values: [key.projection, key.tenantId, key.id, json] })
    },
    clear: async (tx, projection) => {
      await tx.query({ text: sqlOfClient(tx).clear, values: [projection] })
    },
    rename: async (tx, from, to) => {
      await tx.query({ text: sqlOfClient(tx).rename, values: [from, to] })
    },
    get: (key) =>
      shell.run('documents.get', async (ctx) => {
        const rows = await ctx.db.query('documents.get', statements(ctx).load, [key.projection, key.tenantId, key.id])
        if (E.isLeft(rows)) return rows
        const doc = rows.right[0]?.['doc']
        return E.right(typeof doc === 'string' ? O.some(doc) : O.none)
      }),
    page: (projection, tenantId, after, limit) =>
      shell.run('documents.page', async (ctx): Promise<E.Either<StorageError, DocumentPage>> => {
        const sql = statements(ctx)
        let cursor: [string, string]
        try {
          cursor = cursorOf(after)
        } catch (cause) {
          return E.left(storageError('documents.page', cause))
        }
        const rows =
          tenantId === undefined
            ? await ctx.db.query('documents.page', sql.pageAll, [projection, cursor[0], cursor[1], limit])
            : await ctx.db.query('documents.page', sql.pageTenant, [projection, tenantId, cursor[1], limit])
        if (E.isLeft(rows)) return rows
        const documents = rows.right.map((r) => ({ tenantId: String(r['tenant_id']), id: String(r['id']), json: String(r['doc']) }))
        const last = documents[documents.length - 1]
        return E.right({ documents, next: documents.length < limit || last === undefined ? undefined : JSON.stringify([last.tenantId, last.id]) })
      }),
  },
  transact: (fence, position, items, apply, options) =>
    shell.run('project', async (ctx): Promise<E.Either<StorageError | LeaseLost, void>> => {
      const sql = statements(ctx)
      // The transaction helper rolls back on any Left; what is not a StorageError travels beside it.
      let refused: LeaseLost | undefined
      let rejected: { readonly left: unknown } | undefined
      const done = await ctx.db.transaction('project', async (client: PgQueryable): Promise<E.Either<StorageError, void>> => {
        clients.set(client, sql)
        const held = await run(client, 'project', sql.fence, [fence.name, fence.holder, fence.epoch])
        if (E.isLeft(held)) return held
        const row = held.right[0]
        if (row === undefined) {
          refused = leaseLost(fence.name, fence.epoch)
          return E.left(storageError('project', refused))
        }
        let stored: number
        try {
          stored = row['checkpoint'] === null || row['checkpoint'] === undefined ? 0 : singleShardPosition(toCheckpoint(row).positions)
        } catch (cause) {
          return E.left(storageError('project', cause))
        }
        for (const item of items) {
          const token = item.checkpointToken
          if (token <= stored) {
            // Below the checkpoint only a parked commit (a replay) is applied; anything else was applied already.
            const unparked = await run(client, 'project', sql.unpark, [fence.name, token])
            if (E.isLeft(unparked)) return unparked
            if (unparked.right.length === 0) continue
          }
          const applied = await apply(client as PostgresProjectionTx, item)
          if (E.isLeft(applied)) {
            rejected = { left: applied.left }
            return E.left(storageError('project', applied.left))
          }
        }
        const saved = await run(client, 'project', sql.save, [fence.name, checkpointJson({ positions: { '0': options?.reset === true ? position : Math.max(stored, position) } })])
        return E.isLeft(saved) ? saved : E.right(undefined)
      })
      if (E.isRight(done)) return done
      if (refused !== undefined) return E.left(refused)
      if (rejected !== undefined) return E.left(rejected.left as never)
      return done
    }),
})

/**
 * A transactional projection for the PostgreSQL store: `postgresProjection({ name, topics, handlers })`, whose
 * handlers receive the pg client inside the batch's transaction and answer a promise.
 */
export const postgresProjection = projectionFor<PostgresProjectionTx, 'async'>('async')
