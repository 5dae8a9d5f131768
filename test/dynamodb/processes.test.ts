import { BatchWriteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as O from 'fp-ts/lib/Option.js'
import { afterAll, describe, expect, it } from 'vitest'
import type { DynamoDbStore } from '../../src/dynamodb/index.js'
import { commitItem, N, S } from '../../src/dynamodb/rows.js'
import { A, GLOBAL_COUNTER, tenantCounter } from '../../src/dynamodb/schema.js'
import type { Commit } from '../../src/eventstore/index.js'
import { collect, message, next, right } from 'aett/testing/contract'
import { configOf, disposeStore, dynaliteForFile, freshStore } from './server.js'

/**
 * Subscriptions across processes on DynamoDB (issue 13, "Tests and figures"): consumer processes
 * (consumer.ts) run `subscribe` against the dynalite this file starts on a loopback port, and are SIGKILLed,
 * SIGSTOPped and resumed, while this process keeps appending. Every fact lands in one append-only log file.
 * `AETT_SOAK=1` runs the kill loop 50 times instead of 5.
 */

const db = dynaliteForFile()
const root = fileURLToPath(new URL('../..', import.meta.url))
const consumerScript = fileURLToPath(new URL('./consumer.ts', import.meta.url))
const soak = process.env['AETT_SOAK'] === '1'
const dir = mkdtempSync(join(tmpdir(), 'aett-dynamodb-processes-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
const figure = (what: string, value: number | string, unit = '') => console.log(`figure: dynamodb (dynalite, processes): ${what} = ${value}${unit ? ` ${unit}` : ''}`)

const until = async (what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> => {
  const end = Date.now() + timeoutMs
  for (;;) {
    if (await condition()) return
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`)
    await sleep(5)
  }
}

// -------------------------------------------------------------------------------------
// the log, the store, the processes
// -------------------------------------------------------------------------------------

interface Handled {
  readonly holder: string
  readonly epoch: number
  readonly batch: number
  readonly length: number
  readonly token: number
}
interface Save {
  readonly holder: string
  readonly epoch: number
  readonly from: number
  readonly to: number
  readonly at: number
}
interface Take {
  readonly holder: string
  readonly epoch: number
  readonly at: number
}
interface Probe {
  readonly holder: string
  readonly epoch: number
  readonly to: number
  readonly outcome: string
  readonly at: number
}
interface Log {
  readonly handled: Handled[]
  readonly saves: Save[]
  readonly refused: Save[]
  readonly takes: Take[]
  /** Renewals refused: the holder learnt that its lease changed hands. */
  readonly lost: Take[]
  readonly probes: Probe[]
}

const readLog = (file: string): Log => {
  const log: Log = { handled: [], saves: [], refused: [], takes: [], lost: [], probes: [] }
  let text = ''
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return log
  }
  for (const line of text.split('\n')) {
    const [kind, holder = '', ...rest] = line.split(' ')
    const n = rest.map(Number)
    if (kind === 'h') log.handled.push({ holder, epoch: n[0] ?? 0, batch: n[1] ?? 0, length: n[2] ?? 0, token: n[3] ?? 0 })
    else if (kind === 's') log.saves.push({ holder, epoch: n[0] ?? 0, from: n[1] ?? 0, to: n[2] ?? 0, at: n[3] ?? 0 })
    else if (kind === 'x') log.refused.push({ holder, epoch: n[0] ?? 0, from: -1, to: n[1] ?? 0, at: n[2] ?? 0 })
    else if (kind === 't') log.takes.push({ holder, epoch: n[0] ?? 0, at: n[1] ?? 0 })
    else if (kind === 'l') log.lost.push({ holder, epoch: n[0] ?? 0, at: n[1] ?? 0 })
    else if (kind === 'p') log.probes.push({ holder, epoch: n[0] ?? 0, to: n[1] ?? 0, outcome: rest[2] ?? '', at: n[3] ?? 0 })
  }
  return log
}

/** The table prefix of a store made by `freshStore`, for the consumer processes. */
const prefixOf = (store: DynamoDbStore): string => configOf(store).commitsTable.slice(0, -'commits'.length)

/**
 * Loads `n` commits of one tenant over `streams` streams straight into the tables (25 items a request), as the
 * append path would have left them (tokens 1..n, the tenant chain, the counters): a backlog in seconds rather than
 * minutes on the emulator. Everything appended afterwards goes through `commit`.
 */
const seedLog = async (store: DynamoDbStore, tenantId: string, n: number, streams: number): Promise<void> => {
  const config = configOf(store)
  const allocatedAt = Date.now()
  const items = Array.from({ length: n }, (_, i) => {
    const token = i + 1
    const sequence = Math.floor(i / streams) + 1
    const c: Commit = {
      ...next({ tenantId, streamId: `seed-${i % streams}`, commitSequence: sequence - 1, streamRevision: sequence - 1 }, { tenantId, streamId: `seed-${i % streams}` }, { events: [message(token)] }),
      checkpointToken: token,
    }
    return commitItem(c, { token, previous: i, tenantId, allocatedAt })
  })
  for (let i = 0; i < items.length; i += 25) {
    let pending = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }))
    while (pending.length > 0) {
      const out = await db().client.send(new BatchWriteItemCommand({ RequestItems: { [config.commitsTable]: pending } }))
      pending = (out.UnprocessedItems?.[config.commitsTable] ?? []) as typeof pending
    }
  }
  for (const pk of [GLOBAL_COUNTER, tenantCounter(tenantId)]) {
    await db().client.send(new PutItemCommand({ TableName: config.commitsTable, Item: { [A.pk]: S(pk), [A.sk]: N(0), [A.counter]: N(n) } }))
  }
}

/** Writers in this process, each appending to a stream of its own until stopped. */
const writers = (store: DynamoDbStore, tenantId: string, count: number, pauseMs: number) => {
  let stopping = false
  const written: Commit[] = []
  const running = Array.from({ length: count }, async (_, w) => {
    let head: Commit | undefined
    while (!stopping) {
      head = right(await store.commit(next(head, { tenantId, streamId: `writer-${w}` })))
      written.push(head)
      if (pauseMs > 0) await sleep(pauseMs)
    }
  })
  return {
    written,
    stop: async () => {
      stopping = true
      await Promise.all(running)
      return written
    },
  }
}

interface Consumer {
  readonly child: ChildProcess
  readonly ready: Promise<void>
  readonly exited: Promise<number | null>
  readonly stderr: () => string
}

const consumer = (store: DynamoDbStore, name: string, holder: string, log: string, batchSize: number, ttlMs: number, handlerMs: number): Consumer => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', consumerScript, db().endpoint, prefixOf(store), name, holder, log, String(batchSize), String(ttlMs), String(handlerMs)],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve()
    })
    child.on('exit', (code) => reject(new Error(`consumer ${holder} exited (${code}) before it was ready: ${stderr}`)))
  })
  ready.catch(() => {})
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, ready, exited, stderr: () => stderr }
}

const positionOf = async (store: DynamoDbStore, name: string): Promise<number> => {
  const c = right(await store.subscriptions.checkpoint(name))
  return O.isSome(c) ? (c.value.positions['0'] ?? 0) : 0
}

const allTokens = async (store: DynamoDbStore): Promise<number[]> => (await collect(store.getFrom(0))).map((c) => c.checkpointToken)

// -------------------------------------------------------------------------------------
// the tests
// -------------------------------------------------------------------------------------

describe('dynamodb: subscriptions across processes (SIGKILL, SIGSTOP), while this process appends', () => {
  it(
    'a consumer SIGKILLed mid-batch and restarted, again and again, loses nothing, and repeats only the batch after its checkpoint',
    { timeout: soak ? 900_000 : 120_000 },
    async () => {
      const kills = soak ? 50 : 5
      const seeded = 2_000
      const batchSize = 100
      const ttlMs = 800
      const store = await freshStore(db(), { pageSize: 200 })
      const tenantId = 'kill-loop'
      const name = 'kill-loop'
      const log = join(dir, 'kill-loop.log')
      writeFileSync(log, '')
      let appending: ReturnType<typeof writers> | undefined
      try {
        await seedLog(store, tenantId, seeded, 20)
        appending = writers(store, tenantId, 2, 20)
        const began = Date.now()
        const incarnations: { readonly holder: string; readonly checkpointAfter: number }[] = []
        for (let i = 0; i < kills; i++) {
          const holder = `k${i}`
          const c = consumer(store, name, holder, log, batchSize, ttlMs, 1)
          await c.ready
          await until(`${holder} handled a commit`, () => readLog(log).handled.some((h) => h.holder === holder), 30_000)
          // somewhere in its next batches: in a handler, reading, or saving
          await sleep(20 + Math.random() * 400)
          c.child.kill('SIGKILL')
          await c.exited
          // a save already received by dynalite lands now or never
          await sleep(100)
          incarnations.push({ holder, checkpointAfter: await positionOf(store, name) })
        }
        const written = await appending.stop()
        const final = consumer(store, name, 'final', log, batchSize, ttlMs, 1)
        const all = await allTokens(store)
        const head = all[all.length - 1] as number
        await until('the last consumer reached the head', async () => (await positionOf(store, name)) === head, 120_000)
        final.child.kill('SIGTERM')
        expect(await final.exited, final.stderr()).toBe(0)
        figure(`kill loop: ${kills} SIGKILLs, ${seeded} seeded commits + ${written.length} appended meanwhile, in`, Date.now() - began, 'ms')

        // the analysis of the shared log
        const { handled, saves } = readLog(log)
        const order = [...incarnations.map((k) => k.holder), 'final']
        const seen = new Set<number>()
        let checkpoint = 0
        let inHandler = 0
        let unacknowledged = 0
        let repeated = 0
        for (const [i, holder] of order.entries()) {
          const mine = handled.filter((h) => h.holder === holder)
          const tokens = mine.map((h) => h.token)
          expect(tokens.length, `${holder} handled something`).toBeGreaterThan(0)
          // it went on from the stored checkpoint: the first commit after it, in token order, once each
          expect(tokens[0], `${holder} starts after checkpoint ${checkpoint}`).toBe(all.find((t) => t > checkpoint))
          expect(tokens.every((t, k) => k === 0 || t > (tokens[k - 1] as number)), `${holder} in token order`).toBe(true)
          // the repeats are exactly what was handled but not acknowledged: the commits right after the checkpoint,
          // never more than one batch of them
          const before = [...seen].filter((t) => t > checkpoint).sort((a, b) => a - b)
          expect(before.length, `${holder}: unacknowledged before it`).toBeLessThanOrEqual(batchSize)
          expect(before).toEqual(all.filter((t) => t > checkpoint).slice(0, before.length))
          const repeats = tokens.filter((t) => seen.has(t))
          expect(repeats.every((t) => t > checkpoint && before.includes(t)), `${holder} repeats only the unacknowledged batch`).toBe(true)
          repeated += repeats.length
          for (const t of tokens) seen.add(t)
          if (i < incarnations.length) {
            const after = (incarnations[i] as { readonly checkpointAfter: number }).checkpointAfter
            expect(after, `${holder}'s checkpoint never goes back`).toBeGreaterThanOrEqual(checkpoint)
            // where the kill caught it
            const last = mine[mine.length - 1] as Handled
            const lastBatch = mine.filter((h) => h.batch === last.batch)
            if (lastBatch.length < last.length) inHandler += 1
            else if (after < last.token) unacknowledged += 1
            checkpoint = after
          }
        }
        // nothing lost: every commit of the log was handled at least once
        expect(all.filter((t) => !seen.has(t))).toEqual([])
        // the loop exercised checkpoint writes: most incarnations stored at least one before their kill (on a loaded
        // machine a few are killed while their first save is still in flight: 45 saves for 50 kills in one soak)
        expect(saves.length).toBeGreaterThan(kills / 2)
        figure('kill loop: kills inside a handler / after a batch, before its checkpoint / between batches', `${inHandler} / ${unacknowledged} / ${kills - inHandler - unacknowledged}`)
        figure('kill loop: commits handled twice (all from unacknowledged batches)', repeated)
        expect(inHandler + unacknowledged, 'some kills landed mid-batch').toBeGreaterThan(0)
      } finally {
        await appending?.stop()
        await disposeStore(store)
      }
    },
  )

  it(
    'two instances in two processes: never overlapping checkpoint commits; a standby takes over from a SIGKILLed holder; a holder SIGSTOPped past its lease cannot write its checkpoint once resumed',
    { timeout: 120_000 },
    async () => {
      const batchSize = 10
      const ttlMs = 1_000
      const handlerMs = 20
      const store = await freshStore(db(), { pageSize: 200 })
      const tenantId = 'two-instances'
      const name = 'two-instances'
      const log = join(dir, 'two-instances.log')
      writeFileSync(log, '')
      const procs: Consumer[] = []
      let appending: ReturnType<typeof writers> | undefined
      const start = (holder: string) => {
        const c = consumer(store, name, holder, log, batchSize, ttlMs, handlerMs)
        procs.push(c)
        return c
      }
      try {
        await seedLog(store, tenantId, 200, 5)
        appending = writers(store, tenantId, 1, 100)
        // A holds the lease, B waits as a standby
        const a = start('a')
        await a.ready
        await until('A took the lease', () => readLog(log).takes.some((t) => t.holder === 'a'))
        const b = start('b')
        await b.ready
        await until('A saved a few checkpoints', () => readLog(log).saves.filter((s) => s.holder === 'a').length >= 3)
        expect(readLog(log).takes.some((t) => t.holder === 'b')).toBe(false)

        // SIGKILL the holder: the standby takes over once the lease expires
        const killedAt = Date.now()
        a.child.kill('SIGKILL')
        await a.exited
        await until('B took over', () => readLog(log).takes.some((t) => t.holder === 'b'))
        const takeB = readLog(log).takes.find((t) => t.holder === 'b') as Take
        figure('takeover after the holder was SIGKILLed (lease ttl 1,000 ms)', takeB.at - killedAt, 'ms')
        expect(takeB.at - killedAt).toBeLessThan(ttlMs + 2_000)

        // C waits as a standby; B is SIGSTOPped inside its handler, past its lease
        const c = start('c')
        await c.ready
        await until('B saved a checkpoint', () => readLog(log).saves.some((s) => s.holder === 'b'))
        const inBatch = () => {
          const mine = readLog(log).handled.filter((h) => h.holder === 'b')
          const last = mine[mine.length - 1]
          return last !== undefined && mine.filter((h) => h.batch === last.batch).length < last.length - 1
        }
        await until('B is inside a batch', inBatch, 30_000)
        const stoppedAt = Date.now()
        b.child.kill('SIGSTOP')
        await until('C took over', () => readLog(log).takes.some((t) => t.holder === 'c'), 30_000)
        const takeC = readLog(log).takes.find((t) => t.holder === 'c') as Take
        figure('takeover after the holder was SIGSTOPped (lease ttl 1,000 ms)', takeC.at - stoppedAt, 'ms')
        await until('C saved a checkpoint', () => readLog(log).saves.some((s) => s.holder === 'c'))
        // resumed, B writes its checkpoint at once with the lease it held: the fence refuses it; and its runtime,
        // whichever it tries first (its batch's save or a renewal), learns that the lease changed hands
        b.child.kill('SIGCONT')
        await until('B tried to write its checkpoint', () => readLog(log).probes.some((p) => p.holder === 'b'), 30_000)
        expect(readLog(log).probes.filter((p) => p.holder === 'b').map((p) => [p.epoch, p.outcome])).toEqual([[takeB.epoch, 'refused']])
        await until(
          "B's runtime learnt it lost the lease",
          () => {
            const l = readLog(log)
            return [...l.refused, ...l.lost].some((s) => s.holder === 'b' && s.epoch === takeB.epoch)
          },
          30_000,
        )

        const written = await appending.stop()
        const all = await allTokens(store)
        const head = all[all.length - 1] as number
        await until('the checkpoint reached the head', async () => (await positionOf(store, name)) === head, 60_000)
        for (const p of [b, c]) p.child.kill('SIGTERM')
        expect(await b.exited, b.stderr()).toBe(0)
        expect(await c.exited, c.stderr()).toBe(0)
        figure('two instances: commits appended while they ran', written.length)

        // the shared log: every checkpoint commit that succeeded, from every process, in checkpoint order
        const { handled, saves, takes } = readLog(log)
        const sorted = [...saves].sort((x, y) => x.to - y.to)
        let unlogged = 0
        for (let i = 1; i < sorted.length; i++) {
          const prev = sorted[i - 1] as Save
          const cur = sorted[i] as Save
          const what = `save ${i} by ${cur.holder}@${cur.epoch} after ${prev.holder}@${prev.epoch}`
          // each committed batch begins where the one before ended (whoever wrote it): none overlap, none skip...
          if (cur.from !== prev.to) {
            // ...but for the one save a log line can miss: the last of the SIGKILLed process, killed between its
            // save and its line. Then the next holder starts above the last logged save, and A handled the gap.
            expect(cur.from, what).toBeGreaterThan(prev.to)
            expect(prev.holder === 'a' && cur.epoch > prev.epoch, what).toBe(true)
            const byA = new Set(handled.filter((h) => h.holder === 'a' && h.epoch === prev.epoch).map((h) => h.token))
            expect(all.filter((t) => t > prev.to && t <= cur.from && !byA.has(t))).toEqual([])
            unlogged += 1
          }
          expect(cur.to).toBeGreaterThan(prev.to)
          expect(cur.epoch).toBeGreaterThanOrEqual(prev.epoch)
          // and the instance that committed a batch handled every commit of it, under the same lease
          const mine = new Set(handled.filter((h) => h.holder === cur.holder && h.epoch === cur.epoch).map((h) => h.token))
          expect(all.filter((t) => t > cur.from && t <= cur.to && !mine.has(t))).toEqual([])
        }
        expect(unlogged).toBeLessThanOrEqual(1)
        expect(new Set(sorted.map((s) => s.holder))).toEqual(new Set(['a', 'b', 'c']))
        // B wrote nothing with its old lease after C took over; the commits of its refused batch were handled by C
        const bLate = saves.filter((s) => s.holder === 'b' && s.epoch === takeB.epoch && s.at >= takeC.at)
        expect(bLate).toEqual([])
        expect(takes.map((t) => t.holder).slice(0, 3)).toEqual(['a', 'b', 'c'])
        // nothing lost
        const seen = new Set(handled.map((h) => h.token))
        expect(all.filter((t) => !seen.has(t))).toEqual([])
      } finally {
        for (const p of procs) {
          p.child.kill('SIGCONT')
          p.child.kill('SIGKILL')
        }
        await appending?.stop()
        await disposeStore(store)
      }
    },
  )
})
