/**
 * One forwarder process of the kill-loop tests (test/nats/kill.test.ts, test/rabbitmq/kill.test.ts). Usage:
 *   node --import tsx test/nats/forwarderWorker.ts <nats|rabbitmq> <sqlite file> <log file> <json settings>
 * Runs a forwarder over the SQLite file store (its subscription state lives in the same file, so it survives the
 * process) and appends to the log file (one `write` per line, O_APPEND):
 *   ready <pid>                         the forwarder started
 *   save <pid> <position> <recovered> <dups>
 *                                       a checkpoint write succeeded (after a `delayMs` pause, so that a SIGKILL often
 *                                       lands between a batch's acknowledgements and its checkpoint), with the counts so
 *                                       far: messages found already sent (not sent again), and duplicates acked
 *   recovered <pid> <n>                 the forwarder found n messages already sent (so far), and did not send them again
 *   done <pid>                          caught up and stopped (with `exitWhenCaughtUp`)
 */
import { openSync, writeSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import * as E from 'fp-ts/lib/Either.js'
import type { SubscriptionStore } from '../../src/eventstore/index.js'
import type { Forwarder } from '../../src/brokers/forward.js'
import { natsForwarder } from '../../src/nats/index.js'
import { rabbitMqForwarder } from '../../src/rabbitmq/index.js'
import { sqliteStore } from '../../src/sqlite/index.js'

interface Settings {
  readonly name: string
  /** NATS: servers and stream; RabbitMQ: URL and exchange. */
  readonly servers?: string
  readonly stream?: string
  readonly url?: string
  readonly exchange?: string
  readonly batchSize: number
  readonly delayMs: number
  readonly exitWhenCaughtUp?: boolean
}

const [broker, filename, logFile, settingsJson] = process.argv.slice(2) as [string, string, string, string]
const settings = JSON.parse(settingsJson) as Settings
const fd = openSync(logFile, 'a')
const log = (line: string) => void writeSync(fd, `${line}\n`)
const fail = (what: string): never => {
  process.stderr.write(`forwarder ${process.pid}: ${what}\n`)
  process.exit(1)
}

const main = async () => {
  const store = sqliteStore({ filename, synchronous: 'NORMAL', busyRetries: 50 })
  const init = await store.initialize()
  if (E.isLeft(init)) return fail(init.left.message)
  let forwarder: Forwarder | undefined
  const ss = store.subscriptions
  const subscriptions: SubscriptionStore = {
    ...ss,
    saveCheckpoint: async (lease, checkpoint) => {
      if (settings.delayMs > 0) await sleep(settings.delayMs)
      const r = await ss.saveCheckpoint(lease, checkpoint)
      if (E.isRight(r)) {
        const counts = forwarder?.counts()
        log(`save ${process.pid} ${checkpoint.positions['0'] ?? 0} ${counts?.recovered ?? 0} ${counts?.duplicates ?? 0}`)
      }
      return r
    },
  }
  const common = {
    name: settings.name,
    store: { ...store, subscriptions },
    batchSize: settings.batchSize,
    pollMs: 20,
    idleBackoff: { maxMs: 100 },
    leaseTtlMs: 1_000,
    standbyPollMs: 20,
    // One holder name for every run: a restarted process renews the dead one's live lease at once instead of waiting
    // for it to expire (no two runs are ever alive together here).
    holder: 'forwarder-worker',
    brokerRetry: { initialDelayMs: 50, maxDelayMs: 500 },
  }
  const f =
    broker === 'nats'
      ? natsForwarder({ ...common, connection: { servers: settings.servers ?? '' }, stream: settings.stream ?? '', subject: (m) => `${settings.stream}.${m.topic}` })
      : rabbitMqForwarder({ ...common, connection: settings.url ?? '', exchange: settings.exchange ?? '', routingKey: (m) => `events.${m.topic}` })
  if (E.isLeft(f)) return fail(JSON.stringify(f.left))
  forwarder = f.right
  log(`ready ${process.pid}`)
  // What the forwarder found already sent, as soon as it found it (it may be killed before its next checkpoint).
  let recovered = 0
  setInterval(() => {
    const n = f.right.counts().recovered
    if (n !== recovered) log(`recovered ${process.pid} ${(recovered = n)}`)
  }, 5).unref()
  if (settings.exitWhenCaughtUp === true) {
    const caught = await f.right.caughtUp()
    if (E.isLeft(caught)) return fail(JSON.stringify(caught.left))
    await f.right.stop()
    log(`done ${process.pid}`)
    await store.close()
    process.exit(0)
  }
}

void main()
