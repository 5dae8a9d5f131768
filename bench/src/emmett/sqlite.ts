import { getSQLiteEventStore, readMessagesBatch, sqliteConnection } from '@event-driven-io/emmett-sqlite'
import type { Contender } from '../harness/types.js'
import { emmettContenders } from './common.js'
import type { EmmettStore } from './types.js'

/**
 * Emmett on SQLite (node-sqlite3). Emmett opens a new connection per operation on a file unless it is handed
 * one connection as a singleton; we hand it one so that we can set the same journal and synchronous mode as
 * aett's (Emmett itself only sets `journal_mode = WAL` on every connection it opens, and has no option for
 * `synchronous`). One long-lived connection is also Emmett's fastest configuration on a file.
 */
export const openEmmettSqlite = async (fileName: string, synchronous: 'FULL' | 'NORMAL'): Promise<EmmettStore> => {
  const connection = sqliteConnection({ fileName })
  await connection.command('PRAGMA journal_mode = WAL')
  await connection.command(`PRAGMA synchronous = ${synchronous}`)
  const mode = await connection.querySingle<{ synchronous: number }>('PRAGMA synchronous')
  const expected = synchronous === 'FULL' ? 2 : 1
  if (mode?.synchronous !== expected) throw new Error(`emmett sqlite: synchronous is ${String(mode?.synchronous)}, expected ${expected}`)
  const store = getSQLiteEventStore({
    fileName,
    connectionOptions: { singleton: true, connection },
    schema: { autoMigration: 'CreateOrUpdate' },
  })
  await store.schema.migrate()
  return {
    ...emmettContenders(store),
    /** Emmett's global read: batches of messages after a global position. */
    readLog: (events: number, batchSize: number): Contender => ({
      library: 'emmett',
      via: 'readMessagesBatch',
      run: async () => {
        let seen = 0
        let after = 0n
        for (;;) {
          const batch = await readMessagesBatch(connection, { after, batchSize })
          seen += batch.messages.length
          if (!batch.areEventsLeft || batch.messages.length === 0) break
          after = batch.currentGlobalPosition
        }
        if (seen !== events) throw new Error(`emmett global read saw ${seen} events, expected ${events}`)
      },
    }),
    close: async () => connection.close(),
  }
}


/**
 * Emmett as it comes: `getSQLiteEventStore({ fileName })` with no connection handed in, so that it opens (and
 * closes) a connection per operation and keeps node-sqlite3's default `synchronous=FULL`. For one extra row.
 */
export const openEmmettSqliteDefault = async (fileName: string) => {
  const store = getSQLiteEventStore({ fileName, schema: { autoMigration: 'CreateOrUpdate' } })
  await store.schema.migrate()
  return emmettContenders(store)
}
