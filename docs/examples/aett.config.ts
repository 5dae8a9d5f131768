import * as E from 'fp-ts/lib/Either.js'
import type { Commit } from 'aett/eventstore'
import { account } from './deciders.js'
import { accountTopics } from './events.js'
import { tenantId } from './support.js'

// aett.config.ts: what the `aett` command line loads (through jiti: Node 20 cannot import TypeScript itself).

/** The store every verb uses when neither --store nor AETT_STORE names one. */
export const store = 'sqlite:./bank.db'

/** `aett check` decodes every stored event through this map. */
export const topics = accountTopics

/** `aett replay <stream>` loads a stream through one of these: `{ decider }`, or `(store, { tenantId }) => repository`. */
export const repositories = {
  account: { decider: account },
}

/** `aett subscriptions` lists these; `replay-parked statements` hands the parked commits to this handler. */
export const subscriptions = {
  statements: {
    source: { tenantId },
    handler: async (batch: readonly Commit[]) => {
      for (const c of batch) console.log(`statement for ${c.streamId} at revision ${c.streamRevision}`)
      return E.right(undefined)
    },
  },
}
