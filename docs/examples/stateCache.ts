import * as E from 'fp-ts/lib/Either.js'
import { AggregateRepository, deciderRepository, stateCache } from 'aett'
import { sqliteStore } from 'aett/sqlite'
import { account } from './deciders.js'
import { BankAccount } from './domain.js'
import { accountTopics } from './events.js'

export async function main() {
  const store = sqliteStore({ filename: ':memory:' })
  await store.initialize()
  const at = new Date('2026-12-01T09:00:00.000Z')

  // One cache per process, shared by all its repositories: bounded by entries, by an estimate of bytes, and by age.
  const cacheA = stateCache({ maxEntries: 10_000, maxBytes: 64 * 1024 * 1024, ttlMs: 5 * 60_000 })
  const cacheB = stateCache({ maxEntries: 10_000 })

  // Process A, fresh mode (the default with a cache): a command reads only the commits after the cached revision.
  const a = deciderRepository({ decider: account, topics: accountTopics, store, cache: cacheA })
  // Process B, allow stale: a command decides on a cached state up to 1 s old without reading; the append checks it.
  const b = deciderRepository({ decider: account, topics: accountTopics, store, cache: cacheB, allowStaleMs: 1_000 })

  await a.handle('acc-1', { kind: 'open', accountId: 'acc-1', owner: 'Ada', at })()
  await b.handle('acc-1', { kind: 'deposit', amount: 100, at })() // B loads the stream once; then it is cached
  await a.handle('acc-1', { kind: 'deposit', amount: 5, at })() // A reads B's commit (one short read) and writes
  // B's cache says 100: the withdrawal of 105 would be refused, so B reads before answering, finds 105, and accepts.
  const withdrawn = await b.handle('acc-1', { kind: 'withdraw', amount: 105, at })()
  // B's cache is now at the head: this refusal is confirmed by a read that finds nothing new.
  const refused = await b.handle('acc-1', { kind: 'withdraw', amount: 1, at })()

  // The class face takes the same option; each `get` builds a new instance from the cached memento.
  const accounts = new AggregateRepository(store, accountTopics, { cache: cacheA })
  const ada = await accounts.get(BankAccount, 'acc-1')
  ada.deposit(7, at)
  await accounts.save(ada)
  const again = await accounts.get(BankAccount, 'acc-1')

  await store.close()
  return {
    withdrawn: E.isRight(withdrawn) && withdrawn.right._tag === 'Appended' ? { revision: withdrawn.right.revision, balance: withdrawn.right.state.balance } : null,
    refused: E.isLeft(refused) && refused.left._tag === 'Rejected' ? refused.left.error._tag : 'accepted',
    classBalance: again.balance,
    sameInstance: again === ada,
    entries: { a: cacheA.stats().entries, b: cacheB.stats().entries },
  }
}
