import { randomBytes } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { StoreShell } from '../eventstore/adapter/defineStore.js'
import type { Json } from '../eventstore/Json.js'
import { leaseLost, type Lease, type ParkedCommit, type SubscriptionStore } from '../eventstore/subscriptionStore.js'
import type { DynamoDbContext } from './context.js'
import { certainlyNotApplied, isConditionalCheckFailed } from './errors.js'
import { queryAll } from './paging.js'
import {
  checkpointOf,
  encodeCheckpoint,
  itemBytes,
  leaseRowOf,
  num,
  parkedIndexOf,
  parkedItem,
  parkedOf,
  previousWriteId,
  toLease,
  writeIdOf,
  type LeaseRow,
} from './rows.js'
import { MAX_ITEM_BYTES, parkedKey, SA } from './schema.js'
import {
  checkpointSave,
  leaseExtend,
  leaseGet,
  leaseRelease,
  leaseTake,
  parkedDelete,
  parkedLink,
  parkedPut,
  parkedQuery,
  parkedUnlink,
  type TakeCondition,
} from './statements.js'

/**
 * The DynamoDB store's `SubscriptionStore`, in the subscriptions table (schema.ts). A conditional write sees only
 * its own item, and the store uses no transactions (dynalite has none), so everything a lease fences lives in, or
 * is made visible through, one item per subscription name, the lease item:
 * - the lease (holder, epoch, expiry, released): taken and renewed by conditional `UpdateItem`s;
 * - the checkpoint: an attribute of the same item, so a fenced save is one conditional write;
 * - the parked index, token -> write id: a parked commit's record is its own item (any size up to DynamoDB's
 *   item limit), written first under a fresh write id, and becomes visible only when a fenced update of the
 *   index points at it; a record nothing points at (a lost fence, a replaced or unparked record, a crash in
 *   between) is never listed, and is deleted by the call that left it behind (or, after a crash, by `drop()`).
 *
 * Clock: DynamoDB has none that a write can read, so expiries are the writer's clock (`ctx.now`) plus the ttl.
 * Correctness never rests on it: every guarded write is fenced by holder and epoch, and a takeover grows the epoch.
 * Skew between processes only moves when a standby may take an expired lease: the ttl must exceed the worst skew,
 * or a standby whose clock runs ahead may take a lease its holder still renews (the former holder is then fenced
 * off and goes back to standby: two instances may run handlers at once, never commit checkpoints at once).
 */

/** Takes that lost a race (someone else wrote the lease item between our read and our write) before giving up. */
const maxRaces = 20

/** Bytes kept for an oversized error: a record must fit one item with its keys. */
const maxErrorBytes = MAX_ITEM_BYTES - 8 * 1024

/** The error as stored: its JSON, or (beyond one item) the head of its JSON, marked as cut. */
const storedError = (error: Json): Json => {
  const json = JSON.stringify(error)
  const bytes = Buffer.byteLength(json, 'utf8')
  if (bytes <= maxErrorBytes) return error
  return { truncated: true, bytes, json: Buffer.from(json, 'utf8').subarray(0, maxErrorBytes - 1024).toString('utf8') }
}

const writeId = (): string => randomBytes(8).toString('hex')

export const dynamoDbSubscriptions = (shell: StoreShell<DynamoDbContext>): SubscriptionStore => {
  const readLease = async (ctx: DynamoDbContext, name: string) => (await ctx.connection.send('GetItem', leaseGet(ctx.config, name))).Item

  /** Deletes an item nothing points at; a failure leaves it behind, invisible. */
  const forget = async (ctx: DynamoDbContext, name: string, sk: string): Promise<void> => {
    try {
      await ctx.connection.send('DeleteItem', parkedDelete(ctx.config, name, sk))
    } catch {
      // An orphan record is never listed; drop() removes it.
    }
  }

  /**
   * Reads the lease item, decides, and writes on condition that the item is still as read; a lost race reads
   * again. `decide` answers the write to make (and the lease it gives), or `None` to stop.
   */
  const race = async (
    ctx: DynamoDbContext,
    name: string,
    decide: (row: LeaseRow | undefined, now: number) => O.Option<{ readonly write: () => Promise<unknown>; readonly lease: Lease }>,
  ): Promise<O.Option<Lease>> => {
    for (let tries = 0; tries < maxRaces; tries++) {
      const row = leaseRowOf(await readLease(ctx, name))
      const decided = decide(row, ctx.now())
      if (O.isNone(decided)) return O.none
      try {
        await decided.value.write()
        return O.some(decided.value.lease)
      } catch (cause) {
        if (!isConditionalCheckFailed(cause)) throw cause
      }
    }
    throw new Error(`the lease of subscription ${JSON.stringify(name)} kept changing hands while this call tried to take it (${maxRaces} tries)`)
  }

  const condition = (row: LeaseRow | undefined, now: number): TakeCondition => (row === undefined ? { absent: true } : { epoch: row.epoch, now })
  const isLive = (row: LeaseRow | undefined, now: number): boolean => row !== undefined && !row.released && row.expiresAt > now

  return {
    acquire: (name, holder, ttlMs) =>
      shell.run('acquire', async (ctx) =>
        E.right(
          await race(ctx, name, (row, now) => {
            const expiresAt = now + ttlMs
            if (row !== undefined && isLive(row, now)) {
              if (row.holder !== holder) return O.none
              // Renewing a live lease of the same holder keeps its epoch.
              const next = { ...row, expiresAt }
              return O.some({ lease: toLease(name, next), write: () => ctx.connection.send('UpdateItem', leaseExtend(ctx.config, name, holder, row.epoch, expiresAt, now)) })
            }
            // A free lease (never held, released or expired) is taken with the next epoch, even by its former holder.
            const next = { holder, epoch: (row?.epoch ?? 0) + 1, expiresAt, released: false }
            return O.some({ lease: toLease(name, next), write: () => ctx.connection.send('UpdateItem', leaseTake(ctx.config, name, next, condition(row, now))) })
          }),
        ),
      ),

    renew: (lease, ttlMs) =>
      shell.run('renew', async (ctx) => {
        const expiresAt = ctx.now() + ttlMs
        try {
          await ctx.connection.send('UpdateItem', leaseExtend(ctx.config, lease.name, lease.holder, lease.epoch, expiresAt))
        } catch (cause) {
          if (isConditionalCheckFailed(cause)) return E.left(leaseLost(lease.name, lease.epoch))
          throw cause
        }
        return E.right(toLease(lease.name, { holder: lease.holder, epoch: lease.epoch, expiresAt, released: false }))
      }),

    release: (lease) =>
      shell.run('release', async (ctx) => {
        try {
          await ctx.connection.send('UpdateItem', leaseRelease(ctx.config, lease.name, lease.holder, lease.epoch, ctx.now()))
        } catch (cause) {
          // No longer held by this lease: left alone.
          if (!isConditionalCheckFailed(cause)) throw cause
        }
        return E.right(undefined)
      }),

    lease: (name) =>
      shell.run('lease', async (ctx) => {
        const row = leaseRowOf(await readLease(ctx, name))
        return E.right(row === undefined ? O.none : O.some(toLease(name, row)))
      }),

    checkpoint: (name) => shell.run('checkpoint', async (ctx) => E.right(O.fromNullable(checkpointOf(await readLease(ctx, name))))),

    saveCheckpoint: (lease, checkpoint) =>
      shell.run('saveCheckpoint', async (ctx) => {
        try {
          await ctx.connection.send('UpdateItem', checkpointSave(ctx.config, lease.name, lease.holder, lease.epoch, encodeCheckpoint(checkpoint)))
        } catch (cause) {
          if (isConditionalCheckFailed(cause)) return E.left(leaseLost(lease.name, lease.epoch))
          throw cause
        }
        return E.right(undefined)
      }),

    resetCheckpoint: (name, holder, checkpoint) =>
      shell.run('resetCheckpoint', async (ctx) =>
        E.right(
          await race(ctx, name, (row, now) => {
            // Only a free lease is taken (never renewed), so that the epoch grows and fences every former holder;
            // the take, the checkpoint and the release are one write.
            if (isLive(row, now)) return O.none
            const next = { holder, epoch: (row?.epoch ?? 0) + 1, expiresAt: now, released: true }
            const reset = { checkpoint: checkpoint === undefined ? undefined : encodeCheckpoint(checkpoint) }
            return O.some({ lease: toLease(name, next), write: () => ctx.connection.send('UpdateItem', leaseTake(ctx.config, name, next, condition(row, now), reset)) })
          }),
        ),
      ),

    park: (lease, parked) =>
      shell.run('park', async (ctx) => {
        const id = writeId()
        const record: ParkedCommit = { ...parked, name: lease.name, error: storedError(parked.error) }
        const item = parkedItem(lease.name, id, record)
        if (itemBytes(item) > MAX_ITEM_BYTES) throw new Error(`the parked commit's record is ${itemBytes(item)} bytes; items are limited to ${MAX_ITEM_BYTES}`)
        // The record first (invisible), then the fenced link that makes it the token's record.
        await ctx.connection.send('PutItem', parkedPut(ctx.config, item))
        let before
        try {
          before = (await ctx.connection.send('UpdateItem', parkedLink(ctx.config, lease.name, lease.holder, lease.epoch, parked.checkpointToken, id))).Attributes
        } catch (cause) {
          // A link that may have landed (a lost answer) keeps its record.
          if (certainlyNotApplied(cause)) await forget(ctx, lease.name, item[SA.sk]?.S as string)
          if (isConditionalCheckFailed(cause)) return E.left(leaseLost(lease.name, lease.epoch))
          throw cause
        }
        const replaced = previousWriteId(before, parked.checkpointToken)
        if (replaced !== undefined && replaced !== id) await forget(ctx, lease.name, parkedKey(parked.checkpointToken, replaced))
        return E.right(undefined)
      }),

    parked: (name) =>
      shell.run('parked', async (ctx) => {
        // The index first: a record is written before the index points at it, so every record it names is there
        // (unless unparked meanwhile).
        const index = parkedIndexOf(await readLease(ctx, name))
        const out: ParkedCommit[] = []
        if (index.size === 0) return E.right(out)
        for await (const item of queryAll(ctx.connection, parkedQuery(ctx.config, name), ctx.config.pageSize)) {
          if (index.get(num(item, SA.token)) === writeIdOf(item)) out.push(parkedOf(name, item))
        }
        return E.right(out)
      }),

    unpark: (lease, checkpointToken) =>
      shell.run('unpark', async (ctx) => {
        let before
        try {
          before = (await ctx.connection.send('UpdateItem', parkedUnlink(ctx.config, lease.name, lease.holder, lease.epoch, checkpointToken))).Attributes
        } catch (cause) {
          if (isConditionalCheckFailed(cause)) return E.left(leaseLost(lease.name, lease.epoch))
          throw cause
        }
        const removed = previousWriteId(before, checkpointToken)
        if (removed !== undefined) await forget(ctx, lease.name, parkedKey(checkpointToken, removed))
        return E.right(undefined)
      }),

    watch: (wake) => shell.onCommit(() => wake()),
  }
}
