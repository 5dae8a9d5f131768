/**
 * One consumer process of the cross-process subscription tests. Usage:
 *   node --import tsx test/sqlite/subscriptionConsumer.ts <file> <name> <holder> <log file> <json settings>
 * Runs `subscribe` on the SQLite file under subscription `name` as `holder` and appends one line per event to the
 * log file (shared by every process of a test; each line is one `write` to a file opened with O_APPEND):
 *   take <holder> <epoch> <ms>                                     it took the lease (a new epoch)
 *   h <holder> <epoch> <batch> <index> <batch length> <token>      it handled a commit (before the next one)
 *   load <holder> <position>                                       it read the stored checkpoint (a tenure starts)
 *   saving <holder> <epoch> <position>                             a checkpoint write is about to be sent
 *   save <holder> <epoch> <position> <ms>                          a checkpoint write succeeded
 *   lost <holder> <epoch> <operation> <ms>                         a fenced call answered LeaseLost
 *   probe <holder> <epoch> <position> <Left tag | Right> <ms>      after SIGCONT: a raw write with its old lease
 *   ready <holder> / done <holder> / stopped <holder>
 * Settings: batchSize, leaseTtlMs, delayEvery/delayMs (a pause inside a batch, every that many commits, so that a
 * signal lands mid-batch), exitWhenCaughtUp (stop cleanly once caught up). SIGTERM stops it cleanly.
 */
import { openSync, writeSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { Lease, SubscriptionStore } from '../../src/eventstore/index.js'
import { sqliteStore } from '../../src/sqlite/index.js'
import { subscribe } from '../../src/subscriptions/index.js'

interface Settings {
  readonly batchSize: number
  readonly leaseTtlMs: number
  readonly delayEvery: number
  readonly delayMs: number
  readonly exitWhenCaughtUp?: boolean
}

const [filename, name, holder, logFile, settingsJson] = process.argv.slice(2) as [string, string, string, string, string]
const settings = JSON.parse(settingsJson) as Settings

const fd = openSync(logFile, 'a')
const log = (line: string) => void writeSync(fd, `${line}\n`)
const fail = (what: string): never => {
  process.stderr.write(`consumer ${holder}: ${what}\n`)
  process.exit(1)
}

const main = async () => {
  const store = sqliteStore({ filename, synchronous: 'NORMAL', busyRetries: 50 })
  const init = await store.initialize()
  if (E.isLeft(init)) return fail(init.left.message)

  // The port, wrapped so that the shared log shows what this process took, committed and was refused.
  const ss = store.subscriptions
  let lastEpoch = 0
  let current: Lease | undefined
  let lastHandled = 0
  const lost = (epoch: number, operation: string) => log(`lost ${holder} ${epoch} ${operation} ${Date.now()}`)
  const subscriptions: SubscriptionStore = {
    ...ss,
    acquire: async (n, h, ttl) => {
      const r = await ss.acquire(n, h, ttl)
      if (E.isRight(r) && O.isSome(r.right)) {
        current = r.right.value
        if (current.epoch > lastEpoch) log(`take ${holder} ${current.epoch} ${Date.now()}`)
        lastEpoch = current.epoch
      }
      return r
    },
    renew: async (lease, ttl) => {
      const r = await ss.renew(lease, ttl)
      if (E.isLeft(r) && r.left._tag === 'LeaseLost') lost(lease.epoch, 'renew')
      return r
    },
    checkpoint: async (n) => {
      const r = await ss.checkpoint(n)
      if (E.isRight(r)) log(`load ${holder} ${O.isSome(r.right) ? (r.right.value.positions['0'] ?? 0) : -1}`)
      return r
    },
    saveCheckpoint: async (lease, checkpoint) => {
      log(`saving ${holder} ${lease.epoch} ${checkpoint.positions['0'] ?? 0}`)
      const r = await ss.saveCheckpoint(lease, checkpoint)
      if (E.isRight(r)) log(`save ${holder} ${lease.epoch} ${checkpoint.positions['0'] ?? 0} ${Date.now()}`)
      else if (r.left._tag === 'LeaseLost') lost(lease.epoch, 'saveCheckpoint')
      return r
    },
  }

  // Resumed after SIGSTOP: try to write the checkpoint with the lease held before the pause, forwards and back.
  process.on('SIGCONT', () => {
    const lease = current
    if (lease === undefined) return
    void (async () => {
      for (const position of [lastHandled, 0]) {
        const r = await ss.saveCheckpoint(lease, { positions: { '0': position } })
        log(`probe ${holder} ${lease.epoch} ${position} ${E.isRight(r) ? 'Right' : r.left._tag} ${Date.now()}`)
      }
    })()
  })

  let batchNo = 0
  const sub = subscribe({
    name,
    holder,
    store: { ...store, subscriptions },
    batchSize: settings.batchSize,
    leaseTtlMs: settings.leaseTtlMs,
    heartbeatMs: Math.round(settings.leaseTtlMs / 3),
    standbyPollMs: 25,
    pollMs: 20,
    idleBackoff: { maxMs: 100 },
    retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 50 },
    handler: async (batch, ctx) => {
      batchNo += 1
      for (const [i, c] of batch.entries()) {
        log(`h ${holder} ${ctx.epoch} ${batchNo} ${i} ${batch.length} ${c.checkpointToken}`)
        lastHandled = c.checkpointToken
        if (settings.delayMs > 0 && i % settings.delayEvery === settings.delayEvery - 1) await sleep(settings.delayMs)
      }
      return E.right(undefined)
    },
  })
  if (E.isLeft(sub)) return fail(JSON.stringify(sub.left))
  const stopped = async (what: string) => {
    await sub.right.stop()
    log(`${what} ${holder}`)
    await store.close()
    process.exit(0)
  }
  process.on('SIGTERM', () => void stopped('stopped'))
  log(`ready ${holder}`)
  if (settings.exitWhenCaughtUp === true) {
    const caught = await sub.right.caughtUp()
    if (E.isLeft(caught)) return fail(JSON.stringify(caught.left))
    await stopped('done')
  }
}

void main()
