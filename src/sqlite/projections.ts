import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { StoreShell } from '../eventstore/adapter/defineStore.js'
import { singleShardPosition, type DocumentPage, type ProjectionFence, type ProjectionStore } from '../eventstore/projectionStore.js'
import { leaseLost, type LeaseLost } from '../eventstore/subscriptionStore.js'
import type { SqliteDatabase, SqliteStatement } from './config.js'
import { underLock, withRetry } from './connection.js'
import { subscriptionStatements, type SqliteContext } from './context.js'
import { encodeCheckpoint, toCheckpoint } from './rows.js'
import type { SubscriptionStatements } from './statements.js'
import { addInline } from './inline.js'
import { projectionFor } from '../projections/define.js'

/** The statements the subscription store does not have, prepared once per statement set. */
interface ParkedStatements {
  readonly isParked: SqliteStatement
  readonly load: SqliteStatement
  readonly upsert: SqliteStatement
  readonly remove: SqliteStatement
  readonly pageAll: SqliteStatement
  readonly pageTenant: SqliteStatement
  readonly clear: SqliteStatement
  readonly rename: SqliteStatement
}
const prepared = new WeakMap<SubscriptionStatements, ParkedStatements>()
/** The context of each connection a projection ran on. */
const contexts = new WeakMap<SqliteDatabase, SqliteContext>()

const parkedStatements = (ctx: SqliteContext, st: SubscriptionStatements): ParkedStatements => {
  let p = prepared.get(st)
  if (p === undefined) {
    const d = ctx.names.documents
    const raw = (sql: string) => ctx.db.prepare(sql).safeIntegers(false).raw(true)
    p = {
      isParked: raw(`SELECT 1 FROM ${ctx.names.parked} WHERE name = ? AND checkpoint_token = ?`),
      load: raw(`SELECT doc FROM ${d} WHERE projection = ? AND tenant_id = ? AND id = ?`),
      upsert: ctx.db.prepare(`INSERT INTO ${d} (projection, tenant_id, id, doc) VALUES (?, ?, ?, ?) ON CONFLICT (projection, tenant_id, id) DO UPDATE SET doc = excluded.doc`),
      remove: ctx.db.prepare(`DELETE FROM ${d} WHERE projection = ? AND tenant_id = ? AND id = ?`),
      pageAll: raw(`SELECT tenant_id, id, doc FROM ${d} WHERE projection = ? AND (tenant_id, id) > (?, ?) ORDER BY tenant_id, id LIMIT ?`),
      clear: ctx.db.prepare(`DELETE FROM ${d} WHERE projection = ?`),
      rename: ctx.db.prepare(`UPDATE ${d} SET projection = ? WHERE projection = ?`),
      pageTenant: raw(`SELECT tenant_id, id, doc FROM ${d} WHERE projection = ? AND tenant_id = ? AND id > ? ORDER BY id LIMIT ?`),
    }
    prepared.set(st, p)
  }
  return p
}

/**
 * The SQLite store's part of transactional projections (a named extra of the store's layout): each batch runs
 * in one `BEGIN IMMEDIATE` transaction on the store's own connection, together with the fenced checkpoint write,
 * and the handlers receive that connection (the better-sqlite3 `Database`). Handlers are synchronous: a
 * better-sqlite3 transaction cannot span an `await`, and nothing else (an append, another projection) can run on
 * the connection while one is open. A busy database retries the whole transaction, handlers included (what they
 * wrote was rolled back with it).
 */
export const sqliteProjections = (shell: StoreShell<SqliteContext>): ProjectionStore<SqliteDatabase, 'sync'> => {
  // `load`/`save` get only the connection (the `tx`): its context is known once a transaction or an inline
  // projection ran on it.
  const documentStatements = (db: SqliteDatabase) => {
    const ctx = contexts.get(db)
    if (ctx === undefined) throw new Error('a document was read or written outside a projection transaction')
    return parkedStatements(ctx, subscriptionStatements(ctx))
  }
  const read = <A>(operation: string, f: (st: ParkedStatements) => A) =>
    shell.run(operation, (ctx) => withRetry(operation, ctx.retry, () => E.right(f(parkedStatements(ctx, subscriptionStatements(ctx))))))
  return {
  mode: 'sync',
  inline: (apply) =>
    shell.run('inline', (ctx) => {
      contexts.set(ctx.db, ctx)
      return E.right(addInline(ctx, apply))
    }),
  documents: {
    load: (tx, key) => {
      const row = documentStatements(tx).load.get(key.projection, key.tenantId, key.id) as readonly unknown[] | undefined
      return row === undefined ? undefined : String(row[0])
    },
    save: (tx, key, json) => {
      const st = documentStatements(tx)
      if (json === undefined) st.remove.run(key.projection, key.tenantId, key.id)
      else st.upsert.run(key.projection, key.tenantId, key.id, json)
    },
    clear: (tx, projection) => {
      documentStatements(tx).clear.run(projection)
    },
    rename: (tx, from, to) => {
      documentStatements(tx).rename.run(to, from)
    },
    get: (key) =>
      read('documents.get', (st) => {
        const row = st.load.get(key.projection, key.tenantId, key.id) as readonly unknown[] | undefined
        return row === undefined ? O.none : O.some(String(row[0]))
      }),
    page: (projection, tenantId, after, limit) =>
      read('documents.page', (st): DocumentPage => {
        const [afterTenant, afterId] = cursorOf(after)
        const rows = (
          tenantId === undefined ? st.pageAll.all(projection, afterTenant, afterId, limit) : st.pageTenant.all(projection, tenantId, afterId, limit)
        ) as (readonly unknown[])[]
        const documents = rows.map((r) => ({ tenantId: String(r[0]), id: String(r[1]), json: String(r[2]) }))
        const last = documents[documents.length - 1]
        return { documents, next: documents.length < limit || last === undefined ? undefined : JSON.stringify([last.tenantId, last.id]) }
      }),
  },
  transact: <I extends { readonly checkpointToken: number }, F>(
    fence: ProjectionFence,
    position: number,
    items: readonly I[],
    apply: (tx: SqliteDatabase, item: I) => E.Either<F, void>,
    options?: { readonly reset?: boolean },
  ) =>
    shell.run('project', (ctx) =>
      withRetry('project', ctx.retry, () =>
        underLock(ctx.db, (): E.Either<LeaseLost | F, void> => {
          contexts.set(ctx.db, ctx)
          return transaction()
          function transaction(): E.Either<LeaseLost | F, void> {
          const st = subscriptionStatements(ctx)
          const params = { name: fence.name, holder: fence.holder, epoch: fence.epoch }
          if (st.holds.get(params) === undefined) return E.left<LeaseLost>(leaseLost(fence.name, fence.epoch))
          const row = st.checkpoint.get(fence.name) as readonly unknown[] | undefined
          const stored = row === undefined ? 0 : singleShardPosition(toCheckpoint(row[0]).positions)
          for (const item of items) {
            const token = item.checkpointToken
            if (token <= stored) {
              // Below the checkpoint only a parked commit (a replay) is applied; anything else was applied already.
              if (parkedStatements(ctx, st).isParked.get(fence.name, token) === undefined) continue
              st.unpark.run(fence.name, token)
            }
            const applied = apply(ctx.db, item)
            if (E.isLeft(applied)) return applied
          }
          st.writeCheckpoint.run({ name: fence.name, positions: encodeCheckpoint({ positions: { '0': options?.reset === true ? position : Math.max(stored, position) } }) })
          return E.right(undefined)
          }
        }),
      ),
    ),
  }
}

/** The page cursor: the last (tenant, id) of the page before, as JSON; none starts before every key. */
const cursorOf = (after: string | undefined): [string, string] => {
  if (after === undefined) return ['', '']
  const parsed: unknown = JSON.parse(after)
  if (!Array.isArray(parsed) || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') throw new TypeError('not a page cursor of this store')
  return [parsed[0], parsed[1]]
}

/**
 * A transactional projection for the SQLite store: `sqliteProjection({ name, topics, handlers })`, whose handlers
 * receive the better-sqlite3 `Database` inside the batch's transaction and must answer at once (no promise).
 */
export const sqliteProjection = projectionFor<SqliteDatabase, 'sync'>('sync')
