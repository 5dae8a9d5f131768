import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { sqliteStore, type SqliteStore } from 'aett/sqlite'
import { commitIdFrom, everything, expectedCommands, streamOf, tick } from './support.js'

// The dispatcher process is killed (SIGKILL) mid-delivery, again and again, on a SQLite file; each restart is a
// new instance that takes the lease over once the dead one's expires. Every command must end up handled exactly
// once in effect (its target stream holds one commit per key) and in its saga's order.

const soak = process.env['AETT_SOAK'] === '1'
// In the normal suite: at least 5 kills, more (up to 10) while the loop has used less than 20 s; 50 under AETT_SOAK=1.
const minKills = soak ? 50 : 5
const maxKills = soak ? 50 : 10
const budgetMs = 20_000
const sagas = 6
const root = fileURLToPath(new URL('../..', import.meta.url))
const worker = fileURLToPath(new URL('./dispatchWorker.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'aett-sagas-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const settings = { batchSize: 4, leaseTtlMs: 300, pauseMs: 3 }

/** A deterministic pseudo-random sequence (the test's shape should not change from run to run). */
const random = (seed: number) => () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
  return seed / 2 ** 31
}

interface Run {
  readonly child: ChildProcess
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>
  /** Resolves once `count` commands were begun (or the process exited first). */
  readonly begun: (count: number) => Promise<void>
}

const start = (filename: string, holder: string, extra: Record<string, unknown> = {}): Run => {
  const child = spawn(process.execPath, ['--import', 'tsx', worker, filename, 'dispatcher', holder, JSON.stringify({ ...settings, ...extra })], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  let begins = 0
  const waiting: Array<{ count: number; resolve: () => void }> = []
  child.stdout?.on('data', (chunk: Buffer) => {
    const text = chunk.toString()
    stdout += text
    begins += text.split('\n').filter((l) => l.startsWith('b ')).length
    for (const w of waiting.filter((w) => begins >= w.count)) w.resolve()
  })
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => {
      for (const w of waiting) w.resolve()
      resolve({ code, signal, stdout, stderr })
    }),
  )
  const begun = (count: number) =>
    new Promise<void>((resolve) => {
      if (begins >= count || child.exitCode !== null) return resolve()
      waiting.push({ count, resolve })
    })
  return { child, exited, begun }
}

describe('the dispatcher killed mid-delivery (SQLite file, separate processes)', () => {
  it(`handles every command exactly once in effect, in each saga's order, across ${minKills}+ SIGKILLs`, { timeout: soak ? 600_000 : 90_000 }, async () => {
    const started = performance.now()
    // given: sagas whose commits carry 1 to 3 commands each, interleaved; sagas 2k and 2k+1 share their commit ids
    const filename = join(dir, 'kill.db')
    const seed: SqliteStore = sqliteStore({ filename, synchronous: 'NORMAL' })
    if ((await seed.initialize())._tag === 'Left') throw new Error('initialize')
    const rand = random(14)
    const perSaga = soak ? 80 : 20
    const ticks = new Array(sagas).fill(0)
    for (let made = 0; made < sagas * perSaga; made++) {
      const s = Math.floor(rand() * sagas)
      const n = (ticks[s] ?? 0) + 1
      if (n > perSaga) continue
      ticks[s] = n
      const shared = commitIdFrom(`pair ${Math.floor(s / 2)} tick ${n}`)
      await tick(seed, `saga-${s}`, n, 1 + Math.floor(rand() * 3), `t-${s}`, shared)
    }
    const commands = expectedCommands(await everything(seed))
    await seed.close()

    // when: a dispatcher is started and killed after a random number of commands begun, again and again
    let redelivered = 0
    let killedMidCommand = 0
    let kills = 0
    const loopStarted = performance.now()
    for (let i = 0; i < maxKills && (i < minKills || performance.now() - loopStarted < budgetMs); i++) {
      kills += 1
      const run = start(filename, `killed-${i}`)
      await Promise.race([run.begun(1 + Math.floor(rand() * 10)), new Promise((r) => setTimeout(r, 5_000))])
      run.child.kill('SIGKILL')
      const { signal, stdout, stderr } = await run.exited
      expect(signal, stderr).toBe('SIGKILL')
      const lines = stdout.trim().split('\n')
      if (lines.at(-1)?.startsWith('b ')) killedMidCommand += 1
      redelivered += lines.filter((l) => l.endsWith(' AlreadyCommitted')).length
    }
    // and finally one runs until it has caught up
    const last = start(filename, 'last', { exitWhenCaughtUp: true, pauseMs: 0 })
    const finished = await last.exited
    expect(finished.code, finished.stderr).toBe(0)
    redelivered += finished.stdout.split('\n').filter((l) => l.endsWith(' AlreadyCommitted')).length

    // then: each saga's target stream holds one commit per command, under its key, in the saga's order
    const check = sqliteStore({ filename })
    for (let s = 0; s < sagas; s++) {
      const expected = commands.filter((c) => c.body.saga === `saga-${s}`)
      const stored = await streamOf(check, `t-${s}`)
      expect(stored.map((c) => c.commitId)).toEqual(expected.map((c) => commitIdFrom(c.key)))
      expect(stored.map((c) => (c.events[0]?.body as { n: number; i: number } | undefined) ?? null).map((b) => [b?.n, b?.i])).toEqual(expected.map((c) => [c.body.n, c.body.i]))
    }
    await check.close()
    // and the kills did land mid-delivery: some commands were begun and not finished, some were handled again
    expect(killedMidCommand + redelivered).toBeGreaterThan(0)
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    console.info(`sagas kill loop: ${kills} SIGKILLs, ${commands.length} commands, ${killedMidCommand} killed inside a command, ${redelivered} redelivered (AlreadyCommitted), ${seconds} s`)
  })
})
