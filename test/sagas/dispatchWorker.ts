/**
 * One dispatcher process of the kill-loop test (test/sagas/killLoop.test.ts). Usage:
 *   node --import tsx test/sagas/dispatchWorker.ts <file> <name> <holder> <json settings>
 * Runs `dispatchCommands` on the SQLite file; each command is handled through a decider repository under
 * `commitIdFrom(key)`. Prints one line per step, so that the parent can kill it mid-delivery:
 *   b <key>              about to handle a command
 *   d <key> <outcome>    handled it (Appended, AlreadyCommitted, ...)
 *   caught               caught up (only with exitWhenCaughtUp, which then stops cleanly and exits 0)
 * Settings: batchSize, leaseTtlMs, pauseMs (a pause after each command is handled, before the next, so that a
 * kill often lands between an effect and the checkpoint that covers it), exitWhenCaughtUp.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import * as E from 'fp-ts/lib/Either.js'
import { sqliteStore } from '../../src/sqlite/index.js'
import { dispatchCommands } from '../../src/sagas/index.js'
import { handleWork, Work } from './support.js'

interface Settings {
  readonly batchSize: number
  readonly leaseTtlMs: number
  readonly pauseMs: number
  readonly exitWhenCaughtUp?: boolean
}

const [filename, name, holder, settingsJson] = process.argv.slice(2) as [string, string, string, string]
const settings = JSON.parse(settingsJson) as Settings
const say = (line: string) => void process.stdout.write(`${line}\n`)
const fail = (what: string): never => {
  process.stderr.write(`dispatcher ${holder}: ${what}\n`)
  process.exit(1)
}

const main = async () => {
  const store = sqliteStore({ filename, synchronous: 'NORMAL', busyRetries: 50 })
  const init = await store.initialize()
  if (E.isLeft(init)) return fail(init.left.message)
  const handle = handleWork(store)
  const dispatcher = dispatchCommands({
    name,
    holder,
    store,
    commands: Work,
    batchSize: settings.batchSize,
    leaseTtlMs: settings.leaseTtlMs,
    heartbeatMs: Math.floor(settings.leaseTtlMs / 3),
    standbyPollMs: 25,
    pollMs: 25,
    onFailure: 'stop',
    handler: async (c) => {
      say(`b ${c.key}`)
      const r = await handle(c)
      say(`d ${c.key} ${E.isRight(r) ? r.right._tag : r.left._tag}`)
      if (settings.pauseMs > 0) await sleep(settings.pauseMs)
      return r
    },
  })
  if (E.isLeft(dispatcher)) return fail(dispatcher.left.message)
  if (settings.exitWhenCaughtUp !== true) return
  const caught = await dispatcher.right.caughtUp()
  if (E.isLeft(caught)) return fail(JSON.stringify(caught.left))
  say('caught')
  await dispatcher.right.stop()
  await store.close()
}

await main()
