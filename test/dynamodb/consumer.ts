/**
 * One consumer process of the cross-process subscription tests (processes.test.ts). Usage:
 *   node --import tsx test/dynamodb/consumer.ts <endpoint> <table prefix> <name> <holder> <log file> <batch size> <ttl ms> <handler ms per commit>
 * Runs `subscribe` on the DynamoDB store at `endpoint` and appends to the shared, append-only log file, one line per
 * fact, each written after the fact happened:
 *   h <holder> <epoch> <batch no> <batch length> <token>    a commit handled (written by the handler, one by one)
 *   t <holder> <epoch> <epoch ms>                           this process took the lease (a new epoch)
 *   s <holder> <epoch> <from> <to> <epoch ms>               a checkpoint save that succeeded: (from, to] committed
 *   x <holder> <epoch> <to> <epoch ms>                      a checkpoint save refused by the fence (LeaseLost)
 *   l <holder> <epoch> <epoch ms>                           a renewal refused: the lease changed hands
 *   p <holder> <epoch> <to> <ok|refused> <epoch ms>         on SIGCONT: a save tried at once with the last lease held
 * The SIGCONT probe is the paused holder writing its checkpoint the moment it resumes, whatever its runtime would
 * do (which may first notice, by its heartbeat, that it lost the lease). It prints `ready` once the subscription runs. SIGTERM stops the subscription (it releases the lease) and exits 0; the tests also SIGKILL, SIGSTOP and SIGCONT it.
 */
import { appendFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { dynamoDbStore } from '../../src/dynamodb/index.js'
import type { Lease, SubscriptionStore } from '../../src/eventstore/index.js'
import { subscribe, type SubscribableStore } from '../../src/subscriptions/index.js'

const args = process.argv.slice(2)
const fail = (what: string): never => {
  process.stderr.write(`consumer ${args[3] ?? '?'}: ${what}\n`)
  process.exit(1)
}
if (args.length !== 8) fail(`expected 8 arguments, got ${args.length}`)
const [endpoint, prefix, name, holder, log, batchArg, ttlArg, delayArg] = args as [string, string, string, string, string, string, string, string]
const batchSize = Number(batchArg)
const ttl = Number(ttlArg)
const delay = Number(delayArg)

const write = (line: string) => appendFileSync(log, `${line}\n`)

const store = dynamoDbStore({
  clientConfig: { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
  tables: { prefix },
  pageSize: 200,
})

// The store's subscriptions, with every take and every checkpoint save written to the shared log.
const ss = store.subscriptions
let epoch = 0
let position = -1
let lastLease: Lease | undefined
let handledUpTo = 0
const logged: SubscriptionStore = {
  ...ss,
  acquire: async (n, h, ttlMs) => {
    const r = await ss.acquire(n, h, ttlMs)
    if (E.isRight(r) && O.isSome(r.right)) {
      lastLease = r.right.value
      if (r.right.value.epoch !== epoch) {
        epoch = r.right.value.epoch
        position = -1
        write(`t ${holder} ${epoch} ${Date.now()}`)
      }
    }
    return r
  },
  renew: async (lease, ttlMs) => {
    const r = await ss.renew(lease, ttlMs)
    if (E.isRight(r)) lastLease = r.right
    else if (r.left._tag === 'LeaseLost') write(`l ${holder} ${lease.epoch} ${Date.now()}`)
    return r
  },
  checkpoint: async (n) => {
    const r = await ss.checkpoint(n)
    if (E.isRight(r)) position = O.isSome(r.right) ? (r.right.value.positions['0'] ?? 0) : -1
    return r
  },
  saveCheckpoint: async (lease, checkpoint) => {
    const r = await ss.saveCheckpoint(lease, checkpoint)
    const to = checkpoint.positions['0'] ?? 0
    if (E.isRight(r)) {
      write(`s ${holder} ${lease.epoch} ${position} ${to} ${Date.now()}`)
      position = to
    } else if (r.left._tag === 'LeaseLost') write(`x ${holder} ${lease.epoch} ${to} ${Date.now()}`)
    return r
  },
}
const observed: SubscribableStore = Object.assign(Object.create(store) as SubscribableStore, { subscriptions: logged })

let batches = 0
const sub = E.getOrElseW((e: { readonly message?: string }): never => fail(`bad options: ${JSON.stringify(e)}`))(
  subscribe({
    name,
    store: observed,
    holder,
    batchSize,
    leaseTtlMs: ttl,
    heartbeatMs: Math.floor(ttl / 4),
    standbyPollMs: 20,
    pollMs: 20,
    idleBackoff: { maxMs: 100 },
    retry: { attempts: 3, initialDelayMs: 10, maxDelayMs: 100 },
    handler: async (batch, context) => {
      batches += 1
      for (const c of batch) {
        write(`h ${holder} ${context.epoch} ${batches} ${batch.length} ${c.checkpointToken}`)
        handledUpTo = Math.max(handledUpTo, c.checkpointToken)
        if (delay > 0) await sleep(delay)
      }
      return E.right(undefined)
    },
  }),
)

process.on('SIGCONT', () => {
  const lease = lastLease
  if (lease === undefined) return
  void ss.saveCheckpoint(lease, { positions: { '0': handledUpTo } }).then((r) => {
    write(`p ${holder} ${lease.epoch} ${handledUpTo} ${E.isRight(r) ? 'ok' : r.left._tag === 'LeaseLost' ? 'refused' : 'error'} ${Date.now()}`)
  })
})

process.stdout.write('ready\n')

process.on('SIGTERM', () => {
  void sub
    .stop()
    .then(() => store.close())
    .then(() => process.exit(0))
})
