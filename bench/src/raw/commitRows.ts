import { depositData, evolveAccount, type Account } from '../domain.js'
import type { Contender } from '../harness/types.js'

/**
 * What every raw baseline stores per commit: one row whose payload is the commit's headers and events as one
 * JSON document, the same shape and size aett's SQL stores write. A baseline doing less work than the
 * contract asks would flatter the driver, so each one checks the head and relies on unique indexes too.
 */
export const eventsJson = (streamId: string, firstVersion: number, count: number): string =>
  JSON.stringify(
    Array.from({ length: count }, (_, i) => ({ body: { type: 'Deposited', ...depositData(streamId, firstVersion + i) }, headers: {} })),
  )

export const commitPayload = (streamId: string, firstVersion: number, count: number): string =>
  `{"headers":{},"events":${eventsJson(streamId, firstVersion, count)}}`

interface StoredPayload {
  readonly events: readonly { readonly body: { readonly amount: number } }[]
}

/** Folds a stored payload without validation: the least a reader can do (`evolve` lets a bench count events). */
export const foldPayload = (state: Account, payload: string, evolve = evolveAccount): Account => {
  let s = state
  for (const e of (JSON.parse(payload) as StoredPayload).events) s = evolve(s, e.body)
  return s
}

export const eventsIn = (payload: string): number => (JSON.parse(payload) as StoredPayload).events.length

/** How a networked raw baseline appends one commit and folds one stream; the scenarios are built on these. */
export interface RawOperations {
  readonly name: string
  readonly via: string
  readonly append: (streamId: string, sequence: number, revision: number, count: number) => Promise<void>
  readonly fold: (streamId: string) => Promise<Account>
}

/** The write and load scenarios every networked raw baseline shares (the same loops, its own statements). */
export const rawScenarios = ({ name, via, append, fold }: RawOperations) => ({
  appendSingles: (n: number, prefix: string): Contender => ({
    library: 'raw',
    via,
    run: async (round) => {
      for (let i = 1; i <= n; i++) await append(`${prefix}-${round}`, i, i, 1)
    },
  }),
  appendBatch: (n: number, prefix: string): Contender => ({
    library: 'raw',
    via,
    run: (round) => append(`${prefix}-${round}`, 1, n, n),
  }),
  commands: (n: number, streams: number, prefix: string): Contender => ({
    library: 'raw',
    run: async (round) => {
      for (let i = 0; i < n; i++) {
        const streamId = `${prefix}-${round}-${i % streams}`
        const version = (await fold(streamId)).deposits + 1
        await append(streamId, version, version, 1)
      }
    },
  }),
  fold: (streamId: string, events: number): Contender => ({
    library: 'raw',
    run: async () => {
      const s = await fold(streamId)
      if (s.deposits !== events) throw new Error(`raw ${name} folded ${s.deposits} events, expected ${events}`)
    },
  }),
  seedStream: async (streamId: string, events: number, perCommit: number): Promise<void> => {
    for (let seq = 1; seq * perCommit <= events; seq++) await append(streamId, seq, seq * perCommit, perCommit)
  },
  seedLog: async (prefix: string, commits: number, perCommit: number): Promise<void> => {
    for (let i = 0; i < commits; i++) {
      const seq = Math.floor(i / 100) + 1
      await append(`${prefix}-${i % 100}`, seq, seq * perCommit, perCommit)
    }
  },
})
