/**
 * Group commit (a named extra of the SQLite store): appends made within one turn of the event loop are
 * collected and handed to `write` together, so that they share one transaction and one sync.
 *
 * better-sqlite3 runs a transaction and its sync synchronously, so nothing can arrive while a write is in
 * progress; instead the batch is closed when the turn's microtasks have stopped adding to it. A lone writer
 * waits one microtask, not a macrotask (no `setImmediate`, no timer), unless `maxWaitMs` asks for more.
 */
import type { GroupCommitConfig } from '../sql/groupCommit.js'

export type { GroupCommitConfig }

/** Collects items and writes them in batches; `add` never writes synchronously. */
export interface Batcher<T> {
  readonly add: (item: T) => void
}

/**
 * How many microtask rounds a batch may stay open while it keeps growing: appends that arrive through a few
 * promise hops each (the store shell, the caller's `await`) still join the batch of their turn.
 */
const maxRounds = 16

export const batcher = <T>(config: GroupCommitConfig, write: (batch: readonly T[]) => void): Batcher<T> => {
  let open: T[] = []

  const close = (batch: T[]) => {
    if (open !== batch) return // already closed because it was full
    open = []
    write(batch)
  }

  /** Closes `batch` once a microtask round has passed in which it did not grow. */
  const settle = (batch: T[], seen: number, round: number) =>
    queueMicrotask(() => {
      if (open !== batch) return
      if (batch.length > seen && round < maxRounds) settle(batch, batch.length, round + 1)
      else close(batch)
    })

  return {
    add: (item) => {
      const batch = open
      batch.push(item)
      if (batch.length >= config.maxBatch) {
        open = []
        queueMicrotask(() => write(batch))
      } else if (batch.length === 1) {
        if (config.maxWaitMs > 0) setTimeout(() => close(batch), config.maxWaitMs)
        else settle(batch, 1, 0)
      }
    },
  }
}
