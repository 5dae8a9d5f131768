import type * as E from 'fp-ts/lib/Either.js'
import type { Commit } from '../eventstore/Commit.js'
import type { HookRejected } from '../eventstore/errors.js'
import { registry } from '../eventstore/adapter/registry.js'
import type { MysqlPoolConnection } from './config.js'
import type { MysqlContext } from './context.js'

/** An inline projection as the append path runs it: on the append's transaction connection, after the row was written. */
export type InlineApply = (connection: MysqlPoolConnection, commit: Commit) => Promise<E.Either<HookRejected, void>>

/** The inline projections registered on a store's context (a named extra of the store's layout: issue 15). */
const inline = registry<MysqlContext, InlineApply>()

export const inlineOf = inline.of
export const addInline = inline.add
