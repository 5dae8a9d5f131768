import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import type { Commit, CommitAttempt } from '../../src/eventstore/index.js'
import { postgresStore, type PostgresStore } from '../../src/postgres/index.js'
import { pgUrl } from '../support/services.js'
import { cleanUpAfterAll, pgAvailable, pgStores } from './support.js'
import type { WorkerArgs } from './subscriptionWorker.js'

// Issue 13 "Tests and figures" on PostgreSQL, across processes, while writers keep appending: a consumer SIGKILLed
// mid-batch in a loop loses nothing and repeats only the batch it had not acknowledged; two instances of one name
// never commit checkpoints for overlapping batches (a trigger on the lease row is the shared log: it records every
// write in the order the database applied them), a standby takes over a killed holder, and a holder paused
// (SIGSTOP) past its lease cannot write its checkpoint once resumed. AETT_SOAK=1 runs the kill loop 50 times.

const available = await pgAvailable()
const soak = process.env['AETT_SOAK'] === '1'
const stores = pgStores('aett_subproc')
const root = fileURLToPath(new URL('../..', import.meta.url))
const workerFile = fileURLToPath(new URL('./subscriptionWorker.ts', import.meta.url))
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

interface Worker {
  readonly holder: string
  /** Every line printed so far. */
  readonly lines: string[]
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>
  /** Resolves with the first line that matches, already printed or still to come. */
  until(match: (line: string) => boolean, timeoutMs?: number): Promise<string>
  /** Resolves with the first line printed from now on that matches. */
  next(match: (line: string) => boolean, timeoutMs?: number): Promise<string>
  kill(signal: NodeJS.Signals): void
}

const spawnWorker = (args: WorkerArgs): Worker => {
  const child = spawn(process.execPath, ['--import', 'tsx', workerFile, JSON.stringify(args)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  const waiters: Array<{ match: (l: string) => boolean; resolve: (l: string) => void }> = []
  let stderr = ''
  let buffer = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buffer += d
    let nl
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl)
      buffer = buffer.slice(nl + 1)
      lines.push(line)
      for (const w of waiters.splice(0)) {
        if (w.match(line)) w.resolve(line)
        else waiters.push(w)
      }
    }
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  )
  const next = (match: (line: string) => boolean, timeoutMs = 30_000): Promise<string> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${args.holder}: no matching line after ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs)
        waiters.push({
          match,
          resolve: (l) => {
            clearTimeout(timer)
            resolve(l)
          },
        })
      })
  return {
    holder: args.holder,
    lines,
    exited,
    next,
    until: (match, timeoutMs) => {
      const seen = lines.find(match)
      return seen === undefined ? next(match, timeoutMs) : Promise.resolve(seen)
    },
    kill: (signal) => void child.kill(signal),
  }
}

/** Appends single-event commits to a few streams until stopped, as fast as `everyMs` allows. */
const backgroundWriter = (store: PostgresStore, streams: number, everyMs: number) => {
  const heads = new Map<string, number>()
  let stopping = false
  let written = 0
  const failures: string[] = []
  const commitTo = async (streamId: string): Promise<Commit | undefined> => {
    const seq = (heads.get(streamId) ?? 0) + 1
    const a: CommitAttempt = {
      tenantId: 'log',
      streamId,
      commitId: `${streamId}-${seq}`,
      commitSequence: seq,
      streamRevision: seq,
      commitStamp: new Date(),
      headers: {},
      events: [{ body: { type: 'Ticked', n: seq }, headers: {} }],
    }
    const r = await store.commit(a)
    if (E.isLeft(r)) {
      failures.push(r.left._tag)
      return undefined
    }
    heads.set(streamId, seq)
    written += 1
    return r.right
  }
  const fill = async (n: number): Promise<void> => {
    const lanes = 8
    await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
      for (let i = lane; i < n; i += lanes) await commitTo(`s${lane % streams}-${lane}`)
    }))
  }
  let done: Promise<void> = Promise.resolve()
  return {
    fill,
    start: () => {
      done = (async () => {
        let i = 0
        while (!stopping) {
          await commitTo(`live-${i++ % streams}`)
          await sleep(everyMs)
        }
      })()
    },
    stop: async () => {
      stopping = true
      await done
    },
    written: () => written,
    failures,
  }
}

const allTokens = async (store: PostgresStore): Promise<number[]> => {
  const out: number[] = []
  for await (const r of store.getFrom(0)) {
    if (E.isLeft(r)) throw new Error(r.left.message)
    out.push(r.right.checkpointToken)
  }
  return out
}

interface Handled {
  readonly holder: string
  readonly batch: number
  readonly batchFirst: number
  readonly token: number
}

const handledRows = async (pool: pg.Pool, schema: string): Promise<Handled[]> =>
  (
    await pool.query<{ holder: string; batch: number; batch_first: string; token: string }>(
      `SELECT holder, batch, batch_first, token FROM "${schema}".handled ORDER BY id`,
    )
  ).rows.map((r) => ({ holder: r.holder, batch: r.batch, batchFirst: Number(r.batch_first), token: Number(r.token) }))

/** A fresh schema with the store's tables, the handlers' log, and a trigger that logs every lease row write. */
const prepare = async (pool: pg.Pool, schema: string): Promise<PostgresStore> => {
  const store = postgresStore({ connectionString: pgUrl, schema, poolSize: 4, readWaitMs: 5_000 })
  const init = await store.initialize()
  if (E.isLeft(init)) throw new Error(init.left.message)
  await pool.query(`CREATE TABLE "${schema}".handled (
    id bigserial PRIMARY KEY, holder text NOT NULL, batch integer NOT NULL, batch_first bigint NOT NULL, token bigint NOT NULL)`)
  await pool.query(`CREATE TABLE "${schema}".lease_log (
    id bigserial PRIMARY KEY, holder text NOT NULL, epoch bigint NOT NULL, released boolean NOT NULL, position bigint,
    at_ms double precision NOT NULL DEFAULT extract(epoch FROM clock_timestamp()) * 1000)`)
  await pool.query(`CREATE FUNCTION "${schema}".log_lease() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO "${schema}".lease_log (holder, epoch, released, position)
      VALUES (NEW.holder, NEW.epoch, NEW.released, (NEW.checkpoint -> 'positions' ->> '0')::bigint);
      RETURN NEW;
    END $$`)
  await pool.query(`CREATE TRIGGER log_lease AFTER INSERT OR UPDATE ON "${schema}".subscriptions
    FOR EACH ROW EXECUTE FUNCTION "${schema}".log_lease()`)
  return store
}

interface LeaseRow {
  readonly id: number
  readonly holder: string
  readonly epoch: number
  readonly released: boolean
  readonly position: number | null
  readonly atMs: number
}

const leaseLog = async (pool: pg.Pool, schema: string): Promise<LeaseRow[]> =>
  (
    await pool.query<{ id: string; holder: string; epoch: string; released: boolean; position: string | null; at_ms: number }>(
      `SELECT id, holder, epoch, released, position, at_ms FROM "${schema}".lease_log ORDER BY id`,
    )
  ).rows.map((r) => ({
    id: Number(r.id),
    holder: r.holder,
    epoch: Number(r.epoch),
    released: r.released,
    position: r.position === null ? null : Number(r.position),
    atMs: r.at_ms,
  }))

/** Waits until the server has noticed that every connection of `holder` (its application name) is gone. */
const gone = async (pool: pg.Pool, holder: string): Promise<void> => {
  const until = Date.now() + 15_000
  for (;;) {
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [holder])
    if (rows[0]?.n === 0) return
    if (Date.now() > until) throw new Error(`connections of ${holder} still open after 15 s`)
    await sleep(10)
  }
}

const positionOf = async (store: PostgresStore, name: string): Promise<number> => {
  const c = await store.subscriptions.checkpoint(name)
  if (E.isLeft(c)) throw new Error(c.left.message)
  return O.isSome(c.right) ? (c.right.value.positions['0'] ?? 0) : 0
}

describe.skipIf(!available)('postgres subscriptions across processes', () => {
  cleanUpAfterAll(stores)

  const kills = soak ? 50 : 5

  it(`a consumer SIGKILLed mid-batch ${kills} times while writers append loses nothing, and repeats only its unacknowledged batch`, async () => {
    const started = Date.now()
    const pool = stores.pool()
    const schema = `${stores.run}_kill`
    const store = await prepare(pool, schema)
    const writer = backgroundWriter(store, 5, 15)
    await writer.fill(2_000)
    writer.start()
    const name = 'kill-loop'
    const batchSize = 50
    const base = { url: pgUrl, schema, name, batchSize, leaseTtlMs: 1_000, handlerDelayMs: 30 } as const
    // the checkpoint each killed run left acknowledged, and the last token it had handled
    const runs: Array<{ readonly holder: string; readonly acknowledged: number }> = []
    try {
      for (let k = 1; k <= kills; k++) {
        const holder = `run-${k}-${stores.run}`.slice(0, 63)
        const w = spawnWorker({ ...base, holder, mode: 'run' })
        // when it is in the middle of its second (or later) batch
        const target = 2 + Math.floor(Math.random() * 2)
        await w.until((l) => l.startsWith('HANDLING ') && Number(l.split(' ')[1]) >= target)
        await sleep(Math.random() * 40)
        w.kill('SIGKILL')
        expect((await w.exited).signal).toBe('SIGKILL')
        await gone(pool, holder)
        runs.push({ holder, acknowledged: await positionOf(store, name) })
      }
      await writer.stop()
      // then a last run drains the log
      const last = `drain-${stores.run}`.slice(0, 63)
      const drain = spawnWorker({ ...base, holder: last, mode: 'drain' })
      await drain.until((l) => l.startsWith('CAUGHT-UP '), 60_000)
      expect((await drain.exited).code).toBe(0)
      runs.push({ holder: last, acknowledged: await positionOf(store, name) })

      const tokens = await allTokens(store)
      const handled = await handledRows(pool, schema)
      // nothing lost: every commit of the log was handled at least once, and the checkpoint reached the head
      const seen = new Set(handled.map((h) => h.token))
      expect(tokens.filter((t) => !seen.has(t))).toEqual([])
      expect(runs[runs.length - 1]?.acknowledged).toBe(tokens[tokens.length - 1])
      let repeats = 0
      for (const [i, run] of runs.entries()) {
        const mine = handled.filter((h) => h.holder === run.holder).map((h) => h.token)
        // each run handled commits once each, in token order
        for (let j = 1; j < mine.length; j++) expect(mine[j], run.holder).toBeGreaterThan(mine[j - 1] as number)
        if (i === 0) continue
        const before = runs[i - 1]?.acknowledged as number
        // a restart begins right after the checkpoint the killed run had acknowledged: nothing skipped, nothing
        // acknowledged handled again
        expect(mine[0], run.holder).toBe(tokens.find((t) => t > before))
        // and what it handled again is exactly what the killed run had handled past that checkpoint: its
        // unacknowledged batch, at most one batch of commits
        const previous = handled.filter((h) => h.holder === runs[i - 1]?.holder)
        const unacknowledged = previous.filter((h) => h.token > before)
        expect(new Set(unacknowledged.map((h) => h.batch)).size, runs[i - 1]?.holder).toBeLessThanOrEqual(1)
        expect(unacknowledged.length).toBeLessThanOrEqual(batchSize)
        const again = mine.filter((t) => previous.some((h) => h.token === t))
        expect(again).toEqual(unacknowledged.map((h) => h.token))
        repeats += again.length
      }
      expect(writer.failures).toEqual([])
      console.info(
        `postgres kill loop: ${kills} SIGKILLs mid-batch, ${tokens.length} commits (${writer.written() - 2_000} appended during the loop), ` +
          `${handled.length} handled, ${repeats} repeats (all from unacknowledged batches), none lost, ${((Date.now() - started) / 1000).toFixed(1)} s`,
      )
    } finally {
      await writer.stop()
      await store.close()
    }
  }, soak ? 600_000 : 120_000)

  it('two instances of one name: no overlapping checkpoint commits; a standby takes over a SIGKILLed holder; a holder SIGSTOPped past its lease cannot write once resumed', async () => {
    const pool = stores.pool()
    const schema = `${stores.run}_two`
    const store = await prepare(pool, schema)
    const writer = backgroundWriter(store, 5, 10)
    await writer.fill(300)
    writer.start()
    const name = 'two-instances'
    const leaseTtlMs = 1_000
    const base = { url: pgUrl, schema, name, batchSize: 20, leaseTtlMs, handlerDelayMs: 20, mode: 'run' } as const
    const workers: Worker[] = []
    const start = (holder: string) => {
      const w = spawnWorker({ ...base, holder: `${holder}-${stores.run}`.slice(0, 63) })
      workers.push(w)
      return w
    }
    const holderNow = async (): Promise<string | undefined> => {
      const l = await store.subscriptions.lease(name)
      return E.isRight(l) && O.isSome(l.right) && l.right.value.expiresAt.getTime() > Date.now() ? l.right.value.holder : undefined
    }
    const waitForHolder = async (which: (h: string) => boolean, timeoutMs = 20_000): Promise<string> => {
      const until = Date.now() + timeoutMs
      for (;;) {
        const h = await holderNow()
        if (h !== undefined && which(h)) return h
        if (Date.now() > until) throw new Error('no holder in time')
        await sleep(5)
      }
    }
    try {
      const a = start('A')
      const b = start('B')
      await Promise.all([a.until((l) => l === 'STARTED'), b.until((l) => l === 'STARTED')])
      // given one of them holding the lease and handling batches, the other a standby
      const first = await waitForHolder(() => true)
      const holder = workers.find((w) => w.holder === first) as Worker
      const standby = workers.find((w) => w !== holder) as Worker
      await holder.until((l) => l.startsWith('HANDLING 3 '))
      // when the holder is SIGKILLed mid-batch
      const killedAt = Date.now()
      holder.kill('SIGKILL')
      // then the standby takes over once the lease expires (the database dates it; the lease log records when)
      await waitForHolder((h) => h === standby.holder)
      const taken = (await leaseLog(pool, schema)).find((r) => r.holder === standby.holder && r.atMs >= killedAt - 5)
      const killTakeover = (taken?.atMs ?? Number.NaN) - killedAt
      expect(killTakeover).toBeLessThan(leaseTtlMs + 500)

      // given a new standby beside the new holder
      const c = start('C')
      await c.until((l) => l === 'STARTED')
      await standby.next((l) => l.startsWith('HANDLING '))
      // when the holder is stopped (SIGSTOP) mid-batch, past its lease
      const stoppedAt = Date.now()
      standby.kill('SIGSTOP')
      await waitForHolder((h) => h === c.holder)
      const cTook = (await leaseLog(pool, schema)).find((r) => r.holder === c.holder) as LeaseRow
      const pauseTakeover = cTook.atMs - stoppedAt
      await c.until((l) => l.startsWith('LEASE saveCheckpoint ') && l.includes(' ok '))
      // and resumed after the other took over
      const before = standby.lines.length
      standby.kill('SIGCONT')
      // then its next lease call is refused (LeaseLost), and it never wrote the lease row after the takeover
      const refused = await standby.until((l) => /^LEASE (renew|saveCheckpoint) \d+ LeaseLost/.test(l), 10_000)
      expect(standby.lines.slice(before).some((l) => / ok/.test(l) && /saveCheckpoint/.test(l))).toBe(false)
      const afterTake = (await leaseLog(pool, schema)).filter((r) => r.id > cTook.id && r.holder === standby.holder)
      expect(afterTake).toEqual([])

      // the log goes on: writers stop, the holder catches up
      await writer.stop()
      const tokens = await allTokens(store)
      const head = tokens[tokens.length - 1]
      const until = Date.now() + 30_000
      while ((await positionOf(store, name)) !== head && Date.now() < until) await sleep(20)
      expect(await positionOf(store, name)).toBe(head)
      for (const w of [a, b, c]) if (w !== holder) w.kill('SIGTERM')
      for (const w of [a, b, c]) await w.exited

      // the shared log: every checkpoint commit, in the order the database applied them, moves strictly forward,
      // under a non-decreasing epoch, over commits the writing instance itself handled
      const log = await leaseLog(pool, schema)
      const handled = await handledRows(pool, schema)
      const byHolder = new Map<string, Set<number>>()
      for (const h of handled) byHolder.set(h.holder, (byHolder.get(h.holder) ?? new Set()).add(h.token))
      let position = 0
      let epoch = 0
      let commits = 0
      for (const row of log) {
        expect(row.epoch).toBeGreaterThanOrEqual(epoch)
        epoch = row.epoch
        if (row.position === null || row.position === position) continue
        expect(row.position, `checkpoint write ${row.id} by ${row.holder}`).toBeGreaterThan(position)
        const batch = tokens.filter((t) => t > position && t <= (row.position as number))
        const mine = byHolder.get(row.holder) ?? new Set()
        expect(batch.filter((t) => !mine.has(t)), `batch (${position}, ${row.position}] by ${row.holder}`).toEqual([])
        position = row.position
        commits += 1
      }
      expect(position).toBe(head)
      expect(new Set(log.map((r) => r.holder)).size).toBeGreaterThanOrEqual(3)
      // nothing lost
      const seen = new Set(handled.map((h) => h.token))
      expect(tokens.filter((t) => !seen.has(t))).toEqual([])
      console.info(
        `postgres two instances: takeover after SIGKILL of the holder ${killTakeover.toFixed(0)} ms, after SIGSTOP ${pauseTakeover.toFixed(0)} ms ` +
          `(lease ttl ${leaseTtlMs} ms); the resumed holder got "${refused}"; ${commits} checkpoint commits by ` +
          `${new Set(log.map((r) => r.holder)).size} holders, none overlapping; ${tokens.length} commits, none lost`,
      )
    } finally {
      for (const w of workers) {
        w.kill('SIGCONT')
        w.kill('SIGKILL')
      }
      await writer.stop()
      await store.close()
    }
  }, 120_000)
})
