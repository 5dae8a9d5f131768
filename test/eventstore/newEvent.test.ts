import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { describe, expect, expectTypeOf, it } from 'vitest'
import type { Decider, NewEvent } from '../../src/decider/index.js'
import { deciderRepository } from '../../src/domain/index.js'
import { defineEvent, topicMap, toArray, type EventOf } from '../../src/eventstore/index.js'
import { MemoryStore } from '../../src/memory/index.js'
import { deciderScenario, ScenarioFailure } from '../../src/testing/index.js'

// Issue 12 item 3: events are written without `id: ''` and `version: 0` placeholders; the repository stamps them.

const Opened = defineEvent('Opened', { owner: t.string })
type Opened = EventOf<typeof Opened>
const Deposited = defineEvent('Deposited', { amount: t.number })
type Deposited = EventOf<typeof Deposited>
type AccountEvent = Opened | Deposited
const topics = topicMap(Opened, Deposited)
const at = new Date('2026-03-01T12:00:00.000Z')

type Command = { readonly type: 'Open'; readonly owner: string } | { readonly type: 'Deposit'; readonly amount: number }
interface State {
  readonly owner: string
  readonly balance: number
  readonly version: number
}

/** A decider whose `decide` writes no placeholders: neither `id` nor `version`. */
const account: Decider<Command, State, AccountEvent, 'NotOpen'> = {
  initialState: { owner: '', balance: 0, version: 0 },
  evolve: (s, e) => (e.type === 'Opened' ? { ...s, owner: e.owner, version: e.version } : { ...s, balance: s.balance + e.amount, version: e.version }),
  decide: (c, s) => {
    if (c.type === 'Open') return E.right([Opened.create({ timestamp: at, owner: c.owner })])
    if (s.owner === '') return E.left('NotOpen')
    // a plain object literal works as well as `create`
    return E.right([{ type: 'Deposited', timestamp: at, amount: c.amount }])
  },
}

describe('events without placeholders', () => {
  it('are created without id and version, and with them as complete events', () => {
    // when creating an event without its stamp, and one with it
    const fresh = Deposited.create({ timestamp: at, amount: 5 })
    const stored = Deposited.create({ id: 'acc-1', version: 2, timestamp: at, amount: 5 })
    // then the first has neither field (nothing is invented), the second both
    expect(fresh).toEqual({ type: 'Deposited', timestamp: at, amount: 5 })
    expect('id' in fresh || 'version' in fresh).toBe(false)
    expect(stored).toEqual({ type: 'Deposited', id: 'acc-1', version: 2, timestamp: at, amount: 5 })
  })

  it('type a fresh event as NewEvent and a complete or loaded one as the event itself', () => {
    const fresh = Deposited.create({ timestamp: at, amount: 5 })
    const stored = Deposited.create({ id: 'acc-1', version: 2, timestamp: at, amount: 5 })
    expectTypeOf(fresh).toEqualTypeOf<NewEvent<Deposited>>()
    expectTypeOf(stored).toEqualTypeOf<Deposited>()
    expectTypeOf(fresh.version).toEqualTypeOf<number | undefined>()
    expectTypeOf(stored.version).toEqualTypeOf<number>()
    // every event is a NewEvent, but a NewEvent is no stored event
    expectTypeOf<Deposited>().toExtend<NewEvent<Deposited>>()
    // @ts-expect-error a fresh event lacks `id` and `version`, which stored events always carry
    const notStored: Deposited = fresh
    // loaded events carry them
    const loaded = topics.decode(topics.encode(stored))
    if (E.isRight(loaded)) expectTypeOf(loaded.right.id).toEqualTypeOf<string>()
    // plain events (without meta fields) are their own NewEvent
    expectTypeOf<NewEvent<{ readonly type: 'Plain'; readonly n: number }>>().toEqualTypeOf<{ readonly type: 'Plain'; readonly n: number }>()
    // @ts-expect-error the other fields stay required
    Deposited.create({ amount: 1 })
    // @ts-expect-error and checked
    Deposited.create({ timestamp: at, amount: 'ten' })
    // @ts-expect-error and unknown fields refused, as for any object literal
    Deposited.create({ timestamp: at, amount: 1, amuont: 2 })
    // @ts-expect-error decide must still return the event's own fields
    const bad: Decider<Command, State, AccountEvent, never>['decide'] = () => E.right([{ type: 'Deposited', amount: 1 }])
    expect([notStored, bad]).toHaveLength(2)
  })

  it('are stamped by the repository on append, and stored and loaded with id and version', async () => {
    // given a repository over the decider without placeholders
    const store = new MemoryStore()
    const accounts = deciderRepository({ decider: account, topics, store })
    // when two commands are handled
    expect(E.isRight(await accounts.handle('acc-1', { type: 'Open', owner: 'ann' })())).toBe(true)
    const outcome = await accounts.handle('acc-1', { type: 'Deposit', amount: 5 })()
    // then the events as appended, as stored and as loaded carry the stream id and their revisions
    expect(outcome).toMatchObject(E.right({ _tag: 'Appended', revision: 2, events: [{ type: 'Deposited', id: 'acc-1', version: 2, timestamp: at, amount: 5 }] }))
    const commits = await toArray(store.get('default', 'acc-1'))
    if (E.isLeft(commits)) return expect.fail(commits.left.message)
    expect(commits.right.flatMap((c) => c.events.map((e) => [e.body['id'], e.body['version']]))).toEqual([
      ['acc-1', 1],
      ['acc-1', 2],
    ])
    expect(await accounts.load('acc-1')()).toMatchObject(E.right({ version: 2, state: { owner: 'ann', balance: 5, version: 2 } }))
  })

  it('are written without placeholders in given/when/then, on either side', () => {
    const { given } = deciderScenario(account)
    const opened = Opened.create({ timestamp: at, owner: 'ann' })
    // given events without id and version: evolve sees them at their positions
    given([opened]).when({ type: 'Deposit', amount: 5 }).then([Deposited.create({ timestamp: at, amount: 5 })])
    // placeholders, or a real stamp, on one side compare equal: the repository overwrites them anyway
    given([opened]).when({ type: 'Deposit', amount: 5 }).then([Deposited.create({ id: '', version: 0, timestamp: at, amount: 5 })])
    given([opened]).when({ type: 'Deposit', amount: 5 }).then([Deposited.create({ id: 'acc-1', version: 2, timestamp: at, amount: 5 })])
    given([]).when({ type: 'Deposit', amount: 5 }).thenFails('NotOpen')
    // other fields still count, and the failure shows the events as written
    let failure: unknown
    try {
      given([opened]).when({ type: 'Deposit', amount: 5 }).then([Deposited.create({ timestamp: at, amount: 6 })])
    } catch (e) {
      failure = e
    }
    expect(failure).toBeInstanceOf(ScenarioFailure)
    expect((failure as ScenarioFailure).expected).toEqual([{ type: 'Deposited', timestamp: at, amount: 6 }])
  })

  it('give a given event without version its position, and keep the fields it has', () => {
    // given a decider that reports the version it has reached
    const versions: number[] = []
    const probe: Decider<Command, State, AccountEvent, never> = {
      ...account,
      evolve: (s, e) => (versions.push(e.version), account.evolve(s, e)),
      decide: () => E.right([]),
    }
    deciderScenario(probe)
      .given([Opened.create({ timestamp: at, owner: 'ann' }), Deposited.create({ timestamp: at, amount: 1 }), Deposited.create({ id: 'x', version: 7, timestamp: at, amount: 1 })])
      .when({ type: 'Deposit', amount: 1 })
      .thenNothing()
    expect(versions).toEqual([1, 2, 7])
  })
})
