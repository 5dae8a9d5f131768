import { dumbo } from '@event-driven-io/dumbo'
import { getPostgreSQLEventStore, readMessagesBatch } from '@event-driven-io/emmett-postgresql'
import type { Contender } from '../harness/types.js'
import { emmettContenders } from './common.js'
import type { EmmettStore } from './types.js'

/**
 * Emmett on PostgreSQL, in a database of its own (its tables are unqualified, so a fresh database is the way
 * to isolate a run). The server's durability (`synchronous_commit`) is the same for every contender.
 */
export const openEmmettPostgres = async (connectionString: string): Promise<EmmettStore> => {
  const store = getPostgreSQLEventStore(connectionString, { schema: { autoMigration: 'CreateOrUpdate' } })
  await store.schema.migrate()
  const pool = dumbo({ connectionString })
  return {
    ...emmettContenders(store),
    /** Emmett's global read (below the oldest open transaction, like aett's): batches after a position. */
    readLog: (events: number, batchSize: number): Contender => ({
      library: 'emmett',
      via: 'readMessagesBatch',
      run: async () => {
        let seen = 0
        let after = 0n
        for (;;) {
          const batch = await readMessagesBatch(pool.execute, { after, batchSize })
          seen += batch.messages.length
          if (!batch.areMessagesLeft || batch.messages.length === 0) break
          after = batch.currentGlobalPosition
        }
        if (seen !== events) throw new Error(`emmett global read saw ${seen} events, expected ${events}`)
      },
    }),
    close: async () => {
      await pool.close()
      await store.close()
    },
  }
}

