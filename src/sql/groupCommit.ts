/**
 * Group commit for the server stores (issue 18): appends wait in a queue and are written in batches, at most
 * `maxInFlight` batches at a time, each of at most `maxBatch` appends. A batch leaves as soon as a slot is free,
 * after the current turn's microtasks have settled (so that appends made together travel together), or after
 * `maxWaitMs` when that is set; every append that arrives while the slots are busy waits for the next batch. A
 * lone writer therefore finds a free slot and sends its append alone, a microtask later than without the queue;
 * concurrent writers share round trips, transactions and syncs.
 */

/** Options of group commit, after validation. */
export interface GroupCommitConfig {
  /** At most this many appends share one transaction. */
  readonly maxBatch: number
  /** How long the first append of a batch waits for others, in ms; 0: until the turn's microtasks settle. */
  readonly maxWaitMs: number
}

/** How a store takes `groupCommit`: on with defaults, off, or tuned. */
export type GroupCommitOption = boolean | { readonly maxBatch?: number; readonly maxWaitMs?: number }

export const groupCommitLimits = { maxBatch: 10_000, maxWaitMs: 1000 } as const

const isIntegerIn = (n: unknown, min: number, max: number): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= min && n <= max

/**
 * Validates a `groupCommit` option against `defaults`: the config, undefined (off), or what is wrong with it.
 * `maxBatchLimit` is the store's own ceiling, when it has one below the shared one (PostgreSQL: the commits one
 * transaction's tokens can number).
 */
export const groupCommitConfig = (
  option: GroupCommitOption | undefined,
  defaults: { readonly enabled: boolean } & GroupCommitConfig,
  maxBatchLimit: number = groupCommitLimits.maxBatch,
): { readonly config: GroupCommitConfig | undefined } | { readonly error: string } => {
  const given = option ?? defaults.enabled
  if (given === false) return { config: undefined }
  if (given === true) return { config: { maxBatch: defaults.maxBatch, maxWaitMs: defaults.maxWaitMs } }
  if (typeof given !== 'object' || given === null) return { error: `groupCommit must be a boolean or { maxBatch, maxWaitMs }, got ${String(given)}` }
  const { maxBatch = defaults.maxBatch, maxWaitMs = defaults.maxWaitMs } = given
  if (!isIntegerIn(maxBatch, 1, maxBatchLimit)) return { error: `groupCommit.maxBatch must be an integer in 1..${maxBatchLimit}, got ${String(maxBatch)}` }
  if (!isIntegerIn(maxWaitMs, 0, groupCommitLimits.maxWaitMs)) return { error: `groupCommit.maxWaitMs must be an integer in 0..${groupCommitLimits.maxWaitMs}, got ${String(maxWaitMs)}` }
  return { config: { maxBatch, maxWaitMs } }
}

/** How many microtask rounds the queue waits for a turn's appends to stop arriving (they pass a few promise hops). */
const settleRounds = 16

/**
 * A queue that hands batches to `write`. `write` must never reject: it answers every item of its batch itself
 * (a failed transaction answers each of them with the failure).
 */
export const groupCommitQueue = <T>(
  config: GroupCommitConfig,
  maxInFlight: number,
  write: (batch: readonly T[]) => Promise<void>,
): ((item: T) => void) => {
  const waiting: T[] = []
  let inFlight = 0
  let scheduled = false

  const send = () => {
    scheduled = false
    while (inFlight < maxInFlight && waiting.length > 0) {
      inFlight += 1
      void write(waiting.splice(0, config.maxBatch)).finally(() => {
        inFlight -= 1
        send()
      })
    }
  }

  /** Sends once a microtask round has passed in which no append joined the queue. */
  const settle = (seen: number, round: number) =>
    queueMicrotask(() => (waiting.length > seen && round < settleRounds ? settle(waiting.length, round + 1) : send()))

  return (item) => {
    waiting.push(item)
    // With every slot busy, the batch leaves when a slot frees (`send` after a write), whatever else happens.
    if (scheduled || inFlight >= maxInFlight) return
    scheduled = true
    if (config.maxWaitMs > 0) setTimeout(send, config.maxWaitMs)
    else settle(waiting.length, 0)
  }
}

/** An item of a store's queue: what to write, and how to answer it. */
export type Queued<T, A> = T & { readonly answer: (answer: A) => void }

/**
 * The queues of one kind of store, one per store context, made on its first append: `enqueue(ctx, config, item)`
 * resolves with the answer `write` gives the item. A `write` that throws answers every item of its batch with
 * `failed(cause)`, so no append waits for ever.
 */
export const contextQueues = <C extends object, T extends object, A>(
  maxInFlight: number,
  write: (ctx: C, batch: readonly Queued<T, A>[]) => Promise<void>,
  failed: (cause: unknown) => A,
): ((ctx: C, config: GroupCommitConfig, item: T) => Promise<A>) => {
  const queues = new WeakMap<C, (q: Queued<T, A>) => void>()
  return (ctx, config, item) => {
    let enqueue = queues.get(ctx)
    if (enqueue === undefined) {
      enqueue = groupCommitQueue<Queued<T, A>>(config, maxInFlight, (batch) =>
        write(ctx, batch).catch((cause: unknown) => batch.forEach((q) => q.answer(failed(cause)))),
      )
      queues.set(ctx, enqueue)
    }
    const add = enqueue
    return new Promise((answer) => add({ ...item, answer }))
  }
}
