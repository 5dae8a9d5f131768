import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Decider } from '../../src/decider/index.js'
import { deciderRepository } from '../../src/domain/index.js'
import { memoryStore } from '../../src/memory/index.js'
import type { EventMessage } from '../../src/eventstore/index.js'
import { at, bodiesOf, Deposited, topics, type AccountEvent } from './fixtures.js'

describe('stamping on append', () => {
  it('stamps id and version on events that `decide` wrote without them', async () => {
    // given a decider whose events leave out id and version
    const bare: Decider<{ readonly amount: number }, number, AccountEvent, never> = {
      initialState: 0,
      evolve: (s, e) => (e.type === 'Deposited' ? s + e.amount : s),
      decide: (c) => E.right([Deposited.create({ timestamp: at, amount: c.amount }), Deposited.create({ timestamp: at, amount: 1 })]),
    }
    const store = memoryStore()
    const repo = deciderRepository({ decider: bare, topics, store })
    // when a command is handled twice
    await repo.handle('acc-1', { amount: 5 })()
    const outcome = await repo.handle('acc-1', { amount: 7 })()
    // then the stored and returned events carry the stream id and their revisions
    expect((await bodiesOf(store, 'acc-1')).map((b) => [b['id'], b['version'], b['amount']])).toEqual([
      ['acc-1', 1, 5],
      ['acc-1', 2, 1],
      ['acc-1', 3, 7],
      ['acc-1', 4, 1],
    ])
    expect(E.isRight(outcome) && outcome.right._tag === 'Appended' && outcome.right.events.map((e) => [e.id, e.version])).toEqual([
      ['acc-1', 3],
      ['acc-1', 4],
    ])
  })

  it('keeps plain events (no id, version or timestamp) as they are', async () => {
    // given a decider over plain events, with a topic map that stores them as they are
    type Plain = { readonly type: 'Ticked'; readonly n: number }
    const ticks: Decider<null, number, Plain, never> = {
      initialState: 0,
      evolve: (s) => s + 1,
      decide: (_, s) => E.right([{ type: 'Ticked', n: s + 1 }]),
    }
    const store = memoryStore()
    const plainTopics = {
      topics: ['Ticked'],
      has: (t: string) => t === 'Ticked',
      currentTopic: (t: string) => (t === 'Ticked' ? t : undefined),
      decode: (b: unknown) => E.right(b as Plain),
      decodeMessage: (m: EventMessage) => E.right(m.body as unknown as Plain),
      encode: (e: Plain) => ({ ...e }),
      encodeMessage: (e: Plain) => ({ body: { ...e }, headers: {} }),
    }
    const repo = deciderRepository({ decider: ticks, topics: plainTopics, store })
    // when it handles a command
    await repo.handle('t-1', null)()
    // then the body is stored without meta fields
    expect(await bodiesOf(store, 't-1')).toEqual([{ type: 'Ticked', n: 1 }])
  })
})
