/**
 * A consumer process of the subscription process tests (`node --import tsx test/postgres/subscriptionWorker.ts
 * <json>`): runs `subscribe` on the PostgreSQL store with a handler that records every commit it handles (its
 * token, the holder and the batch it came in) in the test's `handled` table, half the batch, a pause, then the
 * rest, so that a SIGKILL or SIGSTOP can land mid-batch. It prints what the parent watches for:
 *
 *   STARTED                                          loaded, about to subscribe
 *   HANDLING <batch> <first token> <last token>     a batch was handed to the handler
 *   LEASE <operation> <epoch> <ok|LeaseLost|error>   every lease take, renewal and checkpoint write, with its outcome
 *   CAUGHT-UP <position>                             (mode `drain`) caught up; the process then stops and exits 0
 *
 * SIGTERM stops the subscription (it hands over) and exits 0.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import pg from 'pg'
import type { SubscriptionStore } from '../../src/eventstore/index.js'
import { postgresStore } from '../../src/postgres/index.js'
import { subscribe } from '../../src/subscriptions/index.js'

export interface WorkerArgs {
  readonly url: string
  readonly schema: string
  readonly name: string
  readonly holder: string
  readonly batchSize: number
  readonly leaseTtlMs: number
  /** The pause in the middle of every batch. */
  readonly handlerDelayMs: number
  readonly mode: 'run' | 'drain'
}

const args = JSON.parse(process.argv[2] ?? '{}') as WorkerArgs
const say = (line: string) => process.stdout.write(`${line}\n`)
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

// The application name lets the parent wait until the server has noticed that a killed process is gone.
const withName = (url: string): string => {
  const u = new URL(url)
  u.searchParams.set('application_name', args.holder)
  return u.toString()
}
const store = postgresStore({ connectionString: withName(args.url), schema: args.schema, poolSize: 3, readWaitMs: 2_000 })
const log = new pg.Pool({ connectionString: withName(args.url), max: 1 })
log.on('error', () => undefined)

const outcome = (r: E.Either<{ readonly _tag: string }, unknown>): string => (E.isRight(r) ? 'ok' : r.left._tag === 'LeaseLost' ? 'LeaseLost' : 'error')
const ss = store.subscriptions
const watched: SubscriptionStore = {
  ...ss,
  acquire: async (name, holder, ttlMs) => {
    const r = await ss.acquire(name, holder, ttlMs)
    if (E.isRight(r) && O.isSome(r.right)) say(`LEASE acquire ${r.right.value.epoch} ok`)
    return r
  },
  renew: async (lease, ttlMs) => {
    const r = await ss.renew(lease, ttlMs)
    say(`LEASE renew ${lease.epoch} ${outcome(r)}`)
    return r
  },
  saveCheckpoint: async (lease, checkpoint) => {
    const r = await ss.saveCheckpoint(lease, checkpoint)
    say(`LEASE saveCheckpoint ${lease.epoch} ${outcome(r)} ${checkpoint.positions['0'] ?? 0}`)
    return r
  },
}

let batchNo = 0
const record = async (tokens: readonly number[], batch: number, first: number): Promise<void> => {
  if (tokens.length === 0) return
  await log.query(`INSERT INTO "${args.schema}".handled (holder, batch, batch_first, token) SELECT $1, $2, $3, unnest($4::bigint[])`, [
    args.holder,
    batch,
    first,
    tokens,
  ])
}

say('STARTED')
const sub = subscribe({
  name: args.name,
  store: { ...store, subscriptions: watched },
  holder: args.holder,
  batchSize: args.batchSize,
  leaseTtlMs: args.leaseTtlMs,
  heartbeatMs: Math.floor(args.leaseTtlMs / 3),
  standbyPollMs: 25,
  pollMs: 50,
  idleBackoff: { maxMs: 200 },
  retry: { attempts: 5, initialDelayMs: 10, maxDelayMs: 200 },
  handler: async (batch) => {
    const n = ++batchNo
    const tokens = batch.map((c) => c.checkpointToken)
    const first = tokens[0] ?? 0
    say(`HANDLING ${n} ${first} ${tokens[tokens.length - 1] ?? 0}`)
    const half = Math.ceil(tokens.length / 2)
    await record(tokens.slice(0, half), n, first)
    await sleep(args.handlerDelayMs)
    await record(tokens.slice(half), n, first)
    return E.right(undefined)
  },
})
if (E.isLeft(sub)) {
  process.stderr.write(`subscribe refused its options: ${sub.left.message}\n`)
  process.exit(2)
}

const finish = async (code: number) => {
  await sub.right.stop()
  await store.close()
  await log.end()
  process.exit(code)
}
process.on('SIGTERM', () => void finish(0))

if (args.mode === 'drain') {
  const caught = await sub.right.caughtUp()
  if (E.isLeft(caught)) {
    process.stderr.write(`caughtUp failed: ${JSON.stringify(caught.left)}\n`)
    await finish(1)
  } else {
    say(`CAUGHT-UP ${caught.right.positions['0'] ?? 0}`)
    await finish(0)
  }
}
