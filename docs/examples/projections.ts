import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { Commit } from 'aett/eventstore'
import { postgresProjection } from 'aett/postgres'
import { documentProjection, documentsOf, inlineProjection, rebuildDocuments, startProjection } from 'aett/projections'
import { sqliteProjection, sqliteStore } from 'aett/sqlite'
import { AccountOpened, accountTopics, Withdrawn, type AccountEvent } from './events.js'
import { attemptAfter, deposit, tenantId, timestamp } from './support.js'

// ----- a balances read model, kept in the store's own database, exactly once -----

// One handler per topic of the map (leaving one out does not compile). On SQLite the handlers receive the
// better-sqlite3 Database inside the batch's transaction and answer at once: a promise does not compile.
const balances = sqliteProjection({
  name: 'balances',
  topics: accountTopics,
  handlers: {
    AccountOpened: (db, event) => {
      db.prepare('INSERT INTO balances (account, owner, balance) VALUES (?, ?, 0)').run(event.id, event.owner)
      return undefined
    },
    Deposited: (db, event) => {
      db.prepare('UPDATE balances SET balance = balance + ? WHERE account = ?').run(event.amount, event.id)
      return undefined
    },
    Withdrawn: (db, event, meta) => {
      const row = db.prepare('SELECT balance FROM balances WHERE account = ?').get(event.id) as { balance: number } | undefined
      // A Left (or a throw) rolls the whole batch back, checkpoint included; it is retried, then stops or parks.
      if (row === undefined || row.balance < event.amount) return E.left(`overdrawn at commit ${meta.commit.checkpointToken}`)
      db.prepare('UPDATE balances SET balance = balance - ? WHERE account = ?').run(event.amount, event.id)
      return undefined
    },
  },
})

// The same read model on PostgreSQL: the handlers receive the pg client inside BEGIN, and answer promises.
export const pgBalances = postgresProjection({
  name: 'balances',
  topics: accountTopics,
  handlers: {
    AccountOpened: async (client, event) => {
      await client.query({ text: 'INSERT INTO balances (account, owner, balance) VALUES ($1, $2, 0)', values: [event.id, event.owner] })
      return undefined
    },
    Deposited: async (client, event) => {
      await client.query({ text: 'UPDATE balances SET balance = balance + $1 WHERE account = $2', values: [event.amount, event.id] })
      return undefined
    },
    Withdrawn: async (client, event) => {
      await client.query({ text: 'UPDATE balances SET balance = balance - $1 WHERE account = $2', values: [event.amount, event.id] })
      return undefined
    },
  },
})

// ----- the same read model as JSON documents, in a table the kit owns: no SQL to write -----

// One document per account id; `evolve` is pure, and `undefined` would delete the document.
export const accounts = documentProjection({
  name: 'accounts',
  topics: accountTopics,
  id: (event) => event.id,
  evolve: (doc: { owner: string; balance: number } | undefined, event) => {
    if (event.type === 'AccountOpened') return { owner: event.owner, balance: 0 }
    if (doc === undefined) return undefined
    return { ...doc, balance: doc.balance + (event.type === 'Deposited' ? event.amount : -event.amount) }
  },
})

// ----- inline: a read model that is consistent with the stream the moment the append returns -----

// Runs inside each append's own transaction; a refusal fails the append with a HookRejected, and nothing is stored.
const movements = documentProjection({
  name: 'movements',
  topics: accountTopics,
  id: (event) => event.id,
  evolve: (doc: { count: number } | undefined) => ({ count: (doc?.count ?? 0) + 1 }),
})

export async function main() {
  const store = sqliteStore({ filename: ':memory:' })
  await store.initialize()
  const db = await store.database()
  if (E.isLeft(db)) return { error: db.left.message }
  // The read model's table is the user's own: created (and migrated) by the application, beside the store's.
  db.right.exec('CREATE TABLE balances (account TEXT PRIMARY KEY, owner TEXT NOT NULL, balance INTEGER NOT NULL)')

  const inline = await inlineProjection(store, movements)
  if (E.isLeft(inline)) return { error: inline.left.message }

  const heads = new Map<string, Commit>()
  const write = async (account: string, events: readonly AccountEvent[]) => {
    const written = await store.commit(attemptAfter(heads.get(account), account, events))
    if (E.isRight(written)) heads.set(account, written.right)
  }
  for (const [id, owner] of [['acc-1', 'Ada'], ['acc-2', 'Grace']] as const) {
    await write(id, [AccountOpened.create({ id, version: 1, timestamp, owner, openedOn: timestamp }), deposit(id, 2, 100)])
  }

  // Runs on a subscription named after the projection: a lease, catch-up then live, retries, parking.
  const running = startProjection(store, balances, { batchSize: 100, pollMs: 50 })
  if (E.isLeft(running)) return { error: running.left.message }
  await running.right.caughtUp()
  await write('acc-1', [Withdrawn.create({ id: 'acc-1', version: 3, timestamp, amount: 30 })])
  await running.right.caughtUp()

  // Status: the stored checkpoint, the head, the lag (commits and ms) and the last error.
  const status = await running.right.status()
  await running.right.stop()

  // A document projection runs the same way, exactly once too; its documents are read by id, all, or a field.
  const documents = startProjection(store, accounts)
  if (E.isLeft(documents)) return { error: documents.left.message }
  await documents.right.caughtUp()
  await documents.right.stop()
  const reader = documentsOf(store, accounts)
  const ada = await reader.get(tenantId, 'acc-1')
  const rich = await reader.where('balance', 100)
  const moved = await documentsOf(store, movements).get(tenantId, 'acc-1')

  // Rebuild the documents from the log into a shadow, in small batches, then swap them in at once (readers see the
  // old documents until then). Its instances must be stopped for the swap; writers may go on.
  const progress: string[] = []
  const rebuilt = await rebuildDocuments(store, accounts, {
    batchSize: 2,
    onProgress: ({ done, total }) => progress.push(`${done}/${total}`),
  })
  const rows = db.right.prepare('SELECT account, owner, balance FROM balances ORDER BY account').all()
  await store.close()
  return {
    rows,
    ada: E.map((a: O.Option<{ owner: string; balance: number }>) => O.toUndefined(a))(ada),
    rich: E.map((ds: readonly { id: string }[]) => ds.map((d) => d.id))(rich),
    moved: E.map((m: O.Option<{ count: number }>) => O.toUndefined(m))(moved),
    rebuilt: E.map((r: { position: number }) => r.position)(rebuilt),
    lastProgress: progress[progress.length - 1],
    status: E.map((s: { position: number; headToken: number; lag: { commits: number }; lastError: unknown }) => ({
      position: s.position,
      head: s.headToken,
      lag: s.lag.commits,
      lastError: s.lastError,
    }))(status),
  }
}
