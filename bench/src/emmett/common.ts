/**
 * Emmett's side of the scenarios, written against its generic `EventStore` interface so that the SQLite and
 * PostgreSQL stores run exactly the same code. Loaded only through `load.ts`, so that the kit's own test run
 * works without `bench/node_modules`.
 */
import { CommandHandler, type Event, type EventStore } from '@event-driven-io/emmett'
import { depositData, evolveAccount, initialAccount, type Account } from '../domain.js'
import type { Contender } from '../harness/types.js'

export type DepositedEvent = Event<'Deposited', ReturnType<typeof depositData>>

const deposited = (streamId: string, version: number): DepositedEvent => ({ type: 'Deposited', data: depositData(streamId, version) })

const evolve = (s: Account, e: DepositedEvent): Account => evolveAccount(s, e.data)

const handle = CommandHandler<Account, DepositedEvent>({ evolve, initialState: () => initialAccount })

export const emmettContenders = (store: EventStore) => ({
  /** `n` appends of one event, each with the expected stream version (optimistic concurrency). */
  appendSingles: (n: number, prefix: string): Contender => ({
    library: 'emmett',
    via: 'appendToStream',
    run: async (round) => {
      const streamId = `${prefix}-${round}`
      for (let i = 1; i <= n; i++) {
        await store.appendToStream(streamId, [deposited(streamId, i)], { expectedStreamVersion: BigInt(i - 1) })
      }
    },
  }),
  appendBatch: (n: number, prefix: string): Contender => ({
    library: 'emmett',
    via: 'appendToStream',
    run: async (round) => {
      const streamId = `${prefix}-${round}`
      const events = Array.from({ length: n }, (_, i) => deposited(streamId, i + 1))
      await store.appendToStream(streamId, events, { expectedStreamVersion: 0n })
    },
  }),
  /** Emmett's `CommandHandler`: aggregate the stream, run the handler, append with the version it read. */
  commands: (n: number, streams: number, prefix: string): Contender => ({
    library: 'emmett',
    via: 'CommandHandler',
    run: async (round) => {
      for (let i = 0; i < n; i++) {
        const streamId = `${prefix}-${round}-${i % streams}`
        await handle(store, streamId, (state) => deposited(streamId, state.deposits + 1))
      }
    },
  }),
  fold: (streamId: string, events: number): Contender => ({
    library: 'emmett',
    via: 'aggregateStream',
    run: async () => {
      const r = await store.aggregateStream<Account, DepositedEvent>(streamId, { evolve, initialState: () => initialAccount })
      if (r.state.deposits !== events) throw new Error(`emmett folded ${r.state.deposits} events, expected ${events}`)
    },
  }),
  seedStream: async (streamId: string, events: number, perCommit: number): Promise<void> => {
    for (let v = 0; v < events; v += perCommit) {
      const batch = Array.from({ length: perCommit }, (_, i) => deposited(streamId, v + i + 1))
      await store.appendToStream(streamId, batch, { expectedStreamVersion: BigInt(v) })
    }
  },
  seedLog: async (prefix: string, commits: number, perCommit: number): Promise<void> => {
    for (let i = 0; i < commits; i++) {
      const streamId = `${prefix}-${i % 100}`
      const v = Math.floor(i / 100) * perCommit
      const batch = Array.from({ length: perCommit }, (_, j) => deposited(streamId, v + j + 1))
      await store.appendToStream(streamId, batch, { expectedStreamVersion: BigInt(v) })
    }
  },
})

export type EmmettContenders = ReturnType<typeof emmettContenders>
