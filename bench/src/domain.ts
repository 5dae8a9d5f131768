import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import type { Decider } from '../../src/decider/Decider.js'
import { defineEvent, type EventOf } from '../../src/eventstore/codec/defineEvent.js'
import { topicMap } from '../../src/eventstore/codec/TopicMap.js'
import type { EventMessage } from '../../src/eventstore/Commit.js'

/**
 * The benchmark's domain, the same for every library: an account that takes deposits. Small on purpose, so
 * that the numbers measure the store and the handler, not the domain; the payload is a realistic size.
 */
export const Deposited = defineEvent('Deposited', { amount: t.number, note: t.string })
export type Deposited = EventOf<typeof Deposited>
export type AccountEvent = Deposited

export const topics = topicMap(Deposited)

export interface Account {
  readonly balance: number
  readonly deposits: number
}

export interface Deposit {
  readonly type: 'Deposit'
  readonly amount: number
}

export const initialAccount: Account = { balance: 0, deposits: 0 }

export const evolveAccount = (s: Account, e: { readonly amount: number }): Account => ({
  balance: s.balance + e.amount,
  deposits: s.deposits + 1,
})

/** A note of a typical length, so that every library stores and parses a payload of the same size. */
export const NOTE = 'monthly salary, reference 2026-11, paid by Example Ltd'

/** The decider; aett's repository stamps each event's `id` and `version` with the stream id and revision. */
export const accountDecider: Decider<Deposit, Account, AccountEvent, string> = {
  initialState: initialAccount,
  evolve: evolveAccount,
  decide: (c) =>
    c.amount <= 0
      ? E.left('amount must be positive')
      : E.right([Deposited.create({ id: '', version: 0, timestamp: new Date(), amount: c.amount, note: NOTE })]),
}

/** The same deposit as a plain JSON body, for Emmett's `data` and the raw drivers' payload column. */
export const depositData = (streamId: string, version: number) => ({
  id: streamId,
  version,
  timestamp: new Date().toISOString(),
  amount: 1,
  note: NOTE,
})

/**
 * The `n`th deposit of a stream as the JSON body aett stores: exactly what `topics.encode` gives for it, built
 * directly like the other libraries' payloads, so that store-level scenarios time the store and not io-ts.
 */
export const depositMessage = (streamId: string, version: number): EventMessage => ({
  body: { type: 'Deposited', ...depositData(streamId, version) },
  headers: {},
})

export const TENANT = 'bench'
