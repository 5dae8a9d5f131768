import { randomUUID } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import { subscribe, type SubscribableStore } from '../../../src/subscriptions/index.js'
import { defaults } from '../../../src/subscriptions/options.js'
import { orThrow } from '../aett/contenders.js'
import type { Backend } from './backends.js'
import { message, now, singleEvent, sleep } from './common.js'
import type { LatencyResult } from './types.js'

export interface LatencyOptions {
  readonly commits: number
  readonly pauseMs: readonly [number, number]
  readonly log: (line: string) => void
}

/**
 * How the subscription hears of a commit on each backend, and which store object writes: on SQLite the writer is
 * the subscription's own store object (the in-process wake-up); on PostgreSQL and MariaDB it is a second store
 * object on the same tables, as another process's writer would be, so that only NOTIFY or polling can wake it.
 */
const wakeOf = (backend: Backend): { readonly wake: string; readonly sameObject: boolean } => {
  switch (backend.id) {
    case 'sqlite':
      return { wake: 'in-process wake-up (same store object)', sameObject: true }
    case 'postgres':
      return { wake: 'LISTEN/NOTIFY (writer: another store object, `notify: true`)', sameObject: false }
    case 'mysql':
      return { wake: `polling (writer: another store object; pollMs ${defaults.pollMs}, idle back-off to ${defaults.idleMaxMs})`, sameObject: false }
  }
}

/**
 * A live subscription on an empty store; a writer in the same process appends `commits` single-event commits one
 * at a time after a random pause (the subscription is idle when each lands). Latency: from the append call to the
 * handler's call for that commit.
 */
export const latency = async (backend: Backend, options: LatencyOptions): Promise<LatencyResult> => {
  const { wake, sameObject } = wakeOf(backend)
  const base = { backend: backend.id, title: backend.title, wake }
  const skipped = await backend.probe()
  if (skipped !== undefined) return { ...base, skipped, latencies: [], appends: [], notes: [] }
  let fresh: Awaited<ReturnType<Backend['fresh']>> | undefined
  try {
    fresh = await backend.fresh()
    const writer: SubscribableStore = sameObject ? fresh.store : await fresh.peer()
    const sent = new Map<string, number>()
    const latencies: number[] = []
    const appends: number[] = []
    let done: () => void = () => undefined
    const all = new Promise<void>((r) => (done = r))
    const sub = orThrow(
      'subscribe',
      subscribe({
        name: `extras-latency-${randomUUID()}`,
        store: fresh.store,
        start: 'beginning',
        handler: async (batch) => {
          const t = now()
          for (const c of batch) {
            const at = sent.get(c.commitId)
            if (at !== undefined) latencies.push(t - at)
          }
          if (latencies.length >= options.commits) done()
          return E.right(undefined)
        },
      }),
    )
    try {
      orThrow('caughtUp', await sub.caughtUp())
      // Lets the LISTEN connection (PostgreSQL) settle: the first commits must not measure its opening.
      await sleep(backend.id === 'postgres' ? 1000 : 100)
      const [lo, hi] = options.pauseMs
      for (let i = 1; i <= options.commits; i++) {
        await sleep(lo + Math.random() * (hi - lo))
        const commitId = randomUUID()
        const t0 = now()
        sent.set(commitId, t0)
        orThrow('append', await writer.commit(singleEvent('live', i, commitId)))
        appends.push(now() - t0)
      }
      const timeoutMs = 30_000
      let timer: ReturnType<typeof setTimeout> | undefined
      const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))
      const outcome = await Promise.race([all, timedOut])
      clearTimeout(timer)
      if (outcome === 'timeout') throw new Error(`the handler saw ${latencies.length} of ${options.commits} commits within ${timeoutMs} ms`)
    } finally {
      await sub.stop()
    }
    return { ...base, latencies, appends, notes: [backend.describe()] }
  } catch (e) {
    options.log(`  latency ${backend.id}: FAILED ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
    return { ...base, error: message(e), latencies: [], appends: [], notes: [] }
  } finally {
    await fresh?.close().catch((e: unknown) => options.log(`  latency ${backend.id}: cleanup failed: ${message(e)}`))
  }
}
