import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import * as O from 'fp-ts/lib/Option.js'
import { afterAll, describe, expect, it } from 'vitest'
import type { Commit } from '../../src/eventstore/index.js'
import { sqliteStore, type SqliteStore } from '../../src/sqlite/index.js'
import { orThrow, tempDir, tempFile } from './support.js'

// Subscriptions across OS processes sharing one SQLite file (WAL): consumers are child processes running
// `subscribe` (test/sqlite/subscriptionConsumer.ts) and writing what they do to a shared append-only log; this
// process keeps appending commits meanwhile, and kills, pauses and resumes the consumers.
// AETT_SOAK=1 runs the kill loop 50 times instead of 5.

const dir = tempDir()
const root = fileURLToPath(new URL('../..', import.meta.url))
const consumerScript = fileURLToPath(new URL('./subscriptionConsumer.ts', import.meta.url))
const soak = process.env.AETT_SOAK === '1'
const leaseTtlMs = 1_000
const tenantId = 'subscribers'

const figures: string[] = []
afterAll(() => {
  if (figures.length > 0) console.info(`sqlite subscription figures (processes)\n  ${figures.join('\n  ')}`)
})

// -------------------------------------------------------------------------------------
// processes and the shared log
// -------------------------------------------------------------------------------------

interface Consumer {
  readonly holder: string
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  stderr: string
}

const startConsumer = (filename: string, name: string, holder: string, logFile: string, settings: Record<string, unknown>): Consumer => {
  const child = spawn(process.execPath, ['--import', 'tsx', consumerScript, filename, name, holder, logFile, JSON.stringify(settings)], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const consumer: Consumer = {
    holder,
    child,
    stderr: '',
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal === null ? code : -1))),
  }
  child.stderr?.on('data', (chunk: Buffer) => (consumer.stderr += chunk.toString()))
  return consumer
}

const kill = async (c: Consumer, signal: NodeJS.Signals) => {
  c.child.kill(signal)
  if (signal === 'SIGKILL' || signal === 'SIGTERM') await c.exited
}

/** The shared log read as it grows: complete lines only, split into words. */
class Tail {
  private offset = 0
  private partial = ''
  readonly lines: string[][] = []
  constructor(private readonly file: string) {}
  read(): string[][] {
    const fd = openSync(this.file, 'r')
    try {
      const buffer = Buffer.alloc(1 << 16)
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, this.offset)
        if (n === 0) break
        this.offset += n
        const text = this.partial + buffer.subarray(0, n).toString('utf8')
        const parts = text.split('\n')
        this.partial = parts.pop() ?? ''
        for (const p of parts) if (p.length > 0) this.lines.push(p.split(' '))
      }
    } finally {
      closeSync(fd)
    }
    return this.lines
  }
}

const waitFor = async <A>(what: string, probe: () => A | undefined | false | Promise<A | undefined | false>, timeoutMs = 20_000, consumers: Consumer[] = []): Promise<A> => {
  const until = Date.now() + timeoutMs
  for (;;) {
    const r = await probe()
    if (r !== undefined && r !== false) return r
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}\n${consumers.map((c) => `${c.holder}: ${c.stderr}`).join('\n')}`)
    await sleep(5)
  }
}

/** Handled lines `h holder epoch batch index length token`. */
interface Handled {
  readonly holder: string
  readonly epoch: number
  readonly batch: number
  readonly index: number
  readonly length: number
  readonly token: number
}

const handledOf = (lines: string[][]): Handled[] =>
  lines
    .filter((l) => l[0] === 'h')
    .map((l) => ({ holder: l[1] as string, epoch: Number(l[2]), batch: Number(l[3]), index: Number(l[4]), length: Number(l[5]), token: Number(l[6]) }))

/** The line of `holder` that shows it in the middle of a batch (at least its `minBatch`th), if the last one does. */
const midBatch = (lines: string[][], holder: string, minBatch = 2): Handled | undefined => {
  const mine = handledOf(lines.slice(-200)).filter((h) => h.holder === holder)
  const last = mine[mine.length - 1]
  return last !== undefined && last.batch >= minBatch && last.index < last.length - 2 ? last : undefined
}

interface Batch {
  readonly holder: string
  readonly epoch: number
  readonly position: number
  readonly tokens: readonly number[]
}

/**
 * The batches whose checkpoint was committed, from the shared log: for each checkpoint write of a holder, the
 * commits that holder handled since its previous write or since it took the lease; committed when the write's
 * `save` line follows. A process killed between the write and its `save` line leaves the write undecided: it was
 * committed exactly when the next tenure (or the end) found the checkpoint at its position. A batch handled under a
 * lease that was then lost (killed, paused, taken over) never gets a write of its own and is not counted.
 */
const committedBatches = (lines: string[][], finalPosition: number): Batch[] => {
  const pending = new Map<string, number[]>()
  const inFlight = new Map<string, Batch>()
  const batches: Batch[] = []
  const commit = (b: Batch | undefined) => void (b !== undefined && b.tokens.length > 0 && batches.push(b))
  for (const l of lines) {
    const holder = l[1] as string
    switch (l[0]) {
      case 'take':
        pending.set(holder, [])
        break
      case 'h':
        pending.get(holder)?.push(Number(l[6]))
        break
      case 'saving':
        inFlight.set(holder, { holder, epoch: Number(l[2]), position: Number(l[3]), tokens: pending.get(holder) ?? [] })
        pending.set(holder, [])
        break
      case 'save':
        commit(inFlight.get(holder))
        inFlight.delete(holder)
        break
      case 'lost':
        inFlight.delete(holder)
        pending.set(holder, [])
        break
      case 'load':
        for (const [other, b] of inFlight) {
          if (other === holder) continue
          if (b.position === Number(l[2])) commit(b)
          inFlight.delete(other)
        }
        break
    }
  }
  for (const b of inFlight.values()) if (b.position === finalPosition) commit(b)
  return batches
}

/**
 * No two committed batches overlap, each is a contiguous run of the log ending at its checkpoint, and together they
 * are the whole log up to the stored checkpoint `position`.
 */
const expectDisjointCover = (lines: string[][], all: readonly number[], position: number): Batch[] => {
  const log = all.filter((t) => t <= position)
  const batches = committedBatches(lines, position)
  const indexOf = new Map(log.map((t, i) => [t, i]))
  const seen = new Map<number, string>()
  for (const b of batches) {
    expect(b.tokens[b.tokens.length - 1], `${b.holder}'s batch ends at its checkpoint`).toBe(b.position)
    const first = indexOf.get(b.tokens[0] as number) as number
    expect([...b.tokens], `${b.holder}'s batch is contiguous`).toEqual(log.slice(first, first + b.tokens.length))
    for (const t of b.tokens) {
      expect(seen.get(t), `token ${t} committed by ${b.holder} (epoch ${b.epoch}) was already committed`).toBeUndefined()
      seen.set(t, b.holder)
    }
  }
  expect([...seen.keys()].sort((a, b) => a - b)).toEqual(log)
  return batches
}

// -------------------------------------------------------------------------------------
// the writers (this process)
// -------------------------------------------------------------------------------------

const openStore = async (filename: string): Promise<SqliteStore> => {
  const store = sqliteStore({ filename, synchronous: 'NORMAL', busyRetries: 50 })
  orThrow(await store.initialize())
  return store
}

/** Appends commits to a few streams: `seed` of them at once, then one every `everyMs` until stopped. */
const writer = (store: SqliteStore) => {
  const heads = new Map<string, Commit>()
  let n = 0
  const one = async () => {
    const streamId = `stream-${n % 8}`
    const head = heads.get(streamId)
    n += 1
    const r = await store.commit({
        tenantId,
        streamId,
        commitId: `c-${n}`,
        commitSequence: (head?.commitSequence ?? 0) + 1,
        streamRevision: (head?.streamRevision ?? 0) + 1,
        commitStamp: new Date(),
        headers: {},
        events: [{ body: { type: 'Appended', n }, headers: {} }],
      })
    if (r._tag === 'Left') throw new Error(`the writer's commit ${n} failed: ${JSON.stringify(r.left)}`)
    heads.set(streamId, r.right)
  }
  let running: Promise<void> | undefined
  let stopping = false
  return {
    seed: async (count: number) => {
      for (let i = 0; i < count; i++) await one()
    },
    start: (everyMs: number) => {
      running = (async () => {
        while (!stopping) {
          await one()
          await sleep(everyMs)
        }
      })()
    },
    stop: async () => {
      stopping = true
      await running
    },
    count: () => n,
  }
}

const tokensOf = async (store: SqliteStore): Promise<number[]> => {
  const out: number[] = []
  for await (const r of store.getFrom(0)) out.push(orThrow(r).checkpointToken)
  return out
}

const positionOf = async (store: SqliteStore, name: string): Promise<number> => {
  const c = orThrow(await store.subscriptions.checkpoint(name))
  return O.isSome(c) ? (c.value.positions['0'] ?? 0) : -1
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number

// -------------------------------------------------------------------------------------
// the tests
// -------------------------------------------------------------------------------------

describe('sqlite: subscriptions across processes', () => {
  const kills = soak ? 50 : 5

  it(`a consumer SIGKILLed mid-batch and restarted ${kills} times while a writer appends loses nothing, and repeats only the batch it had not acknowledged`, { timeout: soak ? 900_000 : 90_000 }, async () => {
    const filename = tempFile(dir)
    const logFile = `${filename}.log`
    writeFileSync(logFile, '')
    const store = await openStore(filename)
    const w = writer(store)
    // enough backlog that every killed run is still catching up (full batches) when it is killed
    const seeded = soak ? 20_000 : 3_000
    await w.seed(seeded)
    w.start(20)
    const tail = new Tail(logFile)
    const name = 'kill-loop'
    // a longer lease here: a holder that missed its heartbeats on a loaded machine would be taken over by its
    // successor before it is killed, and the runs would no longer follow each other
    const settings = { batchSize: 50, leaseTtlMs: 1_500, delayEvery: 5, delayMs: 2 }
    const started = Date.now()
    // Each restarted process is started as soon as its predecessor holds the lease (so that the loop does not wait
    // for a whole process start-up after every kill): it waits as the one standby, takes the lease once the killed
    // one's expires, reads the checkpoint and goes on, as a process restarted by a supervisor would.
    const spawned: Consumer[] = []
    const spawn = (holder: string) => {
      const c = startConsumer(filename, name, holder, logFile, settings)
      spawned.push(c)
      return c
    }
    let current = spawn('run-0')
    try {
      for (let run = 0; run < kills; run++) {
        const holder = current.holder
        await waitFor(`run ${run} took the lease`, () => tail.read().some((l) => l[0] === 'take' && l[1] === holder), 60_000, [current])
        const next = spawn(run + 1 < kills ? `run-${run + 1}` : 'run-final')
        // killed in the middle of its 2nd to 6th batch, at random
        const batch = 2 + Math.floor(Math.random() * 5)
        await waitFor(`run ${run} is mid-batch`, () => midBatch(tail.read(), current.holder, batch), 30_000, [current, next])
        await kill(current, 'SIGKILL')
        current = next
      }
      await w.stop()
      const head = (await tokensOf(store)).at(-1)
      await waitFor('the last run reached the head', async () => (await positionOf(store, name)) === head, 60_000, [current])
    } finally {
      await w.stop()
      await kill(current, 'SIGTERM')
      // after a failure: no process is left behind
      for (const c of spawned) if (c.child.exitCode === null && c.child.signalCode === null) await kill(c, 'SIGKILL')
    }
    expect(await current.exited, current.stderr).toBe(0)
    const elapsed = Date.now() - started

    const log = await tokensOf(store)
    expect(log).toHaveLength(w.count())
    const indexOf = new Map(log.map((t, i) => [t, i]))
    const lines = tail.read()
    const handled = handledOf(lines)
    const runs = [...Array.from({ length: kills }, (_, r) => `run-${r}`), 'run-final'].map((holder) => handled.filter((h) => h.holder === holder))
    let midBatchKills = 0
    let repeats = 0
    for (const [r, records] of runs.entries()) {
      expect(records.length, `run ${r} handled something`).toBeGreaterThan(0)
      // each run handles a contiguous stretch of the log, in token order: nothing skipped
      const first = indexOf.get((records[0] as Handled).token) as number
      expect(
        records.map((h) => h.token),
        `run ${r} is contiguous`,
      ).toEqual(log.slice(first, first + records.length))
      if (r === 0) expect(first).toBe(0)
      else {
        // it starts at the checkpoint the killed run left: at the start of that run's last batch (not
        // acknowledged), or just after it (acknowledged before the kill); never before it (a repeat of an
        // acknowledged batch), never after it (a loss)
        const prev = runs[r - 1] as Handled[]
        const lastBatch = prev.filter((h) => h.batch === (prev[prev.length - 1] as Handled).batch)
        const batchStart = indexOf.get((lastBatch[0] as Handled).token) as number
        const prevEnd = indexOf.get((prev[prev.length - 1] as Handled).token) as number
        const partial = lastBatch.length < (lastBatch[0] as Handled).length
        if (partial) midBatchKills += 1
        expect(first, `run ${r} starts within run ${r - 1}'s last batch or right after it`).toBeGreaterThanOrEqual(batchStart)
        expect(first).toBeLessThanOrEqual(prevEnd + 1)
        // a batch killed half-way was never acknowledged: it is handled again from its start
        if (partial) expect(first).toBe(batchStart)
        repeats += prevEnd + 1 - first
      }
    }
    // the final run reached the head, and every commit was handled
    expect(runs[kills]?.[runs[kills].length - 1]?.token).toBe(log[log.length - 1])
    expect(new Set(handled.map((h) => h.token)).size).toBe(log.length)
    expect(midBatchKills).toBeGreaterThan(0)
    // and the checkpoints committed cover the log once: no batch was acknowledged twice
    expectDisjointCover(lines, log, await positionOf(store, name))
    figures.push(
      `kill loop: ${kills} SIGKILLs (${midBatchKills} mid-batch) over ${log.length} commits (${seeded} before, ${log.length - seeded} appended during), ` +
        `${handled.length} handled, ${repeats} repeats (all from unacknowledged batches), ${elapsed} ms`,
    )
    await store.close()
  })

  it('four instances of one name, the holder SIGKILLed mid-batch until two are left: no two ever commit overlapping batches; a standby takes over each time', { timeout: 90_000 }, async () => {
    const filename = tempFile(dir)
    const logFile = `${filename}.log`
    writeFileSync(logFile, '')
    const store = await openStore(filename)
    const w = writer(store)
    await w.seed(1_500)
    w.start(10)
    const tail = new Tail(logFile)
    const name = 'pair'
    // a slow handler (about 200 commits/s), so that the holder is still catching up in every round
    const settings = { batchSize: 40, leaseTtlMs, delayEvery: 1, delayMs: 5 }
    let alive = [1, 2, 3, 4].map((i) => startConsumer(filename, name, `instance-${i}`, logFile, settings))
    const takeovers: number[] = []
    try {
      for (let round = 0; round < 3; round++) {
        // every instance is up, and the holder is busy in the middle of its second batch at least (it committed one)
        const holder = await waitFor(
          'every instance is up, and the holder is mid-batch',
          async () => {
            const ready = new Set(tail.read().filter((l) => l[0] === 'ready').map((l) => l[1]))
            if (!alive.every((c) => ready.has(c.holder))) return undefined
            const l = orThrow(await store.subscriptions.lease(name))
            if (O.isNone(l)) return undefined
            const c = alive.find((x) => x.holder === l.value.holder)
            return c !== undefined && midBatch(tail.read(), c.holder, 2) !== undefined ? c : undefined
          },
          60_000,
          alive,
        )
        const takesBefore = tail.read().filter((l) => l[0] === 'take').length
        const killedAt = Date.now()
        await kill(holder, 'SIGKILL')
        alive = alive.filter((c) => c !== holder)
        const take = await waitFor('a standby took over', () => tail.read().filter((l) => l[0] === 'take')[takesBefore], 30_000, alive)
        expect(take[1]).not.toBe(holder.holder)
        takeovers.push(Number(take[3]) - killedAt)
      }
      // the last holder goes on
      const savesBefore = tail.read().filter((l) => l[0] === 'save').length
      await waitFor('the last holder committed two batches', () => tail.read().filter((l) => l[0] === 'save').length >= savesBefore + 2, 30_000, alive)
    } finally {
      await w.stop()
      for (const c of alive) await kill(c, 'SIGTERM')
    }
    for (const c of alive) expect(await c.exited, c.stderr).toBe(0)
    const lines = tail.read()
    const batches = expectDisjointCover(lines, await tokensOf(store), await positionOf(store, name))
    // the epochs of committed batches never go back, and four instances took part
    for (let i = 1; i < batches.length; i++) expect((batches[i] as Batch).epoch).toBeGreaterThanOrEqual((batches[i - 1] as Batch).epoch)
    expect(new Set(batches.map((b) => b.holder)).size).toBe(4)
    figures.push(
      `takeover after SIGKILL of the holder (lease ttl ${leaseTtlMs} ms, standby poll 25 ms): ${takeovers.join(', ')} ms (median ${median(takeovers)}); ` +
        `${batches.length} committed batches by ${new Set(batches.map((b) => b.holder)).size} instances, none overlapping`,
    )
    await store.close()
  })

  it('a holder paused (SIGSTOP) past its lease is taken over; resumed (SIGCONT), it cannot write its checkpoint, forwards or back', { timeout: 90_000 }, async () => {
    const filename = tempFile(dir)
    const logFile = `${filename}.log`
    writeFileSync(logFile, '')
    const store = await openStore(filename)
    const w = writer(store)
    await w.seed(1_000)
    w.start(10)
    const tail = new Tail(logFile)
    const name = 'paused'
    const settings = { batchSize: 40, leaseTtlMs, delayEvery: 1, delayMs: 5 }
    const both = [startConsumer(filename, name, 'one', logFile, settings), startConsumer(filename, name, 'two', logFile, settings)]
    let pausedFor = 0
    try {
      await waitFor('both are up', () => tail.read().filter((l) => l[0] === 'ready').length === 2, 60_000, both)
      const takeA = await waitFor('one of them took the lease', () => tail.read().find((l) => l[0] === 'take'), 30_000, both)
      const a = both.find((c) => c.holder === takeA[1]) as Consumer
      const b = both.find((c) => c !== a) as Consumer
      await sleep(100) // the other polls for the lease as a standby
      await waitFor('the holder is mid-batch', () => midBatch(tail.read(), a.holder), 30_000, both)
      const stoppedAt = Date.now()
      await kill(a, 'SIGSTOP')
      const takeB = await waitFor('the standby took over', () => tail.read().find((l) => l[0] === 'take' && l[1] === b.holder), 30_000, both)
      expect(Number(takeB[2])).toBeGreaterThan(Number(takeA[2]))
      const pausedTakeover = Number(takeB[3]) - stoppedAt
      await waitFor('the new holder committed two batches', () => tail.read().filter((l) => l[0] === 'save' && l[1] === b.holder).length >= 2, 30_000, both)
      const before = await positionOf(store, name)
      pausedFor = Date.now() - stoppedAt
      await kill(a, 'SIGCONT')
      // resumed, the former holder tries to write its checkpoint with the lease it held (forwards, then back): both refused
      const probes = await waitFor(
        'the former holder probed',
        () => {
          const p = tail.read().filter((l) => l[0] === 'probe' && l[1] === a.holder)
          return p.length >= 2 ? p : undefined
        },
        30_000,
        both,
      )
      expect(probes.map((p) => p[4])).toEqual(['LeaseLost', 'LeaseLost'])
      expect(probes.map((p) => p[2])).toEqual([takeA[2], takeA[2]])
      expect(await positionOf(store, name)).toBeGreaterThanOrEqual(before)
      // and its runtime learns it lost the lease (its renewal or its batch's checkpoint is refused)
      await waitFor('the former holder saw LeaseLost', () => tail.read().some((l) => l[0] === 'lost' && l[1] === a.holder), 30_000, both)
      // no checkpoint write of the former holder succeeded after the standby took over
      const lateSaves = tail.read().filter((l) => l[0] === 'save' && l[1] === a.holder && Number(l[4]) >= Number(takeB[3]))
      expect(lateSaves).toEqual([])
      // the new holder goes on
      const savesBefore = tail.read().filter((l) => l[0] === 'save' && l[1] === b.holder).length
      await waitFor('the new holder committed two more', () => tail.read().filter((l) => l[0] === 'save' && l[1] === b.holder).length >= savesBefore + 2, 30_000, both)
      figures.push(`takeover of a holder paused by SIGSTOP (lease ttl ${leaseTtlMs} ms): ${pausedTakeover} ms; it was resumed after ${pausedFor} ms and both its writes were LeaseLost`)
    } finally {
      await w.stop()
      for (const c of both) {
        c.child.kill('SIGCONT')
        await kill(c, 'SIGTERM')
      }
    }
    for (const c of both) expect(await c.exited, c.stderr).toBe(0)
    expectDisjointCover(tail.read(), await tokensOf(store), await positionOf(store, name))
    await store.close()
  })
})
