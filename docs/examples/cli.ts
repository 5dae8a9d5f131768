import * as E from 'fp-ts/lib/Either.js'
import { join } from 'node:path'
import { deciderRepository } from 'aett/domain'
import { sqliteStore } from 'aett/sqlite'
import { subscribe } from 'aett/subscriptions'
import { account, type AccountCommand } from './deciders.js'
import { accountTopics } from './events.js'
import { tenantId } from './support.js'

// The application of docs/cli.md: it writes a few accounts into bank.db, and a subscription parks the commits it
// cannot handle yet, so that the command line has something to show.

export async function main(directory: string) {
  const store = sqliteStore({ filename: join(directory, 'bank.db') })
  const ready = await store.initialize()
  if (E.isLeft(ready)) return ready
  let minute = 0
  const clock = () => new Date(Date.UTC(2026, 2, 1, 9, minute++))
  const accounts = deciderRepository({ decider: account, topics: accountTopics, store, tenantId, clock })
  const at = new Date('2026-03-01T09:00:00.000Z')
  const commands: readonly (readonly [string, AccountCommand])[] = [
    ['acc-1', { kind: 'open', accountId: 'acc-1', owner: 'Ada', at }],
    ['acc-1', { kind: 'deposit', amount: 100, at }],
    ['acc-2', { kind: 'open', accountId: 'acc-2', owner: 'Grace', at }],
    ['acc-1', { kind: 'withdraw', amount: 30, at }],
    ['acc-2', { kind: 'deposit', amount: 20, at }],
    ['acc-1', { kind: 'deposit', amount: 5, at }],
  ]
  for (const [n, [id, command]] of commands.entries()) {
    const done = await accounts.handle(id, command, { commitId: `cmd-${n + 1}`, headers: { 'aett.user': 'teller-12' } })()
    if (E.isLeft(done)) return done
  }

  // A statements subscription whose printer is down for acc-2: its commits are parked, the others handled.
  const statements = subscribe({
    name: 'statements',
    store,
    source: { tenantId },
    onFailure: 'park',
    retry: { attempts: 1 },
    handler: async (batch) => (batch.some((c) => c.streamId === 'acc-2') ? E.left('printer offline') : E.right(undefined)),
  })
  if (E.isLeft(statements)) return statements
  const caughtUp = await statements.right.caughtUp()
  await statements.right.stop()
  await store.close()
  return E.map(() => undefined)(caughtUp)
}
