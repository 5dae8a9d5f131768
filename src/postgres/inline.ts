import type * as E from 'fp-ts/lib/Either.js'
import type { Commit } from '../eventstore/Commit.js'
import type { HookRejected } from '../eventstore/errors.js'
import type { PgQueryable } from './config.js'
import type { Context } from './context.js'

/** An inline projection as the append path runs it: on the append's transaction client, after the row was written. */
export type InlineApply = (client: PgQueryable, commit: Commit) => Promise<E.Either<HookRejected, void>>

/** The inline projections registered on a store's context (a named extra of the store's layout: issue 15). */
const registered = new WeakMap<Context, InlineApply[]>()

export const inlineOf = (ctx: Context): readonly InlineApply[] | undefined => {
  const list = registered.get(ctx)
  return list === undefined || list.length === 0 ? undefined : list
}

export const addInline = (ctx: Context, apply: InlineApply): (() => void) => {
  const list = registered.get(ctx) ?? []
  registered.set(ctx, list)
  list.push(apply)
  return () => {
    const i = list.indexOf(apply)
    if (i >= 0) list.splice(i, 1)
  }
}
