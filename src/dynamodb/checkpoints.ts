import type { Commit } from '../eventstore/Commit.js'
import { loadCommit } from './chunks.js'
import { isConditionalCheckFailed } from './errors.js'
import type { DynamoDbContext } from './context.js'
import { queryAll } from './paging.js'
import { fillerItem, isFiller, num, optNum, type TokenPlace } from './rows.js'
import { A, utf8 } from './schema.js'
import { tokenOf } from './shards.js'
import {
  commitsTablePut,
  feedShardsRecord,
  globalCounterGet,
  linkTokenUpdate,
  nextLinkedTokenUpdate,
  nextTokenUpdate,
  raiseFloorUpdate,
  tenantLinksCreate,
  tokenRangeQuery,
} from './statements.js'

/**
 * Checkpoint tokens and the global order, without skipping (SEMANTICS 7-8), per feed shard (shards.ts): everything
 * below is what each shard does on its own, with its own counter item, token partition and tenant chains. With one
 * shard, tokens are the counter's values; with S, shard k's n-th token is `(n - 1) * S + k + 1` and "the token
 * before" in the shard's index is `T - S`.
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
const mayLinkInCounter = (ctx: DynamoDbContext, tenantId: string, shard: number): boolean => {
  const bytes = utf8(tenantId)
  if (bytes === 0 || bytes > MAX_LINKED_TENANT_BYTES) return false
  const known = linksOf(ctx, shard).state
  return known.kind === 'unknown' || (known.kind === 'full' && known.members.has(tenantId))
}

/**
 * After the counter refused to link a tenant: either it keeps no links (and never will: links are only created on
 * a counter that never handed out a token) or its map is full (and stays so: entries are never removed), so the
 * members read now are the members for good.
 */
const learnTenantLinks = async (ctx: DynamoDbContext, shard: number): Promise<void> => {
  const item = (await ctx.connection.send('GetItem', globalCounterGet(ctx.config, shard))).Item
  const map = item?.[A.tenantLinks]?.M
  const links = linksOf(ctx, shard)
  if (map === undefined) {
    // A counter that does not exist yet may still get its links from `initialize()`: stay unknown.
    if (item?.[A.counter] !== undefined) links.state = { kind: 'none' }
    return
  }
  if (Object.keys(map).length >= MAX_LINKED_TENANTS) links.state = { kind: 'full', members: new Set(Object.keys(map)) }
}

const linksOf = (ctx: DynamoDbContext, shard: number) => {
  const links = ctx.tenantLinks[shard]
  if (links === undefined) throw new RangeError(`no feed shard ${shard}`)
  return links
}

/** Shard k's token of a count (0 stays 0: no token). */
const tokenAt = (ctx: DynamoDbContext, shard: number, n: number): number => (n <= 0 ? 0 : tokenOf(shard, n, ctx.config.feedShards))

/** The token and the tenant's previous one in one update of the counter item, or `undefined` if it refused. */
const allocateLinked = async (ctx: DynamoDbContext, tenantId: string, shard: number): Promise<Required<TokenPlace> | undefined> => {
  try {
    const out = await ctx.connection.send('UpdateItem', nextLinkedTokenUpdate(ctx.config, tenantId, MAX_LINKED_TENANTS, shard))
    const allocatedAt = Date.now()
    const old = out.Attributes ?? {}
    const before = optNum(old, A.counter) ?? 0
    // The map keeps counts (what the update can compute); a count is a token only once the shard is known.
    const previous = tokenAt(ctx, shard, optNum(old[A.tenantLinks]?.M ?? {}, tenantId) ?? 0)
    return { token: tokenAt(ctx, shard, before + 1), previous, tenantId, allocatedAt }
  } catch (cause) {
    if (!isConditionalCheckFailed(cause)) throw cause
    await learnTenantLinks(ctx, shard)
    return undefined
  }
}

/**
 * Allocates a token for a commit of `tenantId` and links it into the tenant's chain: in one update of the counter
 * item when it keeps the tenant's chain, else by the counter and then a compare-and-set on the tenant's own item.
 */
export const allocate = async (ctx: DynamoDbContext, tenantId: string, shard = 0): Promise<Required<TokenPlace>> =>
  (mayLinkInCounter(ctx, tenantId, shard) ? await allocateLinked(ctx, tenantId, shard) : undefined) ?? allocateChained(ctx, tenantId, shard)

/** The token from the counter, then the link on the tenant's own counter item (which a later token may win). */
const allocateChained = async (ctx: DynamoDbContext, tenantId: string, shard: number): Promise<Required<TokenPlace>> => {
  for (let attempt = 0; attempt < maxChainAttempts; attempt++) {
    const out = await ctx.connection.send('UpdateItem', nextTokenUpdate(ctx.config, shard))
    const token = tokenAt(ctx, shard, num(out.Attributes ?? {}, A.counter))
    // Taken after the counter answered, so no later than any token above this one was allocated.
    const allocatedAt = Date.now()
    try {
      // The tenant's own counter keeps tokens (a compare-and-set on what it is sent).
      const link = await ctx.connection.send('UpdateItem', linkTokenUpdate(ctx.config, tenantId, token, shard))
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

const shardsOf = (ctx: DynamoDbContext): number[] => Array.from({ length: ctx.config.feedShards }, (_, k) => k)

/** Gives a new store's counters their maps of tenant links (a no-op on a counter that handed out a token). */
export const createTenantLinks = async (ctx: DynamoDbContext): Promise<void> => {
  await Promise.all(
    shardsOf(ctx).map(async (shard) => {
      try {
        await ctx.connection.send('UpdateItem', tenantLinksCreate(ctx.config, shard))
      } catch (cause) {
        if (!isConditionalCheckFailed(cause)) throw cause
      }
    }),
  )
}

/** The table's shard count differs from the store's: a typed refusal (the shell wraps it as a `StorageError`). */
export class FeedShardsMismatch extends Error {
  override readonly name = 'FeedShardsMismatch'
  constructor(
    readonly table: string,
    readonly recorded: number,
    readonly configured: number,
  ) {
    super(
      `table ${table} has ${recorded} feed shard${recorded === 1 ? '' : 's'}, and this store was opened with feedShards: ${configured}; ` +
        'the count is fixed when the table is initialised (docs/stores/dynamodb.md)',
    )
  }
}

const checkShards = (ctx: DynamoDbContext, recorded: number): void => {
  if (recorded !== ctx.config.feedShards) throw new FeedShardsMismatch(ctx.config.commitsTable, recorded, ctx.config.feedShards)
}

/**
 * Records the store's shard count in a new table, or checks it against the one recorded. A table whose counter
 * handed out tokens before counts were recorded (a store of 0.2) has one shard.
 */
export const recordFeedShards = async (ctx: DynamoDbContext): Promise<void> => {
  try {
    const out = await ctx.connection.send('UpdateItem', {
      ...feedShardsRecord(ctx.config),
      ConditionExpression: 'attribute_exists(#fs) OR attribute_not_exists(#n)',
      ExpressionAttributeNames: { '#fs': A.feedShards, '#n': A.counter },
    })
    checkShards(ctx, num(out.Attributes ?? {}, A.feedShards))
  } catch (cause) {
    if (!isConditionalCheckFailed(cause)) throw cause
    checkShards(ctx, 1)
  }
  ctx.shardCheck = Promise.resolve()
}

/**
 * Checks once per process, before the first write or feed read, that the table has the store's shard count (a
 * store opened with another count would route streams and tokens elsewhere than its peers). One strongly
 * consistent read of the shard-0 counter; a table not initialised yet (no counter) is left to `initialize()`.
 */
export const ensureFeedShards = (ctx: DynamoDbContext): Promise<void> => {
  ctx.shardCheck ??= (async () => {
    const item = (await ctx.connection.send('GetItem', { ...globalCounterGet(ctx.config), ProjectionExpression: '#fs, #n', ExpressionAttributeNames: { '#fs': A.feedShards, '#n': A.counter } })).Item
    const recorded = optNum(item ?? {}, A.feedShards)
    if (recorded !== undefined) checkShards(ctx, recorded)
    else if (item?.[A.counter] !== undefined) checkShards(ctx, 1)
    else if (ctx.config.feedShards > 1) throw new Error(`table ${ctx.config.commitsTable} records no feed shard count: call initialize() first`)
  })().catch((cause: unknown) => {
    ctx.shardCheck = undefined
    throw cause
  })
  return ctx.shardCheck
}

/** Holds a token's place for readers: after a lost race, or when its commit is deleted. */
export const fill = async (ctx: DynamoDbContext, place: TokenPlace): Promise<void> => {
  await ctx.connection.send('PutItem', commitsTablePut(ctx.config, fillerItem(place, ctx.config.feedShards)))
}

/** Tokens at or below the shard's floor were purged: readers start above it. */
export const readFloor = async (ctx: DynamoDbContext, shard = 0): Promise<number> => {
  const out = await ctx.connection.send('GetItem', { ...globalCounterGet(ctx.config, shard), ProjectionExpression: '#floor', ExpressionAttributeNames: { '#floor': A.floor } })
  const floor = out.Item?.[A.floor]
  return floor === undefined ? 0 : tokenAt(ctx, shard, num(out.Item ?? {}, A.floor))
}

/** Raises every shard's floor to the last token it handed out (a purge of everything). */
export const raiseFloor = async (ctx: DynamoDbContext): Promise<void> => {
  await Promise.all(shardsOf(ctx).map((shard) => ctx.connection.send('UpdateItem', raiseFloorUpdate(ctx.config, shard))))
}

// -------------------------------------------------------------------------------------
// readers
// -------------------------------------------------------------------------------------

/**
 * A shard's commits with a token in `(from, to]` (`0 <= from < to`), ascending, stopping before a token in flight.
 * In the shard's index the token before T is `T - S`: an entry whose link is above the last token read means a
 * token of the shard between them is not visible yet.
 */
export async function* inTokenOrder(ctx: DynamoDbContext, from: number, to: number, tenantId: string | undefined, shard = 0): AsyncGenerator<Commit> {
  await ensureFeedShards(ctx)
  const shards = ctx.config.feedShards
  let last = Math.max(from, await readFloor(ctx, shard))
  if (to <= last) return
  // Whether a commit (not only a filler) was handed out at `last`: a token can have both, when a writer's
  // retried put landed after it had filled the place.
  let handedOutLast = false
  for await (const item of queryAll(ctx.connection, tokenRangeQuery(ctx.config, last + 1, to, tenantId, shard), ctx.config.pageSize)) {
    const token = num(item, A.token)
    if (token <= last) {
      if (token === last && !handedOutLast && !isFiller(item)) {
        handedOutLast = true
        yield await loadCommit(ctx, item)
      }
      continue
    }
    const link = tenantId === undefined ? token - shards : num(item, A.previous)
    if (link > last && ctx.now() - num(item, A.allocatedAt) < ctx.config.settleMs) return
    last = token
    handedOutLast = !isFiller(item)
    if (handedOutLast) yield await loadCommit(ctx, item)
  }
}
