import type { Commit } from '../eventstore/Commit.js'
import { loadCommit } from './chunks.js'
import { isConditionalCheckFailed } from './errors.js'
import type { DynamoDbContext } from './context.js'
import { queryAll } from './paging.js'
import { fillerItem, isFiller, num, type TokenPlace } from './rows.js'
import { A } from './schema.js'
import { commitsTablePut, globalCounterGet, linkTokenUpdate, nextTokenUpdate, raiseFloorUpdate, tokenRangeQuery } from './statements.js'

/**
 * Checkpoint tokens and the global order, without skipping (SEMANTICS 7-8).
 *
 * Writers: a single counter item hands out the global token (`UpdateItem ADD`, atomic). A second, per-tenant
 * counter item then links the token into its tenant's chain with a compare-and-set that only moves forward, so
 * that within a tenant the chain order is the token order. A token whose commit is never written gets a filler
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

/** Allocates a token for a commit of `tenantId` and links it into the tenant's chain. */
export const allocate = async (ctx: DynamoDbContext, tenantId: string): Promise<Required<TokenPlace>> => {
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

/** Holds a token's place for readers: after a lost race, or when its commit is deleted. */
export const fill = async (ctx: DynamoDbContext, place: TokenPlace): Promise<void> => {
  await ctx.connection.send('PutItem', commitsTablePut(ctx.config, fillerItem(place)))
}

/** Tokens at or below the floor were purged: readers start above it. */
export const readFloor = async (ctx: DynamoDbContext): Promise<number> => {
  const out = await ctx.connection.send('GetItem', globalCounterGet(ctx.config))
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
