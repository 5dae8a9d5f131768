import type { Commit } from '../eventstore/Commit.js'
import type { Reads } from '../eventstore/reads.js'
import type { DynamoDbConfig } from './config.js'
import type { Driver } from './driver.js'
import { loadCommit } from './chunks.js'
import { isFiller, N, num, S } from './items.js'
import { guarded, queryAll } from './paging.js'
import { A, GLOBAL_PARTITION, I, MAX_PARTITION_KEY_BYTES, utf8 } from './schema.js'
import { readFloor } from './tokens.js'

/**
 * Global reads in checkpoint order, without skipping (SEMANTICS 7-8).
 *
 * Tokens come from one counter, but writers put their commits later, and the global indexes are eventually
 * consistent: a reader can see token T+1 before T. So a reader walks the index in token order and checks that
 * each entry links to the one before it: in the global index, T links to T-1; in a tenant's index, each entry
 * names the tenant's previous token (`ptok`). An entry whose link is above the last token read means that an
 * allocated token is not visible yet. The reader then stops (its caller polls again from the last token it
 * got), unless the entry after the hole was allocated more than `settleMs` ago: the hole's writer then had
 * longer than the window to land its commit, and is presumed to have failed, so the reader reads past it.
 * Writers never send a commit later than half the window after allocating its token, and a writer that loses
 * its race writes a filler into the token's place, so that readers need not wait for it.
 */

export interface CheckpointContext {
  readonly driver: Driver
  readonly config: DynamoDbConfig
  /** The clock that ages holes; `Date.now` outside tests. */
  readonly now: () => number
}

export const getFromTo = (ctx: CheckpointContext, from: number, to: number, tenantId?: string): Reads<Commit> =>
  guarded('getFromTo', () => ordered(ctx, from, to, tenantId))

async function* ordered(ctx: CheckpointContext, from: number, to: number, tenantId: string | undefined): AsyncGenerator<Commit> {
  if (tenantId !== undefined && (tenantId.length === 0 || utf8(tenantId) > MAX_PARTITION_KEY_BYTES)) return
  if (Number.isNaN(to)) return
  let last = Math.max(Number.isFinite(from) ? Math.floor(from) : 0, await readFloor(ctx), 0)
  const upper = Math.min(Math.floor(to), Number.MAX_SAFE_INTEGER)
  if (upper <= last) return
  const input =
    tenantId === undefined
      ? { IndexName: I.byToken, KeyConditionExpression: '#p = :p AND #tok BETWEEN :lo AND :hi', ExpressionAttributeNames: { '#p': A.global, '#tok': A.token }, ExpressionAttributeValues: { ':p': S(GLOBAL_PARTITION), ':lo': N(last + 1), ':hi': N(upper) } }
      : { IndexName: I.byTenant, KeyConditionExpression: '#p = :p AND #tok BETWEEN :lo AND :hi', ExpressionAttributeNames: { '#p': A.tenant, '#tok': A.token }, ExpressionAttributeValues: { ':p': S(tenantId), ':lo': N(last + 1), ':hi': N(upper) } }
  // Whether a commit (not only a filler) was handed out at `last`: a token can have both, when a writer's
  // retried put landed after it had filled the place.
  let handedOutLast = false
  for await (const item of queryAll(ctx.driver, { TableName: ctx.config.commitsTable, ...input }, ctx.config.pageSize)) {
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
