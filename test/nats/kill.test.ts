import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { sqliteStore } from '../../src/sqlite/index.js'
import { checkAll, expectedMessages, readWorkerLog, right, sleep, soak, startWorker, untilLine, writeLog } from './fixtures.js'
import { createStream, natsAvailable, natsServers, readStream, streamName } from './support.js'

/**
 * Issue 20, "Tests and figures": the JetStream forwarder, in a child process over a SQLite file store (its lease and
 * checkpoint live in the same file, so they survive the process), is SIGKILLed in a loop while it forwards 10,000
 * events (5 kills; 50 under AETT_SOAK=1). Every second restart waits longer than the stream's duplicate window (1 s
 * here), so JetStream's own de-duplication cannot help: the forwarder must find what it already sent by reading the
 * stream back. Afterwards the stream holds every event exactly once, each stream's events in revision order.
 */
const up = await natsAvailable()
const worker = fileURLToPath(new URL('./forwarderWorker.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'aett-nats-kill-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const figure = (what: string, value: number | string) => console.log(`figure: nats forwarder (SIGKILL loop): ${what} = ${value}`)

describe.skipIf(!up)('nats forwarder killed with SIGKILL in a loop', () => {
  it(
    'leaves every one of 10,000 events in the stream exactly once, in per-stream order, with restarts longer than the duplicate window',
    async () => {
      const kills = soak ? 50 : 5
      const windowMs = 1_000
      const file = join(dir, 'store.db')
      const logFile = join(dir, 'forwarder.log')
      const store = sqliteStore({ filename: file, synchronous: 'NORMAL' })
      right(await store.initialize())
      await writeLog(store, { commits: 5_000, eventsPerCommit: 2, streams: 50 })
      const expected = await expectedMessages(store)
      await store.close()
      expect(expected).toHaveLength(10_000)

      const stream = await createStream(streamName('kill'), { duplicateWindowMs: windowMs })
      try {
        const settings = { name: 'kill-forwarder', servers: natsServers, stream: stream.name, batchSize: 20, delayMs: soak ? 150 : 60 }
        const t0 = Date.now()
        let longRestarts = 0
        for (let k = 1; k <= kills; k++) {
          const w = startWorker(worker, ['nats', file, logFile, JSON.stringify(settings)])
          await untilLine(logFile, (l) => l === `ready ${w.child.pid}`)
          await sleep(soak ? 300 + Math.floor(Math.random() * 600) : 150 + Math.floor(Math.random() * 400))
          w.child.kill('SIGKILL')
          await w.exited
          if (k % 2 === 0 && k < kills) {
            await sleep(windowMs + 300)
            longRestarts += 1
          }
        }
        const last = startWorker(worker, ['nats', file, logFile, JSON.stringify({ ...settings, delayMs: 0, exitWhenCaughtUp: true })])
        const code = await last.exited
        expect(code, last.stderr()).toBe(0)
        const elapsed = Date.now() - t0

        const log = readWorkerLog(logFile)
        const killed = log.runs.slice(0, kills)
        expect(killed).toHaveLength(kills)
        // Every kill landed while there was still work: no killed run had reached the end.
        for (const run of killed) expect(run.saves.at(-1) ?? 0).toBeLessThan(5_000)
        expect(log.runs.at(-1)?.done).toBe(true)

        const { received } = await readStream(stream)
        const check = checkAll(expected, received)
        expect(check.missing).toEqual([])
        expect(check.unknown).toEqual([])
        expect(check.orderBroken).toEqual([])
        expect(check.repeats).toEqual([])
        expect(received).toHaveLength(10_000)
        const info = await stream.jsm.streams.info(stream.name)
        expect(info.state.messages).toBe(10_000)

        const recovered = log.runs.reduce((n, r) => n + (r.recovered ?? 0), 0)
        const duplicates = log.runs.reduce((n, r) => n + (r.duplicates ?? 0), 0)
        figure('kills', kills)
        figure('restarts after more than the duplicate window', `${longRestarts} (window ${windowMs} ms)`)
        const found = log.runs.filter((r) => (r.recovered ?? 0) > 0).length
        figure('messages found already in the stream at a restart (not sent again)', `${recovered} (by ${found} runs)`)
        figure('killed runs that had checkpointed a batch', killed.filter((r) => r.saves.length > 1 || (r.saves[0] ?? 0) > 0).length)
        figure('messages sent again within the window (JetStream duplicates)', duplicates)
        figure('events in the stream', `${info.state.messages} (expected 10000, each once)`)
        figure('whole loop', `${(elapsed / 1000).toFixed(1)} s`)
      } finally {
        await stream.dispose()
      }
    },
    soak ? 900_000 : 120_000,
  )
})
