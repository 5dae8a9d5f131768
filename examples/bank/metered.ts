import * as E from 'fp-ts/lib/Either.js'
import type { EventStore } from 'aett/domain'
import type { Commit, Reads } from 'aett/eventstore'

/** What went through a store: commit attempts, concurrency conflicts, and events read from streams. */
export interface Meter {
  commits: number
  conflicts: number
  eventsRead: number
}

/** Wraps a store to count what the repositories do with it, so the demo can show retries and replays. */
export const metered = (store: EventStore): { readonly store: EventStore; readonly meter: Meter } => {
  const meter: Meter = { commits: 0, conflicts: 0, eventsRead: 0 }
  async function* counted(reads: Reads<Commit>): Reads<Commit> {
    for await (const r of reads) {
      if (E.isRight(r)) meter.eventsRead += r.right.events.length
      yield r
    }
  }
  const wrapped: EventStore = {
    commit: async (attempt) => {
      meter.commits += 1
      const r = await store.commit(attempt)
      if (E.isLeft(r) && r.left._tag === 'ConcurrencyConflict') meter.conflicts += 1
      return r
    },
    get: (tenant, stream, range) => counted(store.get(tenant, stream, range)),
    getTo: (tenant, stream, time) => counted(store.getTo(tenant, stream, time)),
    getAllTo: (tenant, time) => store.getAllTo(tenant, time),
    getFrom: (checkpoint, tenant) => store.getFrom(checkpoint, tenant),
    getFromTo: (from, to, tenant) => store.getFromTo(from, to, tenant),
    getSnapshot: (tenant, stream, max) => store.getSnapshot(tenant, stream, max),
    addSnapshot: (snapshot) => store.addSnapshot(snapshot),
    streamsToSnapshot: (tenant, threshold) => store.streamsToSnapshot(tenant, threshold),
  }
  return { store: wrapped, meter }
}
