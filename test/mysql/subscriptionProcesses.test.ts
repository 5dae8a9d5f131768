import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as O from 'fp-ts/lib/Option.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Commit, CommitAttempt, Persistence, Subscribable } from '../../src/eventstore/index.js'
import { mysqlStore } from '../../src/mysql/index.js'
import { mysqlUrl } from '../support/services.js'
import { freshPrefix, mysqlAvailable, rightOf } from './support.js'
import type { LogLine, WorkerArgs } from './subscriptionWorker.js'

// Issue 13 "Tests and figures" on MariaDB, across processes: a consumer SIGKILLed mid-batch in a loop loses
// nothing and repeats only its unacknowledged batch; two instances of one name never commit checkpoints for
// overlapping batches, a standby takes over a killed holder, and a holder paused (SIGSTOP) past its lease cannot
// write its checkpoint once resumed. Writers keep appending throughout. AETT_SOAK=1 runs the kill loop 50 times.

const available = await mysqlAvailable()
const soak = process.env['AETT_SOAK'] === '1'
const workerFile = fileURLToPath(new URL('./subscriptionWorker.ts', import.meta.url))

type Store = Persistence & Subscribable
type Batch = Extract<LogLine, { e: 'batch' }>
type Save = Extract<LogLine, { e: 'save' }>
type Take = Extract<LogLine, { e: 'take' }>

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The shared log: every line every worker wrote, in the order the writes happened. Read incrementally (the kill
 * loop polls it every few ms); each line was one `write` to a file opened for appending, so lines never tear.
 */
const logReader = (file: string) => {
  let offset = 0
  let rest = ''
  const lines: LogLine[] = []
  return (): readonly LogLine[] => {
    let chunk: Buffer
    try {
      const all = readFileSync(file)
      chunk = all.subarray(offset)
      offset = all.length
    } catch {
      return lines
    }
    const parts = (rest + chunk.toString('utf8')).split('\n')
    rest = parts.pop() ?? ''
    for (const p of parts) if (p !== '') lines.push(JSON.parse(p) as LogLine)
    return lines
  }
}

const waitUntil = async <A>(what: string, probe: () => A | undefined | Promise<A | undefined>, timeoutMs = 30_000, everyMs = 2): Promise<A> => {
  const until = Date.now() + timeoutMs
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`)
    await sleep(everyMs)
  }
}

interface Worker {
  readonly holder: string
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
}

const spawnWorker = (args: WorkerArgs): Worker => {
  const child = spawn(process.execPath, ['--import', 'tsx', workerFile, JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit'] })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { holder: args.holder, child, exited }
}

/** Appends commits to a few streams until stopped, as several writers of another process would. */
const keepWriting = (store: Store, label: string, streams: number, pauseMs: number) => {
  let stopped = false
  let written = 0
  const one = async (s: number) => {
    let head: Commit | undefined
    while (!stopped) {
      const revision = (head?.streamRevision ?? 0) + 1
      const attempt: CommitAttempt = {
        tenantId: 'subscriptions',
        streamId: `${label}-${s}`,
        streamRevision: revision,
        commitSequence: (head?.commitSequence ?? 0) + 1,
        commitId: `${label}-${s}-${revision}`,
        commitStamp: new Date(),
        headers: {},
        events: [{ body: { type: 'Appended', n: revision }, headers: {} }],
      }
      head = rightOf(await store.commit(attempt))
      written += 1
      await sleep(pauseMs)
    }
  }
  const done = Promise.all(Array.from({ length: streams }, (_, s) => one(s)))
  return {
    written: () => written,
    stop: async () => {
      stopped = true
      await done
    },
  }
}

/** Writes `n` commits over `writers` concurrent streams (the backlog). */
const seed = async (store: Store, n: number, writers: number): Promise<void> => {
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 1; i <= Math.ceil(n / writers); i++) {
        rightOf(
          await store.commit({
            tenantId: 'subscriptions',
            streamId: `backlog-${w}`,
            streamRevision: i,
            commitSequence: i,
            commitId: `backlog-${w}-${i}`,
            commitStamp: new Date(),
            headers: {},
            events: [{ body: { type: 'Seeded', n: i }, headers: {} }],
          }),
        )
      }
    }),
  )
}

const allTokens = async (store: Store): Promise<number[]> => {
  const tokens: number[] = []
  for await (const r of store.getFrom(0)) tokens.push(rightOf(r).checkpointToken)
  return tokens
}

const positionOf = async (store: Store, name: string): Promise<number> => {
  const c = rightOf(await store.subscriptions.checkpoint(name))
  return O.isSome(c) ? (c.value.positions['0'] ?? 0) : 0
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? Number.NaN
}

describe.skipIf(!available)('mysql subscriptions across processes', () => {
  const tablePrefix = freshPrefix()
  const dir = mkdtempSync(join(tmpdir(), 'aett-mysql-subs-'))
  const store: Store = mysqlStore({ uri: mysqlUrl, tablePrefix, connectionLimit: 6 })
  const workers: Worker[] = []
  const common = { uri: mysqlUrl, tablePrefix, leaseTtlMs: 600, heartbeatMs: 150, standbyPollMs: 25, pollMs: 20 }
  const start = (args: Omit<WorkerArgs, keyof typeof common>): Worker => {
    const w = spawnWorker({ ...common, ...args })
    workers.push(w)
    return w
  }

  beforeAll(async () => {
    rightOf(await store.initialize())
  })

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL')
    await Promise.all(workers.map((w) => w.exited))
    await store.drop()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it(`a consumer SIGKILLed mid-batch ${soak ? 50 : 5} times loses nothing, and repeats only the batch it had not acknowledged, while writers append`, async () => {
    const name = 'kill-loop'
    const log = join(dir, 'kill-loop.ndjson')
    const readLog = logReader(log)
    const batchSize = soak ? 20 : 50
    await seed(store, 2_000, 8)
    const writers = keepWriting(store, 'kill-loop', 3, 15)
    const kills = soak ? 50 : 5
    /** Per run: the checkpoint found after its kill, and its last batch. */
    const runs: { readonly holder: string; readonly checkpoint: number; readonly lastBatch: Batch | undefined }[] = []
    const restarts: number[] = []
    for (let i = 0; i < kills; i++) {
      const holder = `run-${i}`
      const spawnedAt = Date.now()
      const w = start({ name, holder, log, batchSize, handlerMs: 40 })
      // kill it on its k-th batch, while the handler is still working on it (it sleeps 40 ms after being handed it)
      const k = 1 + Math.floor(Math.random() * 5)
      await waitUntil(`${holder} handled ${k} batches`, () => readLog().filter((l): l is Batch => l.e === 'batch' && l.holder === holder)[k - 1])
      w.child.kill('SIGKILL')
      await w.exited
      // a statement the process had sent just before it died still completes in the server: let it land
      await sleep(100)
      const firstTake = readLog().find((l): l is Take => l.e === 'take' && l.holder === holder)
      if (firstTake !== undefined) restarts.push(firstTake.at - spawnedAt)
      const mine = readLog().filter((l): l is Batch => l.e === 'batch' && l.holder === holder)
      expect(mine.length).toBeGreaterThanOrEqual(k)
      runs.push({ holder, checkpoint: await positionOf(store, name), lastBatch: mine[mine.length - 1] })
    }
    // then writers stop, and one more run catches up to the head and stops gracefully
    await writers.stop()
    const head = (await allTokens(store)).at(-1) as number
    const last = start({ name, holder: 'final', log, batchSize, handlerMs: 0 })
    await waitUntil('the final run reached the head', async () => ((await positionOf(store, name)) === head ? true : undefined), 60_000, 50)
    last.child.kill('SIGTERM')
    expect(await last.exited).toBe(0)

    const lines = readLog()
    const batches = lines.filter((l): l is Batch => l.e === 'batch')
    const all = await allTokens(store)
    // nothing lost: every commit was handled, in token order within each run
    const handled = new Set(batches.flatMap((b) => b.tokens))
    expect(all.filter((t) => !handled.has(t))).toEqual([])
    const holders = [...runs.map((r) => r.holder), 'final']
    let midBatch = 0
    let repeated = 0
    for (const [i, holder] of holders.entries()) {
      const mine = batches.filter((b) => b.holder === holder).flatMap((b) => b.tokens)
      expect(mine, `${holder} handles in token order`).toEqual([...mine].sort((a, b) => a - b))
      const from = i === 0 ? 0 : (runs[i - 1]?.checkpoint as number)
      // each run starts right after the checkpoint the previous run left: nothing skipped, nothing before it again
      if (mine.length > 0) expect(mine[0], `${holder} starts after the checkpoint ${from}`).toBe(all.find((t) => t > from))
      if (i === 0) continue
      const before = runs[i - 1]
      if (before === undefined) continue
      // what the run handled again is exactly what the killed run had handled beyond its checkpoint: its last batch,
      // the one not acknowledged (no earlier batch, and nothing at or below the checkpoint)
      const earlier = new Set(batches.filter((b) => holders.indexOf(b.holder) < i).flatMap((b) => b.tokens))
      const again = mine.filter((t) => earlier.has(t))
      const unacknowledged = (before.lastBatch?.tokens ?? []).filter((t) => t > before.checkpoint)
      expect(again, `${holder} repeats only ${before.holder}'s unacknowledged batch`).toEqual(unacknowledged)
      expect([...earlier].filter((t) => t > before.checkpoint).sort((a, b) => a - b), `${before.holder} left one batch at most`).toEqual(unacknowledged)
      if (unacknowledged.length > 0) midBatch += 1
      repeated += again.length
    }
    // the checkpoint never went back
    for (let i = 1; i < runs.length; i++) expect(runs[i]?.checkpoint).toBeGreaterThanOrEqual(runs[i - 1]?.checkpoint as number)
    expect(midBatch, 'most kills landed mid-batch').toBeGreaterThanOrEqual(Math.ceil(kills / 2))
    console.info(
      `mysql kill loop: ${kills} SIGKILLs (${midBatch} mid-batch), ${all.length} commits (${writers.written()} appended during the loop), ` +
        `${repeated} commits handled twice (all from unacknowledged batches), 0 lost; ` +
        `restart to lease taken: median ${median(restarts)} ms, max ${Math.max(...restarts)} ms`,
    )
  }, soak ? 900_000 : 120_000)

  it('two instances of one name in two processes: no overlapping checkpoint batches; a SIGKILLed holder is taken over; a SIGSTOPped holder, resumed, cannot write', async () => {
    const name = 'pair'
    const log = join(dir, 'pair.ndjson')
    const readLog = logReader(log)
    const writers = keepWriting(store, 'pair', 3, 10)
    const args = { name, log, batchSize: 25, handlerMs: 40 }
    start({ ...args, holder: 'a' })
    start({ ...args, holder: 'b' })
    const byHolder = (holder: string) => workers.find((w) => w.holder === holder) as Worker
    const currentHolder = async (): Promise<string> => O.toUndefined(rightOf(await store.subscriptions.lease(name)))?.holder ?? ''
    /** The checkpoint writes `holder` sent at or after `after` that were stored. */
    const savesBy = (holder: string, after = 0) => readLog().filter((l): l is Save => l.e === 'save' && l.ok && l.holder === holder && l.sentAt >= after)

    // the holder works; the other waits as a standby
    const first = await waitUntil(
      'a holder committed 3 checkpoints',
      async () => {
        const h = await currentHolder()
        return savesBy(h).length >= 3 ? h : undefined
      },
      30_000,
      20,
    )
    // SIGKILL the holder: the standby takes over once its lease expires
    const killedAt = Date.now()
    byHolder(first).child.kill('SIGKILL')
    await byHolder(first).exited
    const standby = first === 'a' ? 'b' : 'a'
    const takeAfterKill = await waitUntil('the standby took over', () =>
      readLog().find((l): l is Take => l.e === 'take' && l.holder === standby && l.at >= killedAt),
    )
    const killTakeover = takeAfterKill.at - killedAt
    // a new standby replaces the killed instance
    start({ ...args, holder: 'c' })
    await waitUntil('the new holder committed 3 checkpoints', () => (savesBy(standby, takeAfterKill.at).length >= 3 ? true : undefined))

    // once the new standby runs (so that the figure is the lease's expiry, not a process start)
    await waitUntil('the new standby started', () => readLog().find((l) => l.e === 'start' && l.holder === 'c'))
    await sleep(200)
    // SIGSTOP the holder in the middle of a batch (its handler sleeps 40 ms after it logged the batch)
    const paused = standby
    const seen = readLog().length
    await waitUntil('the holder began a batch', () => (readLog().slice(seen).some((l) => l.e === 'batch' && l.holder === paused) ? true : undefined), 30_000, 1)
    const pausedAt = Date.now()
    byHolder(paused).child.kill('SIGSTOP')
    const takeAfterPause = await waitUntil('the standby took over the paused holder', () =>
      readLog().find((l): l is Take => l.e === 'take' && l.holder === 'c' && l.at >= pausedAt),
    )
    const pauseTakeover = takeAfterPause.at - pausedAt
    await waitUntil('the new holder committed 3 checkpoints', () => (savesBy('c', takeAfterPause.at).length >= 3 ? true : undefined))
    const positionBeforeResume = await positionOf(store, name)
    // resumed: a write of the checkpoint back to 1 with its old lease is refused; so is the write of the batch it
    // was handling (or, when its heartbeat came first, its renewal: then it writes nothing), and it writes nothing more
    const resumedAt = Date.now()
    byHolder(paused).child.kill('SIGCONT')
    const stale = await waitUntil('the resumed holder wrote with its old lease', () =>
      readLog().find((l): l is Extract<LogLine, { e: 'stale' }> => l.e === 'stale' && l.holder === paused && l.at >= resumedAt),
    )
    expect(stale).toMatchObject({ ok: false, error: 'LeaseLost' })
    const refused = await waitUntil('the resumed holder found its lease lost', () =>
      readLog().find((l): l is Save | Extract<LogLine, { e: 'renew' }> => ((l.e === 'save' && !l.ok) || l.e === 'renew') && l.holder === paused && l.at >= resumedAt),
    )
    expect(refused).toMatchObject({ error: 'LeaseLost' })
    await sleep(300)
    expect(savesBy(paused, resumedAt)).toEqual([])
    expect(await positionOf(store, name)).toBeGreaterThanOrEqual(positionBeforeResume)
    expect(await currentHolder()).toBe('c')

    // all stop; the shared log of the checkpoint writes that were stored, in the order the database applied them
    await writers.stop()
    const head = (await allTokens(store)).at(-1) as number
    await waitUntil('the holder reached the head', async () => ((await positionOf(store, name)) === head ? true : undefined), 30_000, 50)
    for (const w of workers.filter((x) => x.child.exitCode === null && x.child.signalCode === null && ['a', 'b', 'c'].includes(x.holder))) {
      w.child.kill('SIGTERM')
      expect(await w.exited).toBe(0)
    }
    const lines = readLog()
    const saves = lines.filter((l): l is Save => l.e === 'save' && l.ok).sort((x, y) => x.sentAt - y.sentAt)
    const all = await allTokens(store)
    let prev: Save | undefined
    for (const save of saves) {
      const from = prev?.position ?? 0
      // each committed batch starts after the one before, whoever wrote it: no two overlap (the first write is the
      // start position, stored when the first holder found no checkpoint)
      if (prev === undefined) expect(save.position).toBe(0)
      else expect(save.position, `save by ${save.holder} after ${prev.holder}`).toBeGreaterThan(from)
      expect(save.epoch).toBeGreaterThanOrEqual(prev?.epoch ?? 0)
      // and the instance that committed it handled every commit of it under that epoch
      const handled = new Set(
        lines.filter((l): l is Batch => l.e === 'batch' && l.holder === save.holder && l.epoch === save.epoch).flatMap((b) => b.tokens),
      )
      expect(all.filter((t) => t > from && t <= save.position && !handled.has(t)), `batch (${from}, ${save.position}] by ${save.holder}`).toEqual([])
      prev = save
    }
    expect(new Set(saves.map((s) => s.holder))).toEqual(new Set([first, standby, 'c']))
    expect(prev?.position).toBe(head)
    console.info(
      `mysql two processes: takeover after SIGKILL of the holder ${killTakeover} ms, after SIGSTOP ${pauseTakeover} ms ` +
        `(lease ttl ${common.leaseTtlMs} ms, standby poll ${common.standbyPollMs} ms); ${saves.length} checkpoint writes by 3 holders, none overlapping; ` +
        `the resumed holder's writes: ${stale.error} (stale write back to 1), ${refused.error} (its pending ${refused.e})`,
    )
  }, 90_000)
})
