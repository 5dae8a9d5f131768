import * as E from 'fp-ts/lib/Either.js'
import { expect } from 'vitest'
import { deciderRepository } from '../../src/domain/index.js'
import type { Persistence } from '../../src/eventstore/index.js'
import { account, topics } from '../domain/fixtures.js'

/**
 * How many statements a repository load sends, on a store whose driver calls are counted (`count()` reads the
 * counter). The stream is short and has a snapshot with a commit after it: the command path's usual load.
 */
export const statementsPerLoad = async (store: Persistence, count: () => number): Promise<{ readonly withSnapshot: number; readonly withoutSnapshot: number }> => {
  const accounts = deciderRepository({ decider: account, topics, store })
  const ok = <A>(r: E.Either<{ readonly _tag: string }, A>): A => {
    if (E.isLeft(r)) return expect.fail(`expected a success, got ${JSON.stringify(r.left)}`)
    return r.right
  }
  const id = `acc-${Math.random().toString(36).slice(2)}`
  ok(await accounts.handle(id, { type: 'Open', owner: 'Ada' })())
  ok(await accounts.handle(id, { type: 'Deposit', amount: 5 })())
  const plain = `${id}-plain`
  ok(await accounts.handle(plain, { type: 'Open', owner: 'Bo' })())
  ok(await accounts.snapshot(id)())
  ok(await accounts.handle(id, { type: 'Deposit', amount: 7 })())
  const measure = async (streamId: string, balance: number): Promise<number> => {
    const before = count()
    const loaded = ok(await accounts.load(streamId)())
    expect(loaded.state.balance).toBe(balance)
    return count() - before
  }
  return { withSnapshot: await measure(id, 12), withoutSnapshot: await measure(plain, 0) }
}

/** The same store without `readLatest`: what a repository sent before the store had it (getSnapshot, then get). */
export const withoutReadLatest = (store: Persistence): Persistence => {
  const { readLatest: _, ...rest } = store
  return rest
}
