import type { DynamoDbConfig } from './config.js'
import { isConditionalCheckFailed, type Driver } from './driver.js'
import { fillerItem, N, num, S, type TokenPlace } from './items.js'
import { A, GLOBAL_COUNTER, tenantCounter } from './schema.js'

/**
 * Checkpoint tokens. A single counter item hands out the global token (`UpdateItem ADD`, atomic). A second,
 * per-tenant counter item then links the token into its tenant's chain with a compare-and-set that only moves
 * forward, so that within a tenant the chain order is the token order. Readers use both to find tokens that are
 * allocated but not yet visible (see checkpoints.ts). A token whose commit is never written gets a filler item,
 * so that readers need not wait for it.
 */

export interface TokenContext {
  readonly driver: Driver
  readonly config: DynamoDbConfig
}

/** How often a writer may lose the tenant chain's compare-and-set before it gives up. */
const maxChainAttempts = 100

const counterKey = (pk: string) => ({ [A.pk]: S(pk), [A.sk]: N(0) })

/** Allocates a token for a commit of `tenantId` and links it into the tenant's chain. */
export const allocate = async (ctx: TokenContext, tenantId: string): Promise<Required<TokenPlace>> => {
  const table = ctx.config.commitsTable
  for (let attempt = 0; attempt < maxChainAttempts; attempt++) {
    const out = await ctx.driver.send('UpdateItem', {
      TableName: table,
      Key: counterKey(GLOBAL_COUNTER),
      UpdateExpression: 'ADD #n :one',
      ExpressionAttributeNames: { '#n': A.counter },
      ExpressionAttributeValues: { ':one': N(1) },
      ReturnValues: 'UPDATED_NEW',
    })
    const token = num(out.Attributes ?? {}, A.counter)
    // Taken after the counter answered, so no later than any token above this one was allocated.
    const allocatedAt = Date.now()
    try {
      const link = await ctx.driver.send('UpdateItem', {
        TableName: table,
        Key: counterKey(tenantCounter(tenantId)),
        UpdateExpression: 'SET #n = :token',
        ConditionExpression: 'attribute_not_exists(#n) OR #n < :token',
        ExpressionAttributeNames: { '#n': A.counter },
        ExpressionAttributeValues: { ':token': N(token) },
        ReturnValues: 'UPDATED_OLD',
      })
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
export const fill = async (ctx: TokenContext, place: TokenPlace): Promise<void> => {
  await ctx.driver.send('PutItem', { TableName: ctx.config.commitsTable, Item: fillerItem(place) })
}

/** Tokens at or below the floor were purged: readers start above it. */
export const readFloor = async (ctx: TokenContext): Promise<number> => {
  const out = await ctx.driver.send('GetItem', {
    TableName: ctx.config.commitsTable,
    Key: counterKey(GLOBAL_COUNTER),
    ConsistentRead: true,
  })
  const floor = out.Item?.[A.floor]
  return floor === undefined ? 0 : num(out.Item ?? {}, A.floor)
}

/** Raises the floor to the last token handed out (a purge of everything). */
export const raiseFloor = async (ctx: TokenContext): Promise<void> => {
  await ctx.driver.send('UpdateItem', {
    TableName: ctx.config.commitsTable,
    Key: counterKey(GLOBAL_COUNTER),
    UpdateExpression: 'SET #floor = if_not_exists(#n, :zero)',
    ExpressionAttributeNames: { '#floor': A.floor, '#n': A.counter },
    ExpressionAttributeValues: { ':zero': N(0) },
  })
}

export const isCounterKey = (pk: string): boolean => pk === GLOBAL_COUNTER || pk.startsWith('#tenant')
