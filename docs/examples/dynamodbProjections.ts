import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { dynamoDbStore } from 'aett/dynamodb'
import type { Commit } from 'aett/eventstore'
import { documentsOf, startProjection } from 'aett/projections'
import { AccountOpened, Withdrawn, type AccountEvent } from './events.js'
// The same document projection as on SQLite in projections.md: one definition runs on every store that keeps them.
import { accounts } from './projections.js'
import { attemptAfter, deposit, tenantId, timestamp } from './support.js'

/** `endpoint` points at dynalite or DynamoDB Local; leave it out (and the dummy credentials) for real DynamoDB. */
export async function main(endpoint: string) {
  const store = dynamoDbStore({
    clientConfig: { endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } },
    tables: { prefix: 'bank_docs_' }, // the documents live in bank_docs_documents
  })
  const ready = await store.initialize()
  if (E.isLeft(ready)) return E.left(ready.left.message)
  const heads = new Map<string, Commit>()
  const write = async (account: string, events: readonly AccountEvent[]) => {
    const written = await store.commit(attemptAfter(heads.get(account), account, events))
    if (E.isRight(written)) heads.set(account, written.right)
  }
  for (const [id, owner] of [['acc-1', 'Ada'], ['acc-2', 'Grace']] as const) {
    await write(id, [AccountOpened.create({ id, version: 1, timestamp, owner, openedOn: timestamp }), deposit(id, 2, 100)])
  }
  await write('acc-1', [Withdrawn.create({ id: 'acc-1', version: 3, timestamp, amount: 30 })])

  // Each document a commit changes is one conditional write on the token of the last commit applied to it, and the
  // checkpoint moves after the batch (fenced by the lease): exactly once in effect per document, no transaction.
  const running = startProjection(store, accounts, { pollMs: 50 })
  if (E.isLeft(running)) return E.left(running.left.message)
  await running.right.caughtUp()
  const status = await running.right.status()
  await running.right.stop()

  // Read back by id (strongly consistent), all of a tenant, or by a top-level field.
  const reader = documentsOf(store, accounts)
  const ada = await reader.get(tenantId, 'acc-1')
  const rich = await reader.where('balance', 100, { tenantId })

  await store.drop() // an example cleans up after itself; an application keeps its tables
  await store.close()
  return E.right({
    ada: E.map((a: O.Option<{ owner: string; balance: number }>) => O.toUndefined(a))(ada),
    rich: E.map((ds: readonly { id: string }[]) => ds.map((d) => d.id))(rich),
    lag: E.map((s: { lag: { commits: number }; lastError: unknown }) => ({ commits: s.lag.commits, lastError: s.lastError }))(status),
  })
}
