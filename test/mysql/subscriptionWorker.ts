import { appendFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { Lease, SubscriptionStore } from '../../src/eventstore/index.js'
import { mysqlStore } from '../../src/mysql/index.js'
import { subscribe } from '../../src/subscriptions/index.js'

/**
 * A consumer process for the cross-process subscription tests (subscriptionProcesses.test.ts): runs `subscribe`
 * on one subscription name and appends what it does to a shared log file, one JSON line per event, each written
 * with one `write` to a file opened for appending, so that the lines of several processes interleave in the order
 * they happened:
 * - `take`: this holder took the lease (a higher epoch than it held before);
 * - `batch`: the handler was given a batch (its tokens), written first thing in the handler, which then sleeps
 *   `handlerMs` before it succeeds, so that a signal sent on seeing the line lands mid-batch;
 * - `save`: a checkpoint write returned (`ok`: it was stored; otherwise the lease was lost or it failed), with the
 *   time it was sent: a write that succeeded was sent before any takeover, so the writes that succeeded, ordered by
 *   `sentAt`, are in the order the database applied them (the line itself may be late if the process was paused);
 * - `renew`: a renewal that was refused (the lease was lost);
 * - `stale`: on SIGCONT (resumed after SIGSTOP), the process writes the checkpoint back to 1 with the lease it took
 *   last, as a former holder would, and logs whether that was stored.
 * SIGTERM stops the subscription gracefully (it releases the lease).
 */
export interface WorkerArgs {
  readonly uri: string
  readonly tablePrefix: string
  readonly name: string
  readonly holder: string
  readonly log: string
  readonly batchSize: number
  readonly handlerMs: number
  readonly leaseTtlMs: number
  readonly heartbeatMs: number
  readonly standbyPollMs: number
  readonly pollMs: number
}

export type LogLine =
  | { readonly e: 'start'; readonly holder: string; readonly pid: number; readonly at: number }
  | { readonly e: 'take'; readonly holder: string; readonly epoch: number; readonly at: number }
  | { readonly e: 'batch'; readonly holder: string; readonly epoch: number; readonly tokens: readonly number[]; readonly at: number }
  | {
      readonly e: 'save'
      readonly holder: string
      readonly epoch: number
      readonly position: number
      readonly ok: boolean
      readonly error?: string
      /** When the write was sent (`at`: when it returned and the line was written). */
      readonly sentAt: number
      readonly at: number
    }
  | { readonly e: 'renew'; readonly holder: string; readonly epoch: number; readonly error: string; readonly at: number }
  | { readonly e: 'stale'; readonly holder: string; readonly epoch: number; readonly ok: boolean; readonly error?: string; readonly at: number }
  | { readonly e: 'stopped'; readonly holder: string; readonly at: number }

const args = JSON.parse(process.argv[2] ?? '{}') as WorkerArgs
type Unstamped<L> = L extends unknown ? Omit<L, 'holder' | 'at'> : never
const log = (line: Unstamped<LogLine>): void =>
  appendFileSync(args.log, `${JSON.stringify({ ...line, holder: args.holder, at: Date.now() })}\n`, { flag: 'a' })
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

const store = mysqlStore({ uri: args.uri, tablePrefix: args.tablePrefix, connectionLimit: 3 })
const ss = store.subscriptions
let taken: Lease | undefined
const logged: SubscriptionStore = {
  ...ss,
  acquire: async (name, holder, ttlMs) => {
    const r = await ss.acquire(name, holder, ttlMs)
    if (E.isRight(r) && O.isSome(r.right) && r.right.value.epoch > (taken?.epoch ?? 0)) {
      taken = r.right.value
      log({ e: 'take', epoch: taken.epoch })
    }
    return r
  },
  renew: async (lease, ttlMs) => {
    const r = await ss.renew(lease, ttlMs)
    if (E.isLeft(r)) log({ e: 'renew', epoch: lease.epoch, error: r.left._tag })
    return r
  },
  saveCheckpoint: async (lease, checkpoint) => {
    const sentAt = Date.now()
    const r = await ss.saveCheckpoint(lease, checkpoint)
    const position = checkpoint.positions['0'] ?? 0
    const epoch = lease.epoch
    log(E.isRight(r) ? { e: 'save', epoch, position, ok: true, sentAt } : { e: 'save', epoch, position, ok: false, error: r.left._tag, sentAt })
    return r
  },
}

log({ e: 'start', pid: process.pid })
const sub = subscribe({
  name: args.name,
  store: { ...store, subscriptions: logged },
  holder: args.holder,
  batchSize: args.batchSize,
  leaseTtlMs: args.leaseTtlMs,
  heartbeatMs: args.heartbeatMs,
  standbyPollMs: args.standbyPollMs,
  pollMs: args.pollMs,
  idleBackoff: { maxMs: args.pollMs * 4 },
  retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 50 },
  handler: async (batch, ctx) => {
    log({ e: 'batch', epoch: ctx.epoch, tokens: batch.map((c) => c.checkpointToken) })
    await sleep(args.handlerMs)
    return E.right(undefined)
  },
})
if (E.isLeft(sub)) {
  process.stderr.write(`subscribe refused: ${JSON.stringify(sub.left)}\n`)
  process.exit(2)
}
process.on('SIGCONT', () => {
  void (async () => {
    if (taken === undefined) return
    const r = await ss.saveCheckpoint(taken, { positions: { '0': 1 } })
    log(E.isRight(r) ? { e: 'stale', epoch: taken.epoch, ok: true } : { e: 'stale', epoch: taken.epoch, ok: false, error: r.left._tag })
  })()
})
process.on('SIGTERM', () => {
  void (async () => {
    await sub.right.stop()
    await store.close()
    log({ e: 'stopped' })
    process.exit(0)
  })()
})
