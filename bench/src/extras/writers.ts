/**
 * Concurrent writers on SQLite (issue 18): N writers in one process, each on its own stream, single-event
 * commits, WAL + synchronous=FULL on a file. Contenders, in interleaved rounds on fresh files:
 *   aett-group  `aett/sqlite` with `groupCommit: true`
 *   aett-off    `aett/sqlite` with `groupCommit: false` (one transaction per append)
 *   aett-1k     `aett/sqlite` with `groupCommit: true` on a file of 1 KiB pages (`filePageBytes: 1024`)
 *   raw         better-sqlite3, one commit per transaction (BEGIN IMMEDIATE, head check, insert, COMMIT)
 *   raw-1k      the same on a file of 1 KiB pages
 * Prints commits/s and p50/p99 latency (ms) per contender and writer count, each round and the median.
 *
 * Standalone, not part of `npm run bench`:
 *   cd bench && ../node_modules/.bin/tsx src/extras/writers.ts [--writers 1,8,32] [--seconds 10] [--rounds 3]
 */
import Database from 'better-sqlite3'
import * as E from 'fp-ts/lib/Either.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sqliteStore } from '../../../src/sqlite/index.js'
import { drive, fmt, printMedians, type Append, type Result } from './writerRounds.js'

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback
}
const writerCounts = arg('writers', '1,8,32').split(',').map(Number)
const seconds = Number(arg('seconds', '10'))
const rounds = Number(arg('rounds', '3'))

interface Contender {
  readonly name: string
  readonly open: (file: string) => Promise<{ readonly append: Append; readonly close: () => Promise<void> | void }>
}

const aett = (name: string, groupCommit: boolean, filePageBytes?: number): Contender => ({
  name,
  open: async (filename) => {
    const store = sqliteStore({ filename, synchronous: 'FULL', groupCommit, ...(filePageBytes === undefined ? {} : { filePageBytes }) })
    const init = await store.initialize()
    if (E.isLeft(init)) throw new Error(init.left.message)
    return {
      append: async (streamId, n) => {
        const r = await store.commit({
          tenantId: 'bench',
          streamId,
          streamRevision: n,
          commitId: `${streamId}-${n}`,
          commitSequence: n,
          commitStamp: new Date(),
          headers: {},
          events: [{ headers: {}, body: { type: 'Incremented', n } }],
        })
        if (E.isLeft(r)) throw new Error(`${streamId}-${n}: ${r.left._tag}`)
      },
      close: async () => void (await store.close()),
    }
  },
})

const raw = (name: string, pageBytes?: number): Contender => ({
  name,
  open: async (filename) => {
    const db = new Database(filename)
    if (pageBytes !== undefined) db.pragma(`page_size = ${pageBytes}`)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.exec(`CREATE TABLE commits (checkpoint INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, commit_sequence INTEGER NOT NULL,
      commit_id TEXT NOT NULL, commit_stamp INTEGER NOT NULL, payload TEXT NOT NULL, UNIQUE (stream_id, commit_sequence))`)
    const head = db.prepare('SELECT max(commit_sequence) AS s FROM commits WHERE stream_id = ?')
    const insert = db.prepare('INSERT INTO commits (stream_id, commit_sequence, commit_id, commit_stamp, payload) VALUES (?, ?, ?, ?, ?)')
    return {
      append: async (streamId, n) => {
        // The same shape of call as the store's: asynchronous to the caller, synchronous in the driver.
        await Promise.resolve()
        db.exec('BEGIN IMMEDIATE')
        try {
          const h = (head.get(streamId) as { s: number | null }).s ?? 0
          if (h !== n - 1) throw new Error(`conflict on ${streamId}`)
          insert.run(streamId, n, `${streamId}-${n}`, Date.now(), JSON.stringify({ headers: {}, events: [{ headers: {}, body: { type: 'Incremented', n } }] }))
          db.exec('COMMIT')
        } catch (e) {
          if (db.inTransaction) db.exec('ROLLBACK')
          throw e
        }
      },
      close: () => void db.close(),
    }
  },
})

const contenders = [aett('aett-group', true), aett('aett-off', false), aett('aett-1k', true, 1024), raw('raw'), raw('raw-1k', 1024)]

const run = async (c: Contender, writers: number, dir: string, round: number): Promise<Result> => {
  const { append, close } = await c.open(join(dir, `${c.name}-${writers}-${round}.db`))
  return drive(append, close, writers, seconds)
}

const main = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aett-writers-'))
  console.log(`SQLite WAL+FULL, writers ${writerCounts.join('/')}, ${seconds} s per run, ${rounds} interleaved rounds, dir ${dir}`)
  const results = new Map<string, Result[]>()
  try {
    for (let round = 0; round < rounds; round++)
      for (const writers of writerCounts)
        for (let k = 0; k < contenders.length; k++) {
          // Rotate the order each round so that no contender always runs first (or on a warmer disk).
          const c = contenders[(k + round) % contenders.length] as Contender
          const r = await run(c, writers, dir, round)
          const key = `${String(writers).padStart(2)} writers  ${c.name.padEnd(10)}`
          results.set(key, [...(results.get(key) ?? []), r])
          console.log(`round ${round + 1}  ${key}  ${fmt(r)}`)
        }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  printMedians(results)
}

await main()
