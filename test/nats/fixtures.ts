/**
 * What the broker suites (test/nats, test/rabbitmq) share: a log of events written to a store, the messages a
 * forwarder must send for it, and the checks of what a broker ended up holding.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import { messagesOf, type OutboundMessage } from '../../src/brokers/messages.js'
import type { Commit, CommitAttempt, Persistence } from '../../src/eventstore/index.js'

export const soak = process.env['AETT_SOAK'] === '1'

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export const until = async (what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000, everyMs = 10): Promise<void> => {
  const end = Date.now() + timeoutMs
  for (;;) {
    if (await condition()) return
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`)
    await sleep(everyMs)
  }
}

export const right = <A>(r: E.Either<unknown, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected a Right, got ${JSON.stringify(r.left, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`)
  return r.right
}

export const TENANT = 'brokers'

export interface LogShape {
  readonly commits: number
  readonly eventsPerCommit: number
  readonly streams: number
  /** Streams ids are `${prefix}${n}`. */
  readonly prefix?: string
}

/** Writes `commits` commits round-robin over `streams` streams, in one tenant. */
export const writeLog = async (store: Persistence, shape: LogShape): Promise<void> => {
  const sequences = new Map<string, number>()
  const stamp = new Date('2026-01-01T00:00:00.000Z')
  for (let i = 0; i < shape.commits; i++) {
    const streamId = `${shape.prefix ?? 'acc-'}${i % shape.streams}`
    const seq = (sequences.get(streamId) ?? 0) + 1
    sequences.set(streamId, seq)
    const attempt: CommitAttempt = {
      tenantId: TENANT,
      streamId,
      streamRevision: seq * shape.eventsPerCommit,
      commitId: `commit-${i}`,
      commitSequence: seq,
      commitStamp: new Date(stamp.getTime() + i),
      headers: { correlationId: `corr-${i}` },
      events: Array.from({ length: shape.eventsPerCommit }, (_, e) => ({
        body: { type: e % 2 === 0 ? 'Deposited' : 'Withdrawn', id: streamId, version: (seq - 1) * shape.eventsPerCommit + e + 1, amount: i },
        headers: {},
      })),
    }
    right(await store.commit(attempt))
  }
}

/** Every commit of the store, in token order. */
export const commitsOf = async (store: Persistence): Promise<Commit[]> => {
  const out: Commit[] = []
  for await (const r of store.getFrom(0)) out.push(right(r))
  return out
}

/** The messages a forwarder of events must send for the store's log, in token order. */
export const expectedMessages = async (store: Persistence): Promise<OutboundMessage[]> => (await commitsOf(store)).flatMap((c) => messagesOf(c, 'event'))

/** What a test reads back from a broker: a message's id, its stream and revision, and its checkpoint token. */
export interface Received {
  readonly id: string
  readonly stream: string
  readonly revision: number
  readonly token: number
}

/** The messages held more than once (every occurrence after the first). */
export const repeatsOf = (received: readonly Received[]): Received[] => {
  const seen = new Set<string>()
  const out: Received[] = []
  for (const r of received) {
    if (seen.has(r.id)) out.push(r)
    seen.add(r.id)
  }
  return out
}

/**
 * Checks what a broker holds against the log: every expected message at least once and nothing else, each stream's
 * first occurrences in revision order; answers the repeats.
 */
export const checkAll = (expected: readonly OutboundMessage[], received: readonly Received[]) => {
  const want = new Set(expected.map((m) => m.id))
  const seen = new Set<string>()
  const unknown: string[] = []
  const orderBroken: string[] = []
  const lastRevision = new Map<string, number>()
  for (const r of received) {
    if (!want.has(r.id)) unknown.push(r.id)
    if (seen.has(r.id)) continue
    seen.add(r.id)
    const last = lastRevision.get(r.stream) ?? 0
    if (r.revision <= last) orderBroken.push(`${r.stream}: revision ${r.revision} after ${last}`)
    lastRevision.set(r.stream, r.revision)
  }
  const missing = expected.filter((m) => !seen.has(m.id)).map((m) => m.id)
  return { missing, unknown, orderBroken, repeats: repeatsOf(received) }
}

// -------------------------------------------------------------------------------------
// forwarder processes
// -------------------------------------------------------------------------------------

/** A forwarder worker's log: `ready`, `save <position> <recovered> <duplicates>` after each checkpoint write, `done`. */
export interface WorkerLog {
  /** Per process run, in order: the checkpoint positions it saved. */
  readonly runs: { readonly pid: number; readonly saves: number[]; readonly recovered: number | undefined; readonly duplicates: number | undefined; readonly done: boolean }[]
}

export const readWorkerLog = (file: string): WorkerLog => {
  const runs: WorkerLog['runs'][number][] = []
  const byPid = new Map<number, { pid: number; saves: number[]; recovered: number | undefined; duplicates: number | undefined; done: boolean }>()
  let text = ''
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return { runs }
  }
  for (const line of text.split('\n')) {
    const [what, pidText, a, b, c] = line.split(' ')
    const pid = Number(pidText)
    if (what === undefined || !Number.isFinite(pid)) continue
    let run = byPid.get(pid)
    if (run === undefined) {
      run = { pid, saves: [], recovered: undefined, duplicates: undefined, done: false }
      byPid.set(pid, run)
      runs.push(run)
    }
    if (what === 'save') {
      run.saves.push(Number(a))
      run.recovered = Math.max(run.recovered ?? 0, Number(b))
      run.duplicates = Number(c)
    }
    if (what === 'recovered') run.recovered = Math.max(run.recovered ?? 0, Number(a))
    if (what === 'done') run.done = true
  }
  return { runs }
}

/** Starts a worker script (TypeScript, through tsx) and answers the child; its stderr is kept for failures. */
export const startWorker = (script: string, args: readonly string[]): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } => {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString('utf8')
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, stderr: () => err, exited }
}

/** Waits until `file` holds a line for which `test` holds (polling). */
export const untilLine = (file: string, test: (line: string) => boolean, timeoutMs = 30_000) =>
  until(
    `a line in ${file}`,
    () => {
      try {
        return readFileSync(file, 'utf8').split('\n').some(test)
      } catch {
        return false
      }
    },
    timeoutMs,
    10,
  )
