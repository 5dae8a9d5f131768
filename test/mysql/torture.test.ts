import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Commit, Persistence } from '../../src/eventstore/index.js'
import { mysqlNames } from '../../src/mysql/schema.js'
import { mysqlUrl } from '../support/services.js'
import { freshPrefix, initializedStore, mysqlAvailable, rightOf } from './support.js'
import type { WorkerArgs, WorkerLine } from './tortureWorker.js'

const available = await mysqlAvailable()
const workerFile = fileURLToPath(new URL('./tortureWorker.ts', import.meta.url))

interface RunningWorker {
  readonly child: ChildProcess
  readonly lines: WorkerLine[]
  readonly exited: Promise<number | null>
  /** Resolves with the first line that passes `test`. */
  readonly waitFor: (test: (line: WorkerLine) => boolean) => Promise<WorkerLine>
}

const startWorker = (args: WorkerArgs): RunningWorker => {
  const child = spawn(process.execPath, ['--import', 'tsx', workerFile, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines: WorkerLine[] = []
  const waiters: { test: (l: WorkerLine) => boolean; resolve: (l: WorkerLine) => void }[] = []
  let buffer = ''
  child.stdout?.setEncoding('utf8')
  child.stdout?.on('data', (chunk: string) => {
    buffer += chunk
    const parts = buffer.split('\n')
    buffer = parts.pop() ?? ''
    for (const part of parts) {
      if (part.trim() === '') continue
      const line = JSON.parse(part) as WorkerLine
      lines.push(line)
      for (const w of waiters.splice(0)) {
        if (w.test(line)) w.resolve(line)
        else waiters.push(w)
      }
    }
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const waitFor = (test: (l: WorkerLine) => boolean): Promise<WorkerLine> => {
    const found = lines.find(test)
    return found !== undefined ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ test, resolve }))
  }
  return { child, lines, exited, waitFor }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Tails the global read from checkpoint 0 until told to stop and a pass finds nothing new. */
const tail = (store: Persistence, stop: () => boolean) => {
  const seen: Commit[] = []
  const problems: string[] = []
  const done = (async () => {
    let last = 0
    for (;;) {
      const finishing = stop()
      let fresh = 0
      for await (const r of store.getFrom(last)) {
        if (E.isLeft(r)) {
          problems.push(r.left.message)
          break
        }
        if (r.right.checkpointToken <= last) problems.push(`token ${r.right.checkpointToken} after ${last}`)
        last = r.right.checkpointToken
        seen.push(r.right)
        fresh += 1
      }
      if (finishing && fresh === 0) return
      await sleep(5)
    }
  })()
  return { seen, problems, done }
}

/** Every stream's sequences are 1..n and its revisions continue each other. */
const gaplessStreams = (commits: readonly Commit[]): string[] => {
  const problems: string[] = []
  const byStream = new Map<string, Commit[]>()
  for (const c of commits) byStream.set(c.streamId, [...(byStream.get(c.streamId) ?? []), c])
  for (const [stream, cs] of byStream) {
    let rev = 0
    cs.forEach((c, i) => {
      if (c.commitSequence !== i + 1) problems.push(`${stream}: sequence ${c.commitSequence} at position ${i + 1}`)
      if (c.streamRevision - c.events.length !== rev) problems.push(`${stream}: revision ${c.streamRevision} after ${rev}`)
      rev = c.streamRevision
    })
  }
  return problems
}

describe.skipIf(!available)('mysql torture', () => {
  const prefix = freshPrefix()
  const tenantId = 'torture'
  let store: Persistence
  let admin: mysql.Connection

  beforeAll(async () => {
    store = await initializedStore({ uri: mysqlUrl, tablePrefix: prefix, pageSize: 50, connectionLimit: 2 })
    admin = await mysql.createConnection(mysqlUrl)
  })

  afterAll(async () => {
    await store?.drop()
    await store?.close()
    await admin?.end()
  })

  const allCommits = async (): Promise<Commit[]> => {
    const { toArray } = await import('../../src/eventstore/reads.js')
    return rightOf(await toArray(store.getFrom(0)))
  }

  it('16+ connections in 4 processes, hot and cold streams, held and rolled-back transactions, a tailing reader', async () => {
    // given four writer processes with four pooled connections each, plus one raw connection each that holds
    // transactions open, and a reader tailing the global log from checkpoint 0
    const started = Date.now()
    const workers = Array.from({ length: 4 }, (_, worker) =>
      startWorker({ mode: 'torture', uri: mysqlUrl, prefix, tenantId, worker, loops: 4, durationMs: 8000, hotStreams: 3 }),
    )
    let writing = true
    const reader = tail(store, () => !writing)

    // when they all run to the end
    const codes = await Promise.all(workers.map((w) => w.exited))
    writing = false
    await reader.done
    const duration = Date.now() - started

    // then no process failed
    expect(codes).toEqual([0, 0, 0, 0])
    const lines = workers.flatMap((w) => w.lines)
    expect(lines.filter((l) => l.kind === 'error')).toEqual([])
    const acks = lines.flatMap((l) => (l.kind === 'ack' ? [l] : []))
    const rolledBack = new Set(lines.flatMap((l) => (l.kind === 'rolledBack' ? [l.commitId] : [])))
    const stats = lines.flatMap((l) => (l.kind === 'stats' ? [l] : []))
    const sum = (k: 'appends' | 'conflicts' | 'retries' | 'held' | 'rolledBack') => stats.reduce((n, s) => n + s[k], 0)

    // and every acknowledged commit is stored exactly once, and nothing else is (rolled-back ones never appear)
    const stored = await allCommits()
    const storedIds = stored.map((c) => c.commitId)
    expect(new Set(storedIds).size).toBe(storedIds.length)
    expect(new Set(storedIds)).toEqual(new Set(acks.map((a) => a.commitId)))
    expect(storedIds.filter((id) => rolledBack.has(id))).toEqual([])
    const tokenOf = new Map(stored.map((c) => [c.commitId, c.checkpointToken]))
    expect(acks.filter((a) => tokenOf.get(a.commitId) !== a.token)).toEqual([])

    // and streams are gapless, and so are tokens (a rolled-back append rolls the counter back with it)
    expect(gaplessStreams(stored)).toEqual([])
    expect(stored.map((c) => c.checkpointToken)).toEqual(stored.map((_, i) => i + 1))

    // and the reader saw every commit exactly once, in checkpoint order, never going back
    expect(reader.problems).toEqual([])
    expect(reader.seen.map((c) => c.commitId)).toEqual(storedIds)

    console.log(
      `mysql torture: ${stored.length} commits (${sum('appends')} through the store, ${acks.length - sum('appends')} held ` +
        `then committed), ${sum('rolledBack')} rolled back, ${sum('conflicts')} conflicts, ${sum('retries')} append ` +
        `retries, ${reader.seen.length} read by the tailing reader, ${(duration / 1000).toFixed(1)} s`,
    )
    expect(sum('appends')).toBeGreaterThan(50)
    expect(sum('conflicts')).toBeGreaterThan(0)
    expect(sum('rolledBack')).toBeGreaterThan(0)
  }, 60_000)

  it('a writer killed with SIGKILL mid-append leaves no partial commit and no held lock', async () => {
    // given a process appending large commits while a raw transaction of its holds an uncommitted commit row
    const before = (await allCommits()).length
    const victim = startWorker({ mode: 'victim', uri: mysqlUrl, prefix, tenantId, worker: 99, loops: 4, durationMs: 30_000, hotStreams: 1 })
    const holding = await victim.waitFor((l) => l.kind === 'holding')
    // (its appends now queue inside the server behind the held counter row: they are in flight when it dies)
    await sleep(50 + Math.random() * 100)

    // when it is killed without warning
    victim.child.kill('SIGKILL')
    await victim.exited

    // then the store takes appends again (the dead session's lock is gone) ...
    const next = await store.commit({
      tenantId,
      streamId: 'after-the-kill',
      streamRevision: 1,
      commitId: 'after-the-kill',
      commitSequence: 1,
      commitStamp: new Date(),
      headers: {},
      events: [{ body: { type: 'Alive' }, headers: {} }],
    })
    expect(E.isRight(next)).toBe(true)

    // ... the held commit never appears, every stored commit is whole, streams and tokens stay gapless
    const stored = await allCommits()
    expect(stored.some((c) => holding.kind === 'holding' && c.commitId === holding.commitId)).toBe(false)
    const victimCommits = stored.filter((c) => c.streamId.startsWith('cold-99-'))
    for (const c of victimCommits) {
      expect(c.events.map((e) => e.body['i'])).toEqual(c.events.map((_, i) => i))
      for (const e of c.events) expect((e.body['pad'] as string).length).toBe(200_000)
    }
    expect(gaplessStreams(stored)).toEqual([])
    expect(stored.map((c) => c.checkpointToken)).toEqual(stored.map((_, i) => i + 1))
    const [rows] = await admin.query(`SELECT value FROM ${mysqlNames(prefix).checkpoint} WHERE id = 1`)
    expect(Number((rows as { value: unknown }[])[0]?.value)).toBe(stored.length)
    const acked = victim.lines.filter((l) => l.kind === 'ack').length
    console.log(`mysql SIGKILL: ${acked} acknowledged before the kill, ${victimCommits.length} stored whole, ${stored.length - before} new in all`)
    expect(victimCommits.length).toBeGreaterThanOrEqual(acked)
  }, 60_000)
})
