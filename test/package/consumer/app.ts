/**
 * A small program as a user would write it, compiled by test/package against the packed package's `.d.ts` (in a
 * project outside this repository that has only the tarball, fp-ts and io-ts installed) and run there. The
 * repository's own typecheck compiles it too, against `src/`.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { type Decider, defineEvent, type EventOf, evolveWith, topicMap } from 'aett'
import { deciderRepository } from 'aett/domain'
import { memoryStore } from 'aett/memory'
import { deciderScenario } from 'aett/testing'
// The database stores' options are types a user writes without the driver installed.
import type { SqliteStoreOptions } from 'aett/sqlite'
import type { PostgresStoreOptions } from 'aett/postgres'
import type { MysqlStoreOptions } from 'aett/mysql'

export const Deposited = defineEvent('Deposited', { amount: t.number })
export type Deposited = EventOf<typeof Deposited>
export const Withdrawn = defineEvent('Withdrawn', { amount: t.number })
export type Withdrawn = EventOf<typeof Withdrawn>
export type AccountEvent = Deposited | Withdrawn
export const topics = topicMap(Deposited, Withdrawn)

export type Command = { readonly kind: 'deposit' | 'withdraw'; readonly amount: number; readonly at: Date }
export type Refusal = { readonly _tag: 'InsufficientFunds'; readonly balance: number }

export const account: Decider<Command, { readonly balance: number }, AccountEvent, Refusal> = {
  initialState: { balance: 0 },
  evolve: evolveWith<{ readonly balance: number }, AccountEvent>({
    Deposited: (draft, e) => {
      draft.balance += e.amount
    },
    Withdrawn: (draft, e) => {
      draft.balance -= e.amount
    },
  }),
  decide: (c, s) => {
    if (c.kind === 'withdraw' && c.amount > s.balance) return E.left({ _tag: 'InsufficientFunds', balance: s.balance })
    const event = { id: '', version: 0, timestamp: c.at, amount: c.amount }
    return E.right([c.kind === 'deposit' ? Deposited.create(event) : Withdrawn.create(event)])
  },
}

export const options: readonly [SqliteStoreOptions, PostgresStoreOptions, MysqlStoreOptions] = [
  { filename: ':memory:' },
  { connectionString: 'postgres://localhost/db' },
  { uri: 'mysql://localhost/db' },
]

export async function main() {
  const at = new Date('2026-03-01T09:00:00.000Z')
  const accounts = deciderRepository({ decider: account, topics, store: memoryStore() })
  const deposited = await accounts.handle('acc-1', { kind: 'deposit', amount: 100, at })()
  const refused = await accounts.handle('acc-1', { kind: 'withdraw', amount: 500, at })()
  const loaded = await accounts.load('acc-1')()
  const decoded = topics.decode({ type: 'Deposited', id: 'a', version: 1, timestamp: 'not a date', amount: 'x' })

  const { given } = deciderScenario(account)
  given([Deposited.create({ id: 'acc-1', version: 1, timestamp: at, amount: 10 })])
    .when({ kind: 'withdraw', amount: 20, at })
    .thenFails('InsufficientFunds')

  return {
    deposited: E.isRight(deposited) ? deposited.right._tag : deposited.left._tag,
    refused: E.isRight(refused) ? refused.right._tag : refused.left._tag,
    balance: E.isRight(loaded) ? loaded.right.state.balance : null,
    decodeError: E.isLeft(decoded) ? decoded.left._tag : null,
  }
}

/** What `main()` answers; test/package checks the consumer printed exactly this. */
export const expected = { deposited: 'Appended', refused: 'Rejected', balance: 100, decodeError: 'DecodeError' }
