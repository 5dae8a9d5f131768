import type * as E from 'fp-ts/lib/Either.js'
import type { Commit } from '../eventstore/Commit.js'
import type { HookRejected } from '../eventstore/errors.js'
import { registry } from '../eventstore/adapter/registry.js'
import type { SqliteDatabase } from './config.js'
import type { SqliteContext } from './context.js'

/** An inline projection as the append path runs it: synchronously, inside the append's transaction or savepoint. */
export type InlineApply = (db: SqliteDatabase, commit: Commit) => E.Either<HookRejected, void>

/** The inline projections registered on a store's context (a named extra of the store's layout: issue 15). */
const inline = registry<SqliteContext, InlineApply>()

export const inlineOf = inline.of
export const addInline = inline.add

/** Runs every inline projection on an appended commit; the first refusal wins. Never throws (they do not). */
export const runInline = (db: SqliteDatabase, inline: readonly InlineApply[], commit: Commit): E.Left<HookRejected> | undefined => {
  for (const apply of inline) {
    const r = apply(db, commit)
    if (r._tag === 'Left') return r
  }
  return undefined
}
