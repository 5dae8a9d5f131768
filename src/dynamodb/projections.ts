import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { StoreShell } from '../eventstore/adapter/defineStore.js'
import {
  type ConditionalProjectionStore,
  type DocumentChange,
  type DocumentKey,
  type DocumentPage,
  type ProjectionFence,
} from '../eventstore/projectionStore.js'
import { leaseLost, type Lease, type LeaseLost, type SubscriptionStore } from '../eventstore/subscriptionStore.js'
import type { Item } from './connection.js'
import type { DynamoDbContext } from './context.js'
import { isConditionalCheckFailed } from './errors.js'
import { checkpointOf, itemBytes, leaseRowOf, N, num, parkedIndexOf, S, str } from './rows.js'
import { DA, MAX_ITEM_BYTES } from './schema.js'
import { documentGet, documentKey, documentPut, documentsOfProjectionQuery, documentsOfTenantQuery, leaseGet } from './statements.js'

/**
 * Document projections on DynamoDB, without transactions (dynalite, the emulator the store is tested on, has no
 * `TransactWriteItems`, and the store uses none). Each document is one item of the documents table (schema.ts)
 * that remembers the checkpoint token of the last commit applied to it; applying a commit to a document is one
 * conditional write on the version read, made only when that version's token is below the commit's. A commit
 * applied again (a retry, a crash before the checkpoint moved, a takeover) finds its token in each document it
 * reached and skips it: exactly once in effect per document. The checkpoint moves after the batch's writes,
 * fenced by the lease, as a subscription's does.
 *
 * Deletes keep a tombstone (the token, no document), never a plain `DeleteItem`: without the token a replayed
 * older commit would find the document absent and create it again. Replays of parked commits come below the
 * checkpoint, and below tokens of later commits the document may hold, so a document also keeps the set of
 * parked tokens replayed into it, and a replay is skipped where its token is in the set.
 */

/** Writes of one document that lost their compare-and-set (another instance wrote it between read and write). */
const maxRaces = 20

/** A document's item as read: its version (the compare-and-set), token, replayed tokens and JSON text. */
interface Stored {
  readonly version: number
  readonly token: number
  readonly replayed: readonly number[]
  readonly json: string | undefined
}

const storedOf = (item: Item | undefined): Stored | undefined =>
  item === undefined
    ? undefined
    : {
        version: num(item, DA.version),
        token: num(item, DA.token),
        replayed: (item[DA.replayed]?.NS ?? []).map(Number),
        json: item[DA.document]?.S,
      }

/** Whether the document holds the commit already: its token is at or past it, or (a replay) it was replayed in. */
const holds = (stored: Stored | undefined, token: number, replay: boolean): boolean =>
  stored !== undefined && (replay ? stored.replayed.includes(token) : stored.token >= token)

/** The next item of a document: live with `json`, or a tombstone (`undefined`) that keeps the token. */
const nextItem = (key: DocumentKey, stored: Stored | undefined, token: number, replay: boolean, json: string | undefined): Item => {
  const replayed = replay ? [...(stored?.replayed ?? []), token] : (stored?.replayed ?? [])
  return {
    ...documentKey(key.projection, key.tenantId, key.id),
    [DA.tenant]: S(key.tenantId),
    [DA.token]: N(Math.max(stored?.token ?? 0, token)),
    [DA.version]: N((stored?.version ?? 0) + 1),
    ...(replayed.length === 0 ? {} : { [DA.replayed]: { NS: replayed.map(String) } }),
    ...(json === undefined ? {} : { [DA.document]: S(json), [DA.projection]: S(key.projection) }),
  }
}

/** The item, or a throw (a `StorageError` of the batch) when it would pass DynamoDB's item limit. */
const sized = (item: Item, key: DocumentKey): Item => {
  // `itemBytes` counts a number set as one number; each replayed token is one more.
  const bytes = itemBytes(item) + Math.max(0, (item[DA.replayed]?.NS?.length ?? 0) - 1) * 21
  if (bytes > MAX_ITEM_BYTES) throw new Error(`the document ${JSON.stringify(key.id)} would be an item of ${bytes} bytes; items are limited to ${MAX_ITEM_BYTES}`)
  return item
}

/** A planned write: the document as read and its next text (`undefined`: delete). */
interface Plan<F> {
  readonly change: DocumentChange<F>
  readonly stored: Stored | undefined
  readonly json: string | undefined
}

/** The page cursor: the query's `LastEvaluatedKey` (string attributes only), as JSON. */
const encodeCursor = (key: Item | undefined): string | undefined =>
  key === undefined ? undefined : JSON.stringify(Object.fromEntries(Object.entries(key).map(([k, v]) => [k, v.S])))

const decodeCursor = (after: string | undefined): Item | undefined => {
  if (after === undefined) return undefined
  const parsed: unknown = JSON.parse(after)
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === 'string'))
    throw new TypeError('not a page cursor of this store')
  return Object.fromEntries(Object.entries(parsed as Record<string, string>).map(([k, v]) => [k, S(v)]))
}

/** The fence as the subscription store's calls take it (they read only its name, holder and epoch). */
const asLease = (fence: ProjectionFence): Lease => ({ name: fence.name, holder: fence.holder, epoch: fence.epoch, expiresAt: new Date(0) })

/**
 * Where a projection's checkpoint is: the lease item's name for a subscription name, and the key of its position.
 * The store's own: the name as it is, position `'0'`; a feed shard's view (feeds.ts): its namespaced lease items and
 * its shard's key.
 */
export interface ProjectionFeed {
  readonly leaseName: (name: string) => string
  readonly shard: string
}

const ownFeed: ProjectionFeed = { leaseName: (name) => name, shard: '0' }

/** A checkpoint's position in `shard`, 0 when absent. */
const positionIn = (positions: Readonly<Record<string, number>> | undefined, shard: string): number => {
  const p = positions?.[shard]
  return typeof p === 'number' && Number.isSafeInteger(p) && p > 0 ? p : 0
}

export const dynamoDbProjections = (shell: StoreShell<DynamoDbContext>, subscriptions: SubscriptionStore, feed: ProjectionFeed = ownFeed): ConditionalProjectionStore => {
  const read = async (ctx: DynamoDbContext, key: DocumentKey): Promise<Stored | undefined> =>
    storedOf((await ctx.connection.send('GetItem', documentGet(ctx.config, key.projection, key.tenantId, key.id))).Item)

  /** Writes a planned change; a lost compare-and-set reads again, and skips when the commit is in by then. */
  const write = async <F>(ctx: DynamoDbContext, first: Plan<F>, token: number, replay: boolean): Promise<E.Either<F, void>> => {
    let plan = first
    for (let tries = 0; tries < maxRaces; tries++) {
      // Absent and staying absent: nothing to remember (a replay finds it absent again and changes nothing).
      if (plan.stored === undefined && plan.json === undefined) return E.right(undefined)
      const item = sized(nextItem(plan.change.key, plan.stored, token, replay, plan.json), plan.change.key)
      try {
        await ctx.connection.send('PutItem', documentPut(ctx.config, item, plan.stored?.version))
        return E.right(undefined)
      } catch (cause) {
        if (!isConditionalCheckFailed(cause)) throw cause
      }
      // Someone wrote it since our read (a former holder still running, a replay): decide again on what is there.
      const stored = await read(ctx, plan.change.key)
      if (holds(stored, token, replay)) return E.right(undefined)
      const json = plan.change.next(stored?.json)
      if (E.isLeft(json)) return json
      plan = { change: plan.change, stored, json: json.right }
    }
    throw new Error(`the document ${JSON.stringify(first.change.key.id)} kept changing while this write tried to land (${maxRaces} tries)`)
  }

  return {
    mode: 'conditional',
    documents: {
      get: (key) =>
        shell.run('documents.get', async (ctx) => {
          const stored = await read(ctx, key)
          return E.right(stored?.json === undefined ? O.none : O.some(stored.json))
        }),
      page: (projection, tenantId, after, limit) =>
        shell.run('documents.page', async (ctx): Promise<E.Either<never, DocumentPage>> => {
          const start = decodeCursor(after)
          const input = tenantId === undefined ? documentsOfProjectionQuery(ctx.config, projection) : documentsOfTenantQuery(ctx.config, projection, tenantId)
          const out = await ctx.connection.send('Query', { ...input, Limit: limit, ...(start === undefined ? {} : { ExclusiveStartKey: start }) })
          const documents = (out.Items ?? [])
            .filter((item) => item[DA.document]?.S !== undefined)
            .map((item) => ({ tenantId: str(item, DA.tenant), id: str(item, DA.sk), json: str(item, DA.document) }))
          // Only a missing key ends a read: a page can be short (1 MB, or tombstones filtered out) and not the last.
          return E.right({ documents, next: encodeCursor(out.LastEvaluatedKey) })
        }),
    },

    applyDocuments: async <I extends { readonly checkpointToken: number }, F>(
      fence: ProjectionFence,
      position: number,
      items: readonly I[],
      changes: (item: I) => E.Either<F, readonly DocumentChange<F>[]>,
    ) => {
      const applied = await shell.run('project', async (ctx): Promise<E.Either<F | LeaseLost, { readonly stored: number; readonly replays: readonly number[] }>> => {
        const leaseItem = (await ctx.connection.send('GetItem', leaseGet(ctx.config, feed.leaseName(fence.name)))).Item
        const row = leaseRowOf(leaseItem)
        // Checked here to write nothing for a lease lost already; the guarantee is the fenced checkpoint write.
        if (row === undefined || row.holder !== fence.holder || row.epoch !== fence.epoch || row.released) return E.left(leaseLost(fence.name, fence.epoch))
        const stored = positionIn(checkpointOf(leaseItem)?.positions, feed.shard)
        const parked = parkedIndexOf(leaseItem)
        const replays: number[] = []
        for (const item of items) {
          const token = item.checkpointToken
          // Below the checkpoint only a parked commit (a replay) is applied; anything else was applied already.
          const replay = token <= stored
          if (replay && !parked.has(token)) continue
          const cs = changes(item)
          if (E.isLeft(cs)) return cs
          // Every document of the commit is read, changed and sized before the first is written, so that a
          // refusal (or a document too large) leaves the commit wholly unwritten.
          const plans: Plan<F>[] = []
          for (const change of cs.right) {
            const doc = await read(ctx, change.key)
            if (holds(doc, token, replay)) continue
            const json = change.next(doc?.json)
            if (E.isLeft(json)) return json
            sized(nextItem(change.key, doc, token, replay, json.right), change.key)
            plans.push({ change, stored: doc, json: json.right })
          }
          for (const plan of plans) {
            const written = await write(ctx, plan, token, replay)
            if (E.isLeft(written)) return written
          }
          if (replay) replays.push(token)
        }
        return E.right({ stored, replays })
      })
      if (E.isLeft(applied)) return applied
      const lease = asLease(fence)
      for (const token of applied.right.replays) {
        const unparked = await subscriptions.unpark(lease, token)
        if (E.isLeft(unparked)) return unparked
      }
      return subscriptions.saveCheckpoint(lease, { positions: { [feed.shard]: Math.max(applied.right.stored, position) } })
    },
  }
}
