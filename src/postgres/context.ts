import type { GroupCommitConfig } from '../sql/groupCommit.js'
import type { PostgresConfig } from './config.js'
import type { Connection } from './connection.js'
import { coalesced, listener, type Listener } from './notifications.js'
import { names, type Names } from './schema.js'
import { statements, type Statements } from './statements.js'

/**
 * What the store's operations share: the connection, the names and statements, the read page size, the LISTEN
 * connection of `watch` (opened only while something watches) and the NOTIFY of appends.
 */
export interface Context {
  readonly db: Connection
  readonly names: Names
  readonly sql: Statements
  readonly pageSize: number
  readonly readWaitMs: number
  readonly listener: Listener
  /** Called after every stored commit: sends the coalesced `NOTIFY` (a no-op unless `notify` is `true`). */
  readonly committed: () => void
  /** Concurrent appends share transactions (see `batchAppend.ts`); undefined: one transaction per append. */
  readonly groupCommit: GroupCommitConfig | undefined
}

export const createContext = (config: PostgresConfig, db: Connection): Context => {
  const n = names(config)
  const sql = statements(n, { notify: config.notify === 'statement' })
  return {
    db,
    names: n,
    sql,
    pageSize: config.pageSize,
    readWaitMs: config.readWaitMs,
    listener: listener(() => db.listenClient(), { channel: n.channel, listen: sql.subscriptions.listen }),
    groupCommit: config.groupCommit,
    committed: config.notify === 'coalesced' ? coalesced(() => db.query('commit (notify)', sql.subscriptions.notify, [])) : () => {},
  }
}
