import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import type { Commit } from '../../src/eventstore/index.js'
import { postgresStore } from '../../src/postgres/index.js'
import { pgUrl, uniqueName } from '../support/services.js'
import { cleanUpAfterAll, pgAvailable, pgStores, testPool } from './support.js'
import type { WriterArgs, WriterReport } from './tortureWriter.js'

const available = await pgAvailable()
const stores = pgStores('aett_torture')
const root = fileURLToPath(new URL('../..', import.meta.url))
const writerFile = fileURLToPath(new URL('./tortureWriter.ts', import.meta.url))

const processes = 4
const connectionsPerProcess = 4
const durationMs = 5000

interface Child {
  readonly lines: AsyncIterable<string>
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>
  kill(signal: NodeJS.Signals): void
}

const spawnWriter = (args: WriterArgs): Child => {
  const child = spawn(process.execPath, ['--import', 'tsx', writerFile, JSON.stringify(args)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  )
  async function* lines(): AsyncGenerator<string> {
    let buffer = ''
    for await (const chunk of child.stdout.setEncoding('utf8')) {
      buffer += chunk as string
      let nl
      while ((nl = buffer.indexOf('\n')) >= 0) {
        yield buffer.slice(0, nl)
        buffer = buffer.slice(nl + 1)
      }
    }
    if (buffer.length > 0) yield buffer
  }
  return { lines: lines(), exited, kill: (signal) => child.kill(signal) }
}

/**
 * For comparison only: a reader that pages by token without the horizon, as a naive store would. It counts the
 * commits it would have skipped (a token below one it had already passed), to show that the run produced the
 * interleavings the horizon exists for.
 */
const naiveTail = (pool: pg.Pool, schema: string) => {
  let last = 0
  let stopping = false
  const seen = new Set<string>()
  const done = (async () => {
    while (!stopping) {
      const { rows } = await pool.query<{ commit_id: string; checkpoint_token: string }>(
        `SELECT commit_id, token AS checkpoint_token FROM "${schema}".commits WHERE token > $1 ORDER BY token LIMIT 500`,
        [last],
      )
      for (const r of rows) {
        seen.add(r.commit_id)
        last = Math.max(last, Number(r.checkpoint_token))
      }
      await new Promise((r) => setTimeout(r, rows.length > 0 ? 5 : 50))
    }
  })()
  return {
    /** How many of `all` it missed below the last token it had passed: those it would never read. */
    stop: async (all: ReadonlyArray<{ readonly commit_id: string; readonly checkpoint_token: string }>): Promise<number> => {
      stopping = true
      await done
      return all.filter((r) => !seen.has(r.commit_id) && Number(r.checkpoint_token) < last).length
    },
  }
}

/** Tails a store from checkpoint 0 until told to stop, recording every commit and every step backwards. */
const tail = (store: ReturnType<typeof postgresStore>) => {
  const seen: Commit[] = []
  const backwards: string[] = []
  const failures: string[] = []
  let last = 0
  let stopping = false
  const done = (async () => {
    while (!stopping) {
      const before = seen.length
      for await (const r of store.getFrom(last)) {
        if (E.isLeft(r)) {
          failures.push(r.left.message)
          break
        }
        if (r.right.checkpointToken <= last) backwards.push(`${r.right.checkpointToken} after ${last}`)
        last = Math.max(last, r.right.checkpointToken)
        seen.push(r.right)
      }
      // poll again soon after news, more slowly when idle (the machine is shared with the writers)
      await new Promise((r) => setTimeout(r, seen.length > before ? 5 : 50))
    }
  })()
  return {
    seen,
    backwards,
    failures,
    stop: async () => {
      stopping = true
      await done
    },
  }
}

describe.skipIf(!available)('postgres torture', () => {
  cleanUpAfterAll(stores)

  it(`${processes} processes x ${connectionsPerProcess} connections on hot and cold streams, held and rolled-back transactions, a tailing reader`, async () => {
    const started = Date.now()
    // given a fresh schema and a reader tailing it from checkpoint 0
    const schema = `${stores.run}_main`
    const tenantId = 'torture'
    const pool = testPool({ max: 3 })
    const store = postgresStore({ pool, schema, pageSize: 200 })
    expect(E.isRight(await store.initialize())).toBe(true)
    const reader = tail(store)
    const naive = naiveTail(pool, schema)

    // when writer processes append concurrently
    const writers = Array.from({ length: processes }, (_, worker) =>
      spawnWriter({
        mode: 'write',
        url: pgUrl,
        schema,
        tenantId,
        worker,
        connections: connectionsPerProcess,
        durationMs,
        hotStreams: 3,
        coldStreams: 200,
        applicationName: uniqueName('aett_torture_w'),
      }),
    )
    const reports: WriterReport[] = []
    const exits = await Promise.all(
      writers.map(async (w) => {
        for await (const line of w.lines) if (line.startsWith('{')) reports.push(JSON.parse(line) as WriterReport)
        return w.exited
      }),
    )
    for (const exit of exits) expect(exit.code, exit.stderr).toBe(0)
    expect(reports).toHaveLength(processes)
    const writing = Date.now() - started

    // and the reader has caught up with everything stored (the raw count does not wait for the horizon)
    const stored = await pool.query<{
      commit_id: string
      stream_id: string
      checkpoint_token: string
      commit_sequence: string
      stream_revision: string
      event_count: number
      events: unknown[]
    }>(`SELECT commit_id, stream_id, token AS checkpoint_token, commit_sequence, stream_revision, event_count, events
        FROM "${schema}".commits ORDER BY token`)
    const deadline = Date.now() + 20_000
    while (reader.seen.length < stored.rows.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    await reader.stop()
    const skippedByNaive = await naive.stop(stored.rows)

    // then nothing failed
    expect(reports.flatMap((r) => r.failures)).toEqual([])
    expect(reader.failures).toEqual([])
    // and every acknowledged commit is stored exactly once, with the token it was acknowledged with
    const acked = reports.flatMap((r) => r.acked)
    const rows = stored.rows
    expect(new Set(rows.map((r) => r.commit_id)).size).toBe(rows.length)
    const byId = new Map(rows.map((r) => [r.commit_id, r]))
    for (const a of acked) expect(Number(byId.get(a.commitId)?.checkpoint_token), a.commitId).toBe(a.checkpointToken)
    expect(rows.length).toBe(acked.length)
    // and no rolled-back commit is stored
    const rolledBack = reports.flatMap((r) => r.rolledBack)
    expect(rolledBack.filter((id) => byId.has(id))).toEqual([])
    // and every stream's sequences and revisions are gapless, each commit whole
    const streams = new Map<string, typeof rows>()
    for (const r of rows) streams.set(r.stream_id, [...(streams.get(r.stream_id) ?? []), r])
    for (const [streamId, cs] of streams) {
      cs.sort((a, b) => Number(a.commit_sequence) - Number(b.commit_sequence))
      let revision = 0
      cs.forEach((c, i) => {
        expect(Number(c.commit_sequence), streamId).toBe(i + 1)
        expect(Number(c.stream_revision) - c.event_count, streamId).toBe(revision)
        expect(c.events).toHaveLength(c.event_count)
        revision = Number(c.stream_revision)
      })
    }
    // and the reader saw every commit exactly once, in checkpoint order, never stepping back
    expect(reader.backwards).toEqual([])
    expect(reader.seen.map((c) => c.commitId)).toEqual(rows.map((r) => r.commit_id))

    const count = (k: 'conflicts' | 'retries' | 'held') => reports.reduce((n, r) => n + r[k], 0)
    console.log(
      `postgres torture: ${rows.length} commits in ${streams.size} streams, ${count('conflicts')} conflicts, ` +
        `${count('retries')} retries, ${count('held')} held transactions (${rolledBack.length} rolled back), ` +
        `reader saw ${reader.seen.length} (one without the horizon would have skipped ${skippedByNaive}), ${processes * connectionsPerProcess} writer connections, ` +
        `writers ran ${reports.map((r) => (r.elapsedMs / 1000).toFixed(1)).join('/')} s, ` +
        `${(writing / 1000).toFixed(1)} s writing, ${((Date.now() - started) / 1000).toFixed(1)} s in all`,
    )
    await store.close()
    await pool.end()
  }, 60_000)

  it('a writer killed with SIGKILL mid-append leaves no partial commit', async () => {
    // given a writer appending large commits and holding one append open in a transaction
    const schema = `${stores.run}_kill`
    const pool = testPool({ max: 2 })
    const store = postgresStore({ pool, schema })
    expect(E.isRight(await store.initialize())).toBe(true)
    const applicationName = uniqueName('aett_torture_k')
    const writer = spawnWriter({
      mode: 'kill',
      url: pgUrl,
      schema,
      tenantId: 'killed',
      worker: 99,
      connections: 6,
      durationMs: 0,
      hotStreams: 0,
      coldStreams: 0,
      applicationName,
    })
    let held: string | undefined
    for await (const line of writer.lines) {
      if (line.startsWith('HOLDING ')) {
        held = line.slice('HOLDING '.length)
        // when it is killed without a chance to clean up
        writer.kill('SIGKILL')
        break
      }
    }
    expect((await writer.exited).signal).toBe('SIGKILL')
    expect(held).toBeDefined()
    // and the server has noticed that its connections are gone
    const deadline = Date.now() + 15_000
    for (;;) {
      const { rows } = await pool.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [applicationName])
      if (rows[0]?.n === 0 || Date.now() > deadline) break
      await new Promise((r) => setTimeout(r, 20))
    }
    // then the held commit is not stored, and every stored commit is whole and in a gapless stream
    const { rows } = await pool.query<{ commit_id: string; stream_id: string; commit_sequence: string; stream_revision: string; event_count: number; events: unknown[] }>(
      `SELECT commit_id, stream_id, commit_sequence, stream_revision, event_count, events FROM "${schema}".commits
       ORDER BY stream_id, commit_sequence`,
    )
    expect(rows.some((r) => r.commit_id === held)).toBe(false)
    const last = new Map<string, { seq: number; rev: number }>()
    for (const r of rows) {
      const prev = last.get(r.stream_id) ?? { seq: 0, rev: 0 }
      expect(Number(r.commit_sequence)).toBe(prev.seq + 1)
      expect(Number(r.stream_revision) - r.event_count).toBe(prev.rev)
      expect(r.events).toHaveLength(r.event_count)
      last.set(r.stream_id, { seq: Number(r.commit_sequence), rev: Number(r.stream_revision) })
    }
    // and the stream the killed transaction was writing starts afresh
    const { rows: heldRows } = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".commits WHERE stream_id = 'held'`)
    expect(heldRows[0]?.n).toBe(0)
    console.log(`postgres torture: killed a writer holding an append open after ${rows.length} large commits; none partial`)
    await store.close()
    await pool.end()
  }, 60_000)
})
