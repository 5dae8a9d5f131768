import type { Commit } from '../eventstore/Commit.js'
import { loadCommit } from './chunks.js'
import { isConditionalCheckFailed } from './errors.js'
import type { DynamoDbContext } from './context.js'
import { queryAll } from './paging.js'
import { fillerItem, isFiller, num, optNum, type TokenPlace } from './rows.js'
import { A, utf8 } from './schema.js'
import {
  commitsTablePut,
  globalCounterGet,
  linkTokenUpdate,
  nextLinkedTokenUpdate,
  nextTokenUpdate,
  raiseFloorUpdate,
  tenantLinksCreate,
  tokenRangeQuery,
} from './statements.js'

/**
 * Checkpoint tokens and the global order, without skipping (SEMANTICS 7-8).
 *
 * Writers: a single counter item hands out the global token (`UpdateItem`, atomic). The tenant's chain takes the
 * token too: for up to `MAX_LINKED_TENANTS` tenants of short ids, in a map on the same counter item and in the same
 * update (one request, and no race to lose); for any other tenant, a second, per-tenant counter item links the
 * token with a compare-and-set that only moves forward. Either way, within a tenant the chain order is the token
 * order. A token whose commit is never written gets a filler
 * item, so that readers need not wait for it.
 *
 * Readers: tokens come from one counter, but writers put their commits later, and the global indexes are
 * eventually consistent: a reader can see token T+1 before T. So a reader walks the index in token order and
 * checks that each entry links to the one before it: in the global index, T links to T-1; in a tenant's index,
 * each entry names the tenant's previous token (`ptok`). An entry whose link is above the last token read means
 * that an allocated token is not visible yet. The reader then stops (its caller polls again from the last token
 * it got), unless the entry after the hole was allocated more than `settleMs` ago: the hole's writer then had
 * longer than the window to land its commit, and is presumed to have failed, so the reader reads past it.
 * Writers never send a commit later than half the window after allocating its token, and a writer that loses
 * its race writes a filler into the token's place, so that readers need not wait for it.
 */

// -------------------------------------------------------------------------------------
// writers
// -------------------------------------------------------------------------------------

/** How often a writer may lose the tenant chain's compare-and-set before it gives up. */
const maxChainAttempts = 100

/**
 * The counter item keeps the chains of at most this many tenants, of ids of at most `MAX_LINKED_TENANT_BYTES`
 * bytes: the item stays under 1 KB (1 WCU an update, numbers counted at their 21-byte maximum: 16 × (36 + 21) plus
 * the item's own keys and counters). Constants, not options: every process must route a tenant alike.
 */
export const MAX_LINKED_TENANTS = 16
export const MAX_LINKED_TENANT_BYTES = 36

/** Whether a tenant's chain may be kept by the counter item, as far as this process knows. */
const mayLinkInCounter = (ctx: DynamoDbContext, tenantId: string): boolean => {
  const bytes = utf8(tenantId)
  if (bytes === 0 || bytes > MAX_LINKED_TENANT_BYTES) return false
  const known = ctx.tenantLinks.state
  return known.kind === 'unknown' || (known.kind === 'full' && known.members.has(tenantId))
}

/**
 * After the counter refused to link a tenant: either it keeps no links (and never will: links are only created on
 * a counter that never handed out a token) or its map is full (and stays so: entries are never removed), so the
 * members read now are the members for good.
 */
const learnTenantLinks = async (ctx: DynamoDbContext): Promise<void> => {
  const item = (await ctx.connection.send('GetItem', globalCounterGet(ctx.config))).Item
  const map = item?.[A.tenantLinks]?.M
  if (map === undefined) {
    // A counter that does not exist yet may still get its links from `initialize()`: stay unknown.
    if (item?.[A.counter] !== undefined) ctx.tenantLinks.state = { kind: 'none' }
    return
  }
  if (Object.keys(map).length >= MAX_LINKED_TENANTS) ctx.tenantLinks.state = { kind: 'full', members: new Set(Object.keys(map)) }
}

/** The token and the tenant's previous one in one update of the counter item, or `undefined` if it refused. */
const allocateLinked = async (ctx: DynamoDbContext, tenantId: string): Promise<Required<TokenPlace> | undefined> => {
  try {
    const out = await ctx.connection.send('UpdateItem', nextLinkedTokenUpdate(ctx.config, tenantId, MAX_LINKED_TENANTS))
    const allocatedAt = Date.now()
    const old = out.Attributes ?? {}
    const before = optNum(old, A.counter) ?? 0
    const previous = optNum(old[A.tenantLinks]?.M ?? {}, tenantId) ?? 0
    return { token: before + 1, previous, tenantId, allocatedAt }
  } catch (cause) {
    if (!isConditionalCheckFailed(cause)) throw cause
    await learnTenantLinks(ctx)
    return undefined
  }
}

/**
 * Allocates a token for a commit of `tenantId` and links it into the tenant's chain: in one update of the counter
 * item when it keeps the tenant's chain, else by the counter and then a compare-and-set on the tenant's own item.
 */
export const allocate = async (ctx: DynamoDbContext, tenantId: string): Promise<Required<TokenPlace>> =>
  (mayLinkInCounter(ctx, tenantId) ? await allocateLinked(ctx, tenantId) : undefined) ?? allocateChained(ctx, tenantId)

/** The token from the counter, then the link on the tenant's own counter item (which a later token may win). */
const allocateChained = async (ctx: DynamoDbContext, tenantId: string): Promise<Required<TokenPlace>> => {
  for (let attempt = 0; attempt < maxChainAttempts; attempt++) {
    const out = await ctx.connection.send('UpdateItem', nextTokenUpdate(ctx.config))
    const token = num(out.Attributes ?? {}, A.counter)
    // Taken after the counter answered, so no later than any token above this one was allocated.
    const allocatedAt = Date.now()
    try {
      const link = await ctx.connection.send('UpdateItem', linkTokenUpdate(ctx.config, tenantId, token))
      const old = link.Attributes?.[A.counter]
      return { token, previous: old === undefined ? 0 : num(link.Attributes ?? {}, A.counter), tenantId, allocatedAt }
    } catch (cause) {
      if (!isConditionalCheckFailed(cause)) throw cause
      // A later token of this tenant got linked first: this one stays out of the tenant's chain. Fill its place
      // in the global order and take a new, higher token.
      await fill(ctx, { token, allocatedAt })
    }
  }
  throw new Error(`could not link a checkpoint token into tenant ${JSON.stringify(tenantId)}'s chain after ${maxChainAttempts} attempts`)
}

/** Gives a new store's counter its map of tenant links (a no-op once the counter handed out a token). */
export const createTenantLinks = async (ctx: DynamoDbContext): Promise<void> => {
  try {
    await ctx.connection.send('UpdateItem', tenantLinksCreate(ctx.config))
  } catch (cause) {
    if (!isConditionalCheckFailed(cause)) throw cause
  }
}

/** Holds a token's place for readers: after a lost race, or when its commit is deleted. */
export const fill = async (ctx: DynamoDbContext, place: TokenPlace): Promise<void> => {
  await ctx.connection.send('PutItem', commitsTablePut(ctx.config, fillerItem(place)))
}

/** Tokens at or below the floor were purged: readers start above it. */
export const readFloor = async (ctx: DynamoDbContext): Promise<number> => {
  const out = await ctx.connection.send('GetItem', { ...globalCounterGet(ctx.config), ProjectionExpression: '#floor', ExpressionAttributeNames: { '#floor': A.floor } })
  const floor = out.Item?.[A.floor]
  return floor === undefined ? 0 : num(out.Item ?? {}, A.floor)
}

/** Raises the floor to the last token handed out (a purge of everything). */
export const raiseFloor = async (ctx: DynamoDbContext): Promise<void> => {
  await ctx.connection.send('UpdateItem', raiseFloorUpdate(ctx.config))
}

// -------------------------------------------------------------------------------------
// readers
// -------------------------------------------------------------------------------------

/** Commits with a token in `(from, to]` (`0 <= from < to`), ascending, stopping before a token in flight. */
export async function* inTokenOrder(ctx: DynamoDbContext, from: number, to: number, tenantId: string | undefined): AsyncGenerator<Commit> {
  let last = Math.max(from, await readFloor(ctx))
  if (to <= last) return
  // Whether a commit (not only a filler) was handed out at `last`: a token can have both, when a writer's
  // retried put landed after it had filled the place.
  let handedOutLast = false
  for await (const item of queryAll(ctx.connection, tokenRangeQuery(ctx.config, last + 1, to, tenantId), ctx.config.pageSize)) {
    const token = num(item, A.token)
    if (token <= last) {
      if (token === last && !handedOutLast && !isFiller(item)) {
        handedOutLast = true
        yield await loadCommit(ctx, item)
      }
      continue
    }
    const link = tenantId === undefined ? token - 1 : num(item, A.previous)
    if (link > last && ctx.now() - num(item, A.allocatedAt) < ctx.config.settleMs) return
    last = token
    handedOutLast = !isFiller(item)
    if (handedOutLast) yield await loadCommit(ctx, item)
  }
}
