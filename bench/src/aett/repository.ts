import * as E from 'fp-ts/lib/Either.js'
import { deciderRepository } from '../../../src/domain/deciderRepository.js'
import type { Persistence } from '../../../src/eventstore/ports.js'
import { accountDecider, TENANT, topics } from '../domain.js'
import type { Contender } from '../harness/types.js'
import { orThrow } from './contenders.js'

/** aett's command handler and loads: the decider repository of `aett/domain` on a store. */
export const aettRepository = (store: Persistence) => {
  const repo = deciderRepository({ decider: accountDecider, topics, store, tenantId: TENANT })
  const load = async (streamId: string, events: number): Promise<void> => {
    const loaded = orThrow('load', await repo.load(streamId)())
    if (loaded.state.deposits !== events) throw new Error(`aett loaded ${loaded.state.deposits} events, expected ${events}`)
  }
  return {
    /** Load (snapshot if any, then events), decide, append with the revision it read. */
    commands: (n: number, streams: number, prefix: string): Contender => ({
      library: 'aett',
      via: 'deciderRepository.handle',
      run: async (round) => {
        for (let i = 0; i < n; i++) {
          const r = await repo.handle(`${prefix}-${round}-${i % streams}`, { type: 'Deposit', amount: 1 })()
          if (E.isLeft(r) || r.right._tag !== 'Appended') throw new Error(`aett handle: ${JSON.stringify(r)}`)
        }
      },
    }),
    /** Read, decode (io-ts) and fold a stream: from its newest snapshot when it has one. */
    load: (streamId: string, events: number, via = 'deciderRepository.load'): Contender => ({
      library: 'aett',
      via,
      run: () => load(streamId, events),
    }),
    /** Stores a snapshot of the stream's state at `version`. */
    snapshot: async (streamId: string, version: number): Promise<void> => {
      orThrow('snapshot', await repo.snapshot(streamId, version)())
    },
  }
}
