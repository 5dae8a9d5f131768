import * as E from 'fp-ts/lib/Either.js'
import type { StorageError } from '../eventstore/errors.js'
import type { MemoryContext } from './context.js'

type Done = Promise<E.Either<StorageError, void>>

export const initialize = async (): Done => E.right(undefined)

/** Tokens never go down: the next commit after a drop, purge or delete still gets a token above every earlier one. */
export const drop = async (ctx: MemoryContext): Done => {
  ctx.tenants.clear()
  ctx.log = []
  return E.right(undefined)
}

export const purge = async (ctx: MemoryContext, tenantId: string | undefined): Done => {
  if (tenantId === undefined) return drop(ctx)
  ctx.tenants.delete(tenantId)
  ctx.log = ctx.log.filter((c) => c.tenantId !== tenantId)
  return E.right(undefined)
}

export const deleteStream = async (ctx: MemoryContext, tenantId: string, streamId: string): Done => {
  if (ctx.tenants.get(tenantId)?.delete(streamId) === true) {
    ctx.log = ctx.log.filter((c) => c.tenantId !== tenantId || c.streamId !== streamId)
  }
  return E.right(undefined)
}
