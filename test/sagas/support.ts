import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import type { Decider, SagaDefinition } from 'aett/decider'
import { commitIdFrom, deciderRepository, sagaRepository, type EventStore } from 'aett/domain'
import { defineEvent, toArray, topicMap, type Commit, type EventOf, type Persistence } from 'aett/eventstore'

// ----- a saga that sends commands to target streams, and the target that handles them -----

/** Asks saga `id` to send `commands` commands to stream `target`. */
export const Tick = defineEvent('Tick', { n: t.number, commands: t.number, target: t.string })
export type Tick = EventOf<typeof Tick>
export const tickTopics = topicMap(Tick)

/** What the saga sends: `i`-th command of its `n`-th tick. */
export const Work = t.type({ target: t.string, saga: t.string, n: t.number, i: t.number })
export type Work = t.TypeOf<typeof Work>

export const ticker: SagaDefinition<number, Tick, Work> = {
  initialState: 0,
  evolve: (ticks) => ticks + 1,
  react: (_, e) => Array.from({ length: e.commands }, (_, i) => ({ target: e.target, saga: e.id, n: e.n, i })),
}

/** The target writes one `Handled` per command it is given. */
export const Handled = defineEvent('Handled', { saga: t.string, n: t.number, i: t.number })
export type Handled = EventOf<typeof Handled>
export const handledTopics = topicMap(Handled)

export const target: Decider<Work, number, Handled, never> = {
  initialState: 0,
  evolve: (count) => count + 1,
  decide: (c) => E.right([Handled.create({ id: '', version: 0, timestamp: new Date(0), saga: c.saga, n: c.n, i: c.i })]),
}

export const repositories = (store: EventStore) => ({
  sagas: sagaRepository({ saga: ticker, topics: tickTopics, store }),
  targets: deciderRepository({ decider: target, topics: handledTopics, store }),
})

/** Saga `sagaId`'s `n`-th tick, sending `commands` commands to `to`; a given commit id when `commitId` is set. */
export const tick = async (store: EventStore, sagaId: string, n: number, commands: number, to: string, commitId?: string) => {
  const r = await repositories(store).sagas.handle(sagaId, Tick.create({ id: sagaId, version: n, timestamp: new Date(0), n, commands, target: to }), commitId === undefined ? {} : { commitId })()
  if (E.isLeft(r) || r.right._tag !== 'Appended') throw new Error(`tick ${sagaId} ${n}: ${JSON.stringify(r)}`)
  return r.right
}

/** The dispatcher's handler over a target repository: each command through `commitIdFrom(key)`. */
export const handleWork = (store: EventStore) => {
  const { targets } = repositories(store)
  return (c: { readonly command: Work; readonly commitId: string }) => targets.handle(c.command.target, c.command, { commitId: c.commitId })()
}

/** Every commit of the store, or a failed test. */
export const everything = async (store: Persistence): Promise<Commit[]> => {
  const r = await toArray(store.getFrom(0))
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
}

/** The commits of one stream, or a failed test. */
export const streamOf = async (store: Persistence, streamId: string, tenantId = 'default'): Promise<Commit[]> => {
  const r = await toArray(store.get(tenantId, streamId))
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
}

/** Every command the commits ask for: `[sagaId, n, i]` with the commit id it must be handled under. */
export const expectedCommands = (commits: readonly Commit[]) =>
  commits.flatMap((c) =>
    Object.keys(c.headers)
      .filter((k) => k.startsWith('UndispatchedMessage.'))
      .map((k) => ({ key: JSON.stringify([c.tenantId, c.streamId, c.commitSequence, Number(k.split('.')[1])]), body: c.headers[k] as Work })),
  )

export { commitIdFrom }

/** Quick subscription timings for tests. */
export const quick = { pollMs: 20, leaseTtlMs: 2_000, standbyPollMs: 20, retry: { attempts: 2, initialDelayMs: 5, maxDelayMs: 20 } } as const
