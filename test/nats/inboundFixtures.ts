/** A small decider for the inbound suites: a counter that takes `Add` and refuses a `Take` beyond its total. */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import type { Route } from '../../src/brokers/inbound.js'
import { jsonBody } from '../../src/brokers/inbound.js'
import { deciderRepository, type HandleError } from '../../src/domain/index.js'
import type { Decider } from '../../src/decider/index.js'
import { defineEvent, topicMap, type EventOf, type StorageError } from '../../src/eventstore/index.js'
import type { MemoryStore } from '../../src/memory/index.js'
import { TENANT } from './fixtures.js'

export const Added = defineEvent('Added', { amount: t.number })
export const Taken = defineEvent('Taken', { amount: t.number })
export type CounterEvent = EventOf<typeof Added> | EventOf<typeof Taken>
export const counterTopics = topicMap(Added, Taken)

export type CounterCommand = { readonly type: 'Add'; readonly amount: number } | { readonly type: 'Take'; readonly amount: number }
export type CounterRefusal = { readonly _tag: 'NotEnough'; readonly total: number }

const at = new Date('2026-01-01T00:00:00.000Z')

export const counter: Decider<CounterCommand, { readonly total: number }, CounterEvent, CounterRefusal> = {
  initialState: { total: 0 },
  evolve: (s, e) => ({ total: s.total + (e.type === 'Added' ? e.amount : -e.amount) }),
  decide: (c, s) =>
    c.type === 'Add'
      ? E.right([Added.create({ timestamp: at, amount: c.amount })])
      : c.amount > s.total
        ? E.left({ _tag: 'NotEnough', total: s.total })
        : E.right([Taken.create({ timestamp: at, amount: c.amount })]),
}

const Command = t.union([t.type({ type: t.literal('Add'), amount: t.number }), t.type({ type: t.literal('Take'), amount: t.number })])
const Envelope = t.type({ counter: t.string, command: Command })

/** Messages are JSON `{ counter, command }`; anything else is undecodable. */
export const route: Route<CounterCommand> = (m) => {
  const body = jsonBody(m)
  if (E.isLeft(body)) return body
  const decoded = Envelope.decode(body.right)
  if (E.isLeft(decoded)) return E.left('the body is not { counter, command }')
  return E.right({ streamId: decoded.right.counter, command: decoded.right.command })
}

export const envelope = (counterId: string, command: CounterCommand): string => JSON.stringify({ counter: counterId, command })

/**
 * The counters' repository on `store`, whose `handle` can be told to fail once for a commit id (`failAfterStoring`)
 * with a `StorageError` after the command was stored (as if the connection broke before the answer), so that the message
 * is redelivered and meets its own commit.
 */
export const counters = (store: MemoryStore) => {
  const repository = deciderRepository({ decider: counter, topics: counterTopics, store, tenantId: TENANT })
  const state = { failAfterStoring: new Set<string>(), calls: 0 }
  const handle = (id: string, command: CounterCommand, options?: Parameters<typeof repository.handle>[2]) => async (): Promise<E.Either<HandleError<CounterRefusal>, { readonly _tag: string }>> => {
    state.calls += 1
    const r = await repository.handle(id, command, options)()
    const commitId = options?.commitId ?? ''
    if (state.failAfterStoring.has(commitId) && E.isRight(r)) {
      state.failAfterStoring.delete(commitId)
      const failure: StorageError = { _tag: 'StorageError', operation: 'commit', message: 'the connection broke before the answer', cause: undefined }
      return E.left(failure)
    }
    return r
  }
  return { repository, handle, state }
}
