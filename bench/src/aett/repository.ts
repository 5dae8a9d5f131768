import * as E from 'fp-ts/lib/Either.js'
import { deciderRepository } from '../../../src/domain/deciderRepository.js'
import { stateCache } from '../../../src/domain/stateCache.js'
import type { Persistence } from '../../../src/eventstore/ports.js'
import { accountDecider, TENANT, topics } from '../domain.js'
import type { Contender } from '../harness/types.js'
import { orThrow } from './contenders.js'

/** aett's command handler and loads: the decider repository of `aett/domain` on a store. */
export const aettRepository = (store: Persistence) => {
  const repo = deciderRepository({ decider: accountDecider, topics, store, tenantId: TENANT })
  // The same handler with a state cache (docs/domain.md, "State cache"): fresh mode, and allow-stale.
  const cached = {
    fresh: deciderRepository({ decider: accountDecider, topics, store, tenantId: TENANT, cache: stateCache({ maxEntries: 10_000 }) }),
    stale: deciderRepository({ decider: accountDecider, topics, store, tenantId: TENANT, cache: stateCache({ maxEntries: 10_000 }), allowStaleMs: 60_000 }),
  }
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
    /**
     * The same commands through a state cache: `fresh` reads only the commits after the cached revision, `stale`
     * reads nothing and lets the append check. Each round's streams are new, so each starts with one full load.
     */
    cachedCommands: (mode: 'fresh' | 'stale', n: number, streams: number, prefix: string): Contender => ({
      library: 'aett',
      via: `deciderRepository.handle (cache, ${mode === 'fresh' ? 'fresh' : 'allowStaleMs'})`,
      run: async (round) => {
        for (let i = 0; i < n; i++) {
          const r = await cached[mode].handle(`${prefix}-${round}-${i % streams}`, { type: 'Deposit', amount: 1 })()
          if (E.isLeft(r) || r.right._tag !== 'Appended') throw new Error(`aett handle (cache ${mode}): ${JSON.stringify(r)}`)
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
