/**
 * What a SIGKILL test of batched writes needs on any store (issue 18): the child's append loop, killing it while it
 * writes, and the checks of what it left. The child continues every stream from its stored head, forever, submitting
 * one commit per stream at once (so that the store batches them), and appends `<commit id> <token>` to an ack file
 * (synchronously) after each commit is acknowledged. Commit `k` of a stream holds `1 + k % 3` events whose bodies say
 * `k` and their index, so that a whole commit can be told from a torn one.
 */
import { spawn } from 'node:child_process'
import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { expect } from 'vitest'
import type { Commit, Persistence } from '../../src/eventstore/index.js'

const fail = (what: string): never => {
  process.stderr.write(`${what}\n`)
  process.exit(1)
}

/** The child's loop; prints `ready` once it starts appending. */
export const appendForever = async (store: Persistence, streams: number, ackFile: string): Promise<never> => {
  const heads = new Map<string, { seq: number; rev: number }>()
  for await (const r of store.getFrom(0)) {
    if (E.isLeft(r)) return fail(r.left.message)
    heads.set(r.right.streamId, { seq: r.right.commitSequence, rev: r.right.streamRevision })
  }
  process.stdout.write('ready\n')
  for (;;) {
    await Promise.all(
      Array.from({ length: streams }, async (_, s) => {
        const streamId = `s${s}`
        const head = heads.get(streamId) ?? { seq: 0, rev: 0 }
        const k = head.seq + 1
        const events = 1 + (k % 3)
        const r = await store.commit({
          tenantId: 'kill',
          streamId,
          commitSequence: k,
          streamRevision: head.rev + events,
          commitId: `${streamId}-${k}`,
          commitStamp: new Date(),
          headers: {},
          events: Array.from({ length: events }, (_, i) => ({ headers: {}, body: { type: 'Happened', k, i } })),
        })
        if (E.isLeft(r)) return fail(`${streamId}-${k}: ${r.left._tag} ${'message' in r.left ? String(r.left.message) : ''}`)
        appendFileSync(ackFile, `${r.right.commitId} ${r.right.checkpointToken}\n`)
        heads.set(streamId, { seq: k, rev: r.right.streamRevision })
      }),
    )
  }
}

const root = fileURLToPath(new URL('../..', import.meta.url))

/** Starts `script` (with tsx) with `args`, lets it append for `afterMs` after it is ready, then kills it with SIGKILL. */
export const runAndKill = (script: string, args: readonly string[], afterMs: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    let killed = false
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdout.on('data', (chunk: Buffer) => {
      if (!killed && chunk.toString().includes('ready')) {
        killed = true
        setTimeout(() => child.kill('SIGKILL'), afterMs)
      }
    })
    child.on('error', reject)
    child.on('close', (_code, signal) => (signal === 'SIGKILL' ? resolve(stderr) : reject(new Error(`the child ended on its own: ${stderr}`))))
  })

/** The whole log of a store, in token order. */
/** How a store's tokens follow each other in its log. */
export type TokenShape = 'consecutive' | 'ascending'

export const wholeLog = async (store: Persistence): Promise<Commit[]> => {
  const log: Commit[] = []
  for await (const r of store.getFrom(0)) {
    if (E.isLeft(r)) throw new Error(r.left.message)
    log.push(r.right)
  }
  return log
}

/**
 * What a killed child must have left: every acknowledged commit, with the token it was acknowledged with; every
 * stored commit whole, each stream gap-free, tokens gap-free and ascending (`consecutive`: 1, 2, 3, ...; `ascending`:
 * strictly ascending, for PostgreSQL, whose tokens are transaction ids times 256 plus an ordinal).
 */
export const expectKilledLog = (log: readonly Commit[], ackFile: string, tokens: TokenShape = 'consecutive'): void => {
  const byId = new Map(log.map((c) => [c.commitId, c.checkpointToken]))
  const acks = existsSync(ackFile) ? readFileSync(ackFile, 'utf8').split('\n').filter((l) => l.length > 0) : []
  for (const line of acks) {
    const [commitId, token] = line.split(' ')
    expect(byId.get(commitId as string), `acknowledged ${commitId} lost`).toBe(Number(token))
  }
  const heads = new Map<string, { seq: number; rev: number }>()
  log.forEach((c, i) => {
    if (tokens === 'consecutive') expect(c.checkpointToken).toBe(i + 1)
    else expect(c.checkpointToken).toBeGreaterThan(log[i - 1]?.checkpointToken ?? 0)
    const head = heads.get(c.streamId) ?? { seq: 0, rev: 0 }
    const k = head.seq + 1
    expect(c.commitSequence).toBe(k)
    expect(c.commitId).toBe(`${c.streamId}-${k}`)
    expect(c.events.map((e) => e.body)).toEqual(Array.from({ length: 1 + (k % 3) }, (_, j) => ({ type: 'Happened', k, i: j })))
    expect(c.streamRevision).toBe(head.rev + 1 + (k % 3))
    heads.set(c.streamId, { seq: k, rev: c.streamRevision })
  })
}

/**
 * Kills a child appending with `args` (after a different delay each round) `kills` times over one store, and checks
 * after each kill what `reopen` reads: every acknowledged commit kept, every stored one whole (expectKilledLog), and
 * progress across rounds (each round continues from what the last one stored).
 */
export const expectSurvivesKills = async (options: {
  readonly script: string
  readonly args: readonly string[]
  readonly ackFile: string
  readonly kills: number
  readonly streams: number
  readonly reopen: () => Promise<Persistence & { readonly close: () => Promise<unknown> }>
  readonly tokens?: TokenShape
}): Promise<void> => {
  let lastStored = 0
  for (let round = 0; round < options.kills; round++) {
    await runAndKill(options.script, options.args, 30 + ((round * 37) % 200))
    const store = await options.reopen()
    const log = await wholeLog(store)
    await store.close()
    expectKilledLog(log, options.ackFile, options.tokens)
    expect(log.length).toBeGreaterThanOrEqual(lastStored)
    lastStored = log.length
  }
  expect(lastStored).toBeGreaterThan(options.kills * options.streams)
}
