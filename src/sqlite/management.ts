import * as E from 'fp-ts/lib/Either.js'
import type { StorageError } from '../eventstore/errors.js'
import { retrying, underLock } from './connection.js'
import { forgetStatements, statements, type SqliteContext } from './context.js'
import { dropStatements, runMigrations, type MigrationReport } from './schema.js'

type Done = Promise<E.Either<StorageError, void>>

const done = E.right(undefined)

/** Creates the schema, or brings an older file's schema forward, reporting which versions it applied. */
export const migrate = (ctx: SqliteContext): Promise<E.Either<StorageError, MigrationReport>> =>
  retrying('initialize', ctx.retry, () => runMigrations(ctx.db, ctx.names))

/** `migrate` without the report; a no-op on a file that is up to date. */
export const initialize = async (ctx: SqliteContext): Done => E.map(() => undefined)(await migrate(ctx))

export const drop = (ctx: SqliteContext): Done =>
  retrying('drop', ctx.retry, () => {
    underLock(ctx.db, () => {
      for (const sql of dropStatements(ctx.names)) ctx.db.exec(sql)
      return done
    })
    forgetStatements(ctx)
  })

/** Tokens are never reused: the floor is raised to the newest token before commits are deleted. */
export const purge = (ctx: SqliteContext, tenantId: string | undefined): Done =>
  retrying('purge', ctx.retry, () => {
    const st = statements(ctx)
    underLock(ctx.db, () => {
      st.raiseFloor.run()
      if (tenantId === undefined) {
        st.deleteAllCommits.run()
        st.deleteAllSnapshots.run()
      } else {
        st.deleteTenantCommits.run(tenantId)
        st.deleteTenantSnapshots.run(tenantId)
      }
      return done
    })
  })

export const deleteStream = (ctx: SqliteContext, tenantId: string, streamId: string): Done =>
  retrying('deleteStream', ctx.retry, () => {
    const st = statements(ctx)
    underLock(ctx.db, () => {
      st.raiseFloor.run()
      st.deleteStreamCommits.run(tenantId, streamId)
      st.deleteStreamSnapshots.run(tenantId, streamId)
      return done
    })
  })
