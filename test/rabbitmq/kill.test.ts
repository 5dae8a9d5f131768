import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { sqliteStore } from '../../src/sqlite/index.js'
import { checkAll, expectedMessages, readWorkerLog, right, sleep, soak, startWorker, untilLine, writeLog, type WorkerLog } from '../nats/fixtures.js'
import { amqpUrl, drainQueue, rabbitAvailable, topology } from './support.js'

/**
 * Issue 20, "Tests and figures": the RabbitMQ forwarder, in a child process over a SQLite file store, is SIGKILLed in
 * a loop while it forwards 10,000 events (5 kills; 50 under AETT_SOAK=1). Afterwards the queue holds every event at
 * least once, and every repeat belongs to a batch that was not confirmed and checkpointed when its process died: the
 * commits after the dead run's last checkpoint, up to the next run's first checkpoint.
 */
const up = await rabbitAvailable()
const worker = fileURLToPath(new URL('../nats/forwarderWorker.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'aett-rabbitmq-kill-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const figure = (what: string, value: number | string) => console.log(`figure: rabbitmq forwarder (SIGKILL loop): ${what} = ${value}`)

/** The token ranges a repeat may come from: after each killed run's last checkpoint, up to the next run's first. */
const unconfirmedRanges = (log: WorkerLog): { from: number; to: number }[] => {
  const ranges: { from: number; to: number }[] = []
  for (let i = 0; i + 1 < log.runs.length; i++) {
    const dead = log.runs[i]
    const next = log.runs[i + 1]
    if (dead === undefined || next === undefined) continue
    const from = dead.saves.at(-1) ?? 0
    // The next run's first save stores the position it starts from; its second follows the batch sent again.
    const to = next.saves.find((p) => p > from) ?? Number.MAX_SAFE_INTEGER
    ranges.push({ from, to })
  }
  return ranges
}

describe.skipIf(!up)('rabbitmq forwarder killed with SIGKILL in a loop', () => {
  it(
    'leaves every one of 10,000 events in the queue at least once, repeating only batches that were not confirmed',
    async () => {
      const kills = soak ? 50 : 5
      const file = join(dir, 'store.db')
      const logFile = join(dir, 'forwarder.log')
      const store = sqliteStore({ filename: file, synchronous: 'NORMAL' })
      right(await store.initialize())
      await writeLog(store, { commits: 5_000, eventsPerCommit: 2, streams: 50 })
      const expected = await expectedMessages(store)
      await store.close()
      expect(expected).toHaveLength(10_000)

      const t = await topology('kill')
      try {
        const settings = { name: 'kill-forwarder', url: amqpUrl, exchange: t.exchange, batchSize: 20, delayMs: soak ? 150 : 60 }
        const t0 = Date.now()
        for (let k = 1; k <= kills; k++) {
          const w = startWorker(worker, ['rabbitmq', file, logFile, JSON.stringify(settings)])
          await untilLine(logFile, (l) => l === `ready ${w.child.pid}`)
          await sleep(soak ? 300 + Math.floor(Math.random() * 600) : 150 + Math.floor(Math.random() * 400))
          w.child.kill('SIGKILL')
          await w.exited
        }
        const last = startWorker(worker, ['rabbitmq', file, logFile, JSON.stringify({ ...settings, delayMs: 0, exitWhenCaughtUp: true })])
        const code = await last.exited
        expect(code, last.stderr()).toBe(0)
        const elapsed = Date.now() - t0

        const log = readWorkerLog(logFile)
        expect(log.runs).toHaveLength(kills + 1)
        for (const run of log.runs.slice(0, kills)) expect(run.saves.at(-1) ?? 0).toBeLessThan(5_000)
        expect(log.runs.at(-1)?.done).toBe(true)

        const { received } = await drainQueue(t)
        const check = checkAll(expected, received)
        expect(check.missing).toEqual([])
        expect(check.unknown).toEqual([])
        expect(check.orderBroken).toEqual([])
        const ranges = unconfirmedRanges(log)
        const stray = check.repeats.filter((r) => !ranges.some((g) => r.token > g.from && r.token <= g.to))
        expect(stray).toEqual([])
        // At most one batch (20 commits, 40 messages) per kill is sent again.
        expect(check.repeats.length).toBeLessThanOrEqual(kills * 40)

        figure('kills', kills)
        figure('messages in the queue', `${received.length} for 10000 events`)
        figure('repeats (all from batches not confirmed when their process died)', check.repeats.length)
        figure('whole loop', `${(elapsed / 1000).toFixed(1)} s`)
      } finally {
        await t.dispose()
      }
    },
    soak ? 900_000 : 120_000,
  )
})
