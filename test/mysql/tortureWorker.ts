/**
 * A writer process for the torture suite, run as `node --import tsx test/mysql/tortureWorker.ts '<json>'`.
 * It appends through the store from several concurrent loops (each its own pooled connection) to a few hot
 * streams and many cold ones, and on a raw connection of its own keeps opening transactions that take a
 * checkpoint token exactly as the append routine does, hold it for a while, then commit or roll back. Every
 * acknowledged commit is printed as a JSON line, so that the parent can check it was stored exactly once.
 *
 * In `victim` mode it appends large commits and, once a raw transaction holds an uncommitted commit row, says
 * so and waits to be killed with SIGKILL.
 */
import { randomUUID } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import mysql from 'mysql2/promise'
import type { CommitAttempt, EventMessage } from '../../src/eventstore/index.js'
import { mysqlStore } from '../../src/mysql/index.js'
import { mysqlNames } from '../../src/mysql/schema.js'
import { appendParameters } from '../../src/mysql/rows.js'

export interface WorkerArgs {
  readonly mode: 'torture' | 'victim'
  readonly uri: string
  readonly prefix: string
  readonly tenantId: string
  readonly worker: number
  readonly loops: number
  readonly durationMs: number
  readonly hotStreams: number
}

/** One line of the worker's output. */
export type WorkerLine =
  | { readonly kind: 'ack'; readonly streamId: string; readonly commitId: string; readonly token: number }
  | { readonly kind: 'rolledBack'; readonly streamId: string; readonly commitId: string }
  | { readonly kind: 'holding'; readonly streamId: string; readonly commitId: string }
  | { readonly kind: 'error'; readonly message: string }
  | {
      readonly kind: 'stats'
      readonly appends: number
      readonly conflicts: number
      readonly retries: number
      readonly held: number
      readonly rolledBack: number
    }

const say = (line: WorkerLine): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`)
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const pick = (n: number): number => Math.floor(Math.random() * n)

const events = (n: number, bodyChars: number): EventMessage[] =>
  Array.from({ length: n }, (_, i) => ({ body: { type: 'Tortured', i, pad: 'x'.repeat(bodyChars) }, headers: { n: i } }))

const args = JSON.parse(process.argv[2] ?? '{}') as WorkerArgs
const names = mysqlNames(args.prefix)
const stats = { appends: 0, conflicts: 0, retries: 0, held: 0, rolledBack: 0 }

const store = mysqlStore({
  uri: args.uri,
  tablePrefix: args.prefix,
  connectionLimit: args.loops,
  onRetry: () => {
    stats.retries += 1
  },
})

type Head = { seq: number; rev: number }

/** Appends through the store until the deadline, rebasing on the missed commits after every conflict. */
const appendLoop = async (loop: number, deadline: number, bodyChars: number): Promise<void> => {
  const heads = new Map<string, Head>()
  let cold = 0
  while (Date.now() < deadline) {
    const hot = args.mode === 'torture' && Math.random() < 0.5
    const streamId = hot ? `hot-${pick(args.hotStreams)}` : `cold-${args.worker}-${loop}-${cold++ % 40}`
    const n = 1 + pick(3)
    const attempt = (h: Head): CommitAttempt => ({
      tenantId: args.tenantId,
      streamId,
      streamRevision: h.rev + n,
      commitId: randomUUID(),
      commitSequence: h.seq + 1,
      commitStamp: new Date(),
      headers: { worker: args.worker, loop },
      events: events(n, bodyChars),
    })
    for (;;) {
      const head = heads.get(streamId) ?? { seq: 0, rev: 0 }
      const a = attempt(head)
      const r = await store.commit(a)
      if (E.isRight(r)) {
        stats.appends += 1
        heads.set(streamId, { seq: a.commitSequence, rev: a.streamRevision })
        say({ kind: 'ack', streamId, commitId: a.commitId, token: r.right.checkpointToken })
        break
      }
      if (r.left._tag === 'ConcurrencyConflict') {
        stats.conflicts += 1
        const last = r.left.missed[r.left.missed.length - 1]
        if (last === undefined) {
          say({ kind: 'error', message: 'a conflict without missed commits' })
          return
        }
        heads.set(streamId, { seq: last.commitSequence, rev: last.streamRevision })
        continue
      }
      say({ kind: 'error', message: JSON.stringify(r.left) })
      return
    }
  }
}

const insertSql = `INSERT INTO ${names.commits} (checkpoint_token, tenant_key, stream_key, commit_key, tenant_id,
  stream_id, commit_id, commit_sequence, stream_revision, first_revision, commit_stamp, headers, events)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

/**
 * Takes a token the way the append routine does (counter row first, so its lock is held to the end) and
 * inserts a commit into the worker's own stream, then holds the transaction open before deciding its fate.
 */
const holdLoop = async (deadline: number, holdMs: () => number, pauseMs: () => number): Promise<void> => {
  const connection = await mysql.createConnection(args.uri)
  const streamId = `held-${args.worker}`
  let head: Head = { seq: 0, rev: 0 }
  try {
    while (Date.now() < deadline) {
      await sleep(pauseMs())
      const a: CommitAttempt = {
        tenantId: args.tenantId,
        streamId,
        streamRevision: head.rev + 1,
        commitId: randomUUID(),
        commitSequence: head.seq + 1,
        commitStamp: new Date(),
        headers: {},
        events: events(1, 10),
      }
      await connection.query('START TRANSACTION')
      await connection.query(`UPDATE ${names.checkpoint} SET value = value + 1 WHERE id = 1`)
      const [rows] = await connection.query(`SELECT value FROM ${names.checkpoint} WHERE id = 1`)
      const token = Number((rows as { value: unknown }[])[0]?.value)
      await connection.query(insertSql, [token, ...appendParameters(a)])
      stats.held += 1
      if (args.mode === 'victim') {
        say({ kind: 'holding', streamId, commitId: a.commitId })
        await sleep(60_000)
      }
      await sleep(holdMs())
      if (Math.random() < 0.5) {
        await connection.query('ROLLBACK')
        stats.rolledBack += 1
        say({ kind: 'rolledBack', streamId, commitId: a.commitId })
      } else {
        await connection.query('COMMIT')
        head = { seq: a.commitSequence, rev: a.streamRevision }
        say({ kind: 'ack', streamId, commitId: a.commitId, token })
      }
    }
  } finally {
    await connection.end()
  }
}

const main = async (): Promise<void> => {
  const deadline = Date.now() + args.durationMs
  const bodyChars = args.mode === 'victim' ? 200_000 : 50
  const loops = Array.from({ length: args.loops }, (_, loop) => appendLoop(loop, deadline, bodyChars))
  const hold =
    args.mode === 'victim'
      ? holdLoop(deadline, () => 0, () => 1500)
      : holdLoop(deadline, () => 10 + pick(70), () => 250 + pick(400))
  await Promise.all([...loops, hold])
  say({ kind: 'stats', ...stats })
  await store.close()
}

main().catch((cause: unknown) => {
  say({ kind: 'error', message: cause instanceof Error ? (cause.stack ?? cause.message) : String(cause) })
  process.exitCode = 1
})
