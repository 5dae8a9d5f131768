/**
 * A writer process of the torture suite (`node --import tsx test/postgres/tortureWriter.ts <json>`).
 *
 * Mode `write`: `connections` loops append for `durationMs` to a few hot and many cold streams through the store,
 * retrying conflicts; about one in eight appends instead goes through a raw transaction that runs the store's own
 * append statement, stays open for a while and then commits or rolls back. Prints one JSON line with what was
 * acknowledged, what was rolled back, and the counts.
 *
 * Mode `kill`: appends large commits in a loop and, in parallel, holds a raw append open; prints `HOLDING <id>`
 * so that the parent can SIGKILL it mid-append.
 */
import { randomUUID } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import pg from 'pg'
import type { CommitAttempt, EventMessage } from '../../src/eventstore/index.js'
import { defaultTables } from '../../src/postgres/config.js'
import { postgresStore } from '../../src/postgres/index.js'
import { appendParams } from '../../src/postgres/rows.js'
import { names } from '../../src/postgres/schema.js'
import { statements } from '../../src/postgres/statements.js'

export interface WriterArgs {
  readonly mode: 'write' | 'kill'
  readonly url: string
  readonly schema: string
  readonly tenantId: string
  readonly worker: number
  readonly connections: number
  readonly durationMs: number
  readonly hotStreams: number
  readonly coldStreams: number
  readonly applicationName: string
}

export interface Ack {
  readonly streamId: string
  readonly commitId: string
  readonly commitSequence: number
  readonly streamRevision: number
  readonly checkpointToken: number
}

export interface WriterReport {
  readonly worker: number
  readonly acked: readonly Ack[]
  readonly rolledBack: readonly string[]
  readonly conflicts: number
  readonly retries: number
  readonly held: number
  readonly failures: readonly string[]
  readonly elapsedMs: number
}

const args = JSON.parse(process.argv[2] ?? '{}') as WriterArgs
const began = Date.now()
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
const pick = <A>(xs: readonly A[]): A => xs[Math.floor(Math.random() * xs.length)] as A

// Commits need not wait for the disk here: visibility, ordering and atomicity are what is tested, and more
// commits per second mean more interleavings.
const pool = new pg.Pool({
  connectionString: args.url,
  max: args.connections,
  application_name: args.applicationName,
  options: '-c synchronous_commit=off',
})
pool.on('error', () => undefined)
const store = postgresStore({ pool, schema: args.schema, readWaitMs: 0 })
const sql = statements(names({ schema: args.schema, tables: defaultTables }))

interface Head {
  commitSequence: number
  streamRevision: number
}
const heads = new Map<string, Head>()

const events = (n: number, size: number): EventMessage[] =>
  Array.from({ length: n }, (_, i) => ({
    body: { type: 'Tortured', worker: args.worker, i, pad: 'x'.repeat(size) },
    headers: { 'event.index': i },
  }))

const attemptFor = (streamId: string, n: number, size = 16): CommitAttempt => {
  const head = heads.get(streamId) ?? { commitSequence: 0, streamRevision: 0 }
  return {
    tenantId: args.tenantId,
    streamId,
    commitId: randomUUID(),
    commitSequence: head.commitSequence + 1,
    streamRevision: head.streamRevision + n,
    commitStamp: new Date(),
    headers: { worker: args.worker },
    events: events(n, size),
  }
}

/** Catches up with a stream after a conflict, from the store itself. */
const refresh = async (streamId: string): Promise<void> => {
  let last: Head | undefined
  for await (const r of store.get(args.tenantId, streamId, { minRevision: (heads.get(streamId)?.streamRevision ?? 0) + 1 })) {
    if (E.isLeft(r)) return
    last = r.right
  }
  if (last !== undefined) heads.set(streamId, { commitSequence: last.commitSequence, streamRevision: last.streamRevision })
}

const acked: Ack[] = []
const rolledBack: string[] = []
const failures: string[] = []
let conflicts = 0
let retries = 0
let held = 0

const ack = (a: CommitAttempt, checkpointToken: number): void => {
  acked.push({ streamId: a.streamId, commitId: a.commitId, commitSequence: a.commitSequence, streamRevision: a.streamRevision, checkpointToken })
  const known = heads.get(a.streamId)
  if (known === undefined || known.commitSequence < a.commitSequence) {
    heads.set(a.streamId, { commitSequence: a.commitSequence, streamRevision: a.streamRevision })
  }
}

/** Appends through the store, retrying conflicts with a fresh attempt (at most 20 times, and not past `until`). */
const viaStore = async (streamId: string, until: number): Promise<void> => {
  for (let attempt = 0; attempt < 20 && (attempt === 0 || Date.now() < until); attempt++) {
    if (attempt > 0) retries++
    const a = attemptFor(streamId, 1 + Math.floor(Math.random() * 3))
    const r = await store.commit(a)
    if (E.isRight(r)) return ack(a, r.right.checkpointToken)
    switch (r.left._tag) {
      case 'ConcurrencyConflict': {
        conflicts++
        const last = r.left.missed[r.left.missed.length - 1]
        if (last !== undefined) heads.set(streamId, { commitSequence: last.commitSequence, streamRevision: last.streamRevision })
        else await refresh(streamId)
        break
      }
      case 'InvalidAttempt':
        // a head learnt from a raw transaction that later rolled back: read the real one
        await refresh(streamId)
        break
      default:
        failures.push(`${r.left._tag}: ${JSON.stringify(r.left).slice(0, 300)}`)
        return
    }
  }
}

/** Appends in a raw transaction that stays open 20-150 ms, then commits (3 in 4) or rolls back. */
const viaHeldTransaction = async (streamId: string): Promise<void> => {
  const a = attemptFor(streamId, 1 + Math.floor(Math.random() * 2))
  let collided = false
  // The client goes back to the pool before any catching up: the loops share a pool of `connections` clients,
  // and a loop that held one while waiting for another could starve them all.
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const row = (await client.query({ text: sql.append.text, values: appendParams(a) })).rows[0] as { checkpoint_token: string | null }
    if (row.checkpoint_token === null) {
      await client.query('ROLLBACK')
      collided = true
    } else {
      held++
      await sleep(20 + Math.random() * 130)
      if (Math.random() < 0.75) {
        await client.query('COMMIT')
        ack(a, Number(row.checkpoint_token))
      } else {
        await client.query('ROLLBACK')
        rolledBack.push(a.commitId)
      }
    }
  } catch (cause) {
    await client.query('ROLLBACK').catch(() => undefined)
    if ((cause as { code?: string }).code === '23505') collided = true
    else failures.push(`raw: ${String(cause)}`)
  } finally {
    client.release()
  }
  if (collided) {
    conflicts++
    await refresh(streamId)
  }
}

const write = async (): Promise<void> => {
  const hot = Array.from({ length: args.hotStreams }, (_, i) => `hot-${i}`)
  const cold = Array.from({ length: args.coldStreams }, (_, i) => `cold-${i}`)
  const until = Date.now() + args.durationMs
  await Promise.all(
    Array.from({ length: args.connections }, async () => {
      while (Date.now() < until) {
        const streamId = Math.random() < 0.5 ? pick(hot) : pick(cold)
        if (Math.random() < 0.125) await viaHeldTransaction(streamId)
        else await viaStore(streamId, until)
      }
    }),
  )
  const report: WriterReport = { worker: args.worker, acked, rolledBack, conflicts, retries, held, failures, elapsedMs: Date.now() - began }
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

const kill = async (): Promise<void> => {
  // Large commits keep a statement in flight most of the time, so the SIGKILL lands mid-append.
  const streams = Array.from({ length: 4 }, (_, i) => `big-${i}`)
  const appends = Promise.all(
    streams.map(async (streamId) => {
      for (;;) {
        const a = attemptFor(streamId, 50, 2000)
        const r = await store.commit(a)
        if (E.isRight(r)) ack(a, r.right.checkpointToken)
        else await refresh(streamId)
      }
    }),
  )
  await sleep(300)
  const client = await pool.connect()
  const a = attemptFor('held', 3)
  await client.query('BEGIN')
  await client.query({ text: sql.append.text, values: appendParams(a) })
  process.stdout.write(`HOLDING ${a.commitId}\n`)
  await appends
}

await (args.mode === 'kill' ? kill() : write())
await pool.end()
