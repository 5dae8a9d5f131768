/**
 * `npm run bench:memory` (in bench/): the peak memory of loading one long stream (issue 17), for the decider
 * repository's load and, on SQLite, for better-sqlite3 iterating the same rows by hand.
 *
 * The parent writes one stream per size (commits of `--per-commit` events) into fresh tables, then measures each
 * load in a child process of its own, so that no heap carries garbage or compiled code from another measurement.
 * A child opens the store, collects garbage (`--expose-gc`), takes `process.memoryUsage()` as its baseline, then
 * loads and folds the stream into a counter while sampling heapUsed and rss: every `SAMPLE_EVERY` folded events
 * (a synchronous store never yields to a timer) and every 2 ms (an asynchronous one waits on the network between
 * pages). It prints the peaks above the baseline, the kernel's own peak rss, and the elapsed time. One more child
 * per row forces a full collection `LIVE_PROBES` times during the load (every events / `LIVE_PROBES` folded
 * events, the same count for every length) and keeps the largest heap left: what the load really holds, as
 * opposed to garbage the collector has not yet been asked to free (its time is not kept).
 *
 *   --events a,b    stream lengths (default 100000,1000000)
 *   --per-commit N  events per commit (default 100)
 *   --stores a,b    sqlite,postgres,mysql (default all; an unreachable server is reported and skipped)
 *   --rounds N      child processes per measurement (default 3)
 *   --page-size N   the store's pageSize (commits per read) in the measured children; the store's default if absent
 *   --heap-limit M  run each child with --max-old-space-size=M (MiB): a load that still finishes is bounded by it
 *   --json          print the rows as JSON instead of Markdown
 */
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import Database from 'better-sqlite3'
import { deciderRepository } from '../../../src/domain/deciderRepository.js'
import type { CommitAttempt } from '../../../src/eventstore/Commit.js'
import type { Persistence } from '../../../src/eventstore/ports.js'
import { mysqlStore } from '../../../src/mysql/index.js'
import { postgresStore } from '../../../src/postgres/index.js'
import { sqliteStore } from '../../../src/sqlite/index.js'
import type { SubscribableStore } from '../../../src/subscriptions/index.js'
import { orThrow } from '../aett/contenders.js'
import { accountDecider, depositMessage, evolveAccount, initialAccount, TENANT, topics, type Account } from '../domain.js'
import { foldPayload } from '../raw/commitRows.js'
import { uniqueName } from '../suites/common.js'
import { mysqlUrl } from '../suites/mysql.js'
import { pgUrl } from '../suites/postgres.js'
import { backend, type BackendId } from './backends.js'
import { median } from './common.js'

/** Folded events between two synchronous samples: often enough to see every page, cheap enough not to matter. */
const SAMPLE_EVERY = 500
/** Forced collections of the live-heap probe per load. */
const LIVE_PROBES = 20
/** The stores' default SQLite table prefix, which the raw reader reads directly. */
const SQLITE_COMMITS = 'aett_commits'

export type Contender = 'aett' | 'raw'

/** Where a child finds the tables the parent wrote. */
export type Location =
  | { readonly store: 'sqlite'; readonly filename: string }
  | { readonly store: 'postgres'; readonly schema: string }
  | { readonly store: 'mysql'; readonly tablePrefix: string }

export interface ChildSpec {
  readonly location: Location
  /** `--max-old-space-size` of the child in MiB, when the run bounds it. */
  readonly heapLimit?: number | undefined
  /** The store's `pageSize` in the child, when the run sets it. */
  readonly pageSize?: number | undefined
  readonly contender: Contender
  readonly streamId: string
  readonly events: number
  /** The live-heap probe: `LIVE_PROBES` full collections during the load, peak heap after them. */
  readonly live?: boolean
}

/** One child's measurement; bytes are above the baseline taken after a full collection. */
export interface Measurement {
  readonly peakHeap: number
  readonly peakRss: number
  /** `process.resourceUsage().maxRSS` at the end minus the baseline rss: the kernel's peak, not a sample. */
  readonly maxRss: number
  readonly baselineHeap: number
  readonly baselineRss: number
  readonly elapsedMs: number
  readonly samples: number
  /** The live-heap probe's heapUsed above the baseline after each forced collection, in order (else empty). */
  readonly series: readonly number[]
}

export interface Row {
  readonly store: BackendId
  readonly contender: Contender
  readonly via: string
  readonly events: number
  readonly rounds: readonly Measurement[]
  /** The live-heap probe's peak heap above the baseline (one child). */
  readonly liveHeap: number
  /** Its heap after each forced collection, in order. */
  readonly liveSeries: readonly number[]
}

const openStore = (l: Location, pageSize?: number): SubscribableStore => {
  const paged = pageSize === undefined ? {} : { pageSize }
  return l.store === 'sqlite'
    ? sqliteStore({ filename: l.filename, synchronous: 'NORMAL', ...paged })
    : l.store === 'postgres'
      ? postgresStore({ connectionString: pgUrl, schema: l.schema, ...paged })
      : mysqlStore({ uri: mysqlUrl, tablePrefix: l.tablePrefix, ...paged })
}

/**
 * Peak heapUsed and rss seen by `sample`, called from the fold and from a 2 ms timer; with `live`, the fold instead
 * collects every `live.every` events and samples what is left.
 */
const sampler = (live?: { readonly gc: () => void; readonly every: number }) => {
  let heap = 0
  let rss = 0
  let samples = 0
  let folded = 0
  const series: number[] = []
  const sample = (): void => {
    const m = process.memoryUsage()
    samples++
    if (live !== undefined) series.push(m.heapUsed)
    if (m.heapUsed > heap) heap = m.heapUsed
    if (m.rss > rss) rss = m.rss
  }
  return {
    sample,
    tick:
      live === undefined
        ? (): void => {
            if (++folded % SAMPLE_EVERY === 0) sample()
          }
        : (): void => {
            if (++folded % live.every === 0) (live.gc(), sample())
          },
    result: () => ({ heap, rss, samples, series }),
  }
}

/** The measured load: the decider repository, or better-sqlite3's `.iterate()` with `JSON.parse` per row. */
const prepareLoad = async (spec: ChildSpec, tick: () => void): Promise<{ run: () => Promise<Account>; close: () => Promise<void> }> => {
  if (spec.contender === 'raw') {
    if (spec.location.store !== 'sqlite') throw new Error('the raw baseline reads SQLite only')
    const db = new Database(spec.location.filename, { readonly: true })
    const rows = db.prepare(`SELECT payload FROM ${SQLITE_COMMITS} WHERE tenant_id = ? AND stream_id = ? ORDER BY commit_sequence`).pluck(true)
    const counted = { evolve: (s: Account, e: { readonly amount: number }): Account => (tick(), evolveAccount(s, e)) }
    return {
      run: async () => {
        let s = initialAccount
        for (const payload of rows.iterate(TENANT, spec.streamId) as IterableIterator<string>) s = foldPayload(s, payload, counted.evolve)
        return s
      },
      close: async () => void db.close(),
    }
  }
  const store = openStore(spec.location, spec.pageSize)
  orThrow('initialize', await store.initialize())
  const decider = { ...accountDecider, evolve: (s: Account, e: { readonly amount: number }): Account => (tick(), evolveAccount(s, e)) }
  const repo = deciderRepository({ decider, topics, store, tenantId: TENANT })
  return { run: async () => orThrow('load', await repo.load(spec.streamId)()).state, close: () => store.close() }
}

/** Runs in the child: baseline, load while sampling, print one JSON line. */
const child = async (spec: ChildSpec): Promise<void> => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('the child needs --expose-gc')
  const s = sampler(spec.live === true ? { gc, every: Math.max(1, Math.floor(spec.events / LIVE_PROBES)) } : undefined)
  const load = await prepareLoad(spec, s.tick)
  gc()
  gc()
  const base = process.memoryUsage()
  const timer = spec.live === true ? undefined : setInterval(s.sample, 2)
  const started = performance.now()
  const state = await load.run()
  const elapsedMs = performance.now() - started
  clearInterval(timer)
  // The live probe's peaks are its collections' only: a sample now would count the garbage since the last one.
  if (spec.live !== true) s.sample()
  const maxRss = process.resourceUsage().maxRSS * 1024
  await load.close()
  if (state.deposits !== spec.events) throw new Error(`${spec.contender} folded ${state.deposits} events, expected ${spec.events}`)
  const peaks = s.result()
  const m: Measurement = {
    peakHeap: peaks.heap - base.heapUsed,
    peakRss: peaks.rss - base.rss,
    maxRss: maxRss - base.rss,
    baselineHeap: base.heapUsed,
    baselineRss: base.rss,
    elapsedMs,
    samples: peaks.samples,
    series: peaks.series.map((h) => h - base.heapUsed),
  }
  process.stdout.write(`${JSON.stringify(m)}\n`)
}

const run = promisify(execFile)

/** A fresh process with the parent's loader flags (tsx), so that heaps never mix between measurements. */
const measure = async (spec: ChildSpec): Promise<Measurement> => {
  const limit = spec.heapLimit === undefined ? [] : [`--max-old-space-size=${spec.heapLimit}`]
  const args = [...process.execArgv, '--expose-gc', ...limit, fileURLToPath(import.meta.url), '--child', JSON.stringify(spec)]
  const { stdout } = await run(process.execPath, args, { maxBuffer: 1 << 20 })
  const last = stdout.trim().split('\n').pop() ?? ''
  return JSON.parse(last) as Measurement
}

/** Commits of `perCommit` deposits each, written one after another (one stream cannot be written in parallel). */
export const writeStream = async (store: Persistence, streamId: string, events: number, perCommit: number): Promise<void> => {
  for (let seq = 1, written = 0; written < events; seq++) {
    const count = Math.min(perCommit, events - written)
    const attempt: CommitAttempt = {
      tenantId: TENANT,
      streamId,
      streamRevision: written + count,
      commitId: randomUUID(),
      commitSequence: seq,
      commitStamp: new Date(),
      headers: {},
      events: Array.from({ length: count }, (_, i) => depositMessage(streamId, written + i + 1)),
    }
    orThrow('write', await store.commit(attempt))
    written += count
  }
}

/** Fresh tables for one store, the store object that wrote them, and how to drop them. */
const freshTables = async (id: BackendId): Promise<{ location: Location; store: SubscribableStore; drop: () => Promise<void> }> => {
  if (id === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'aett-memory-'))
    const location: Location = { store: 'sqlite', filename: join(dir, 'memory.db') }
    const store = openStore(location)
    orThrow('initialize sqlite', await store.initialize())
    return { location, store, drop: async () => void (await store.close(), rmSync(dir, { recursive: true, force: true })) }
  }
  const location: Location = id === 'postgres' ? { store: 'postgres', schema: uniqueName('aett_mem') } : { store: 'mysql', tablePrefix: uniqueName('am') }
  const store = location.store === 'postgres' ? postgresStore({ connectionString: pgUrl, schema: location.schema }) : mysqlStore({ uri: mysqlUrl, tablePrefix: location.tablePrefix })
  orThrow(`initialize ${id}`, await store.initialize())
  return {
    location,
    store,
    drop: async () => {
      const dropped = await store.drop()
      await store.close()
      orThrow(`drop ${id} tables`, dropped)
    },
  }
}

export interface RunOptions {
  readonly stores: readonly BackendId[]
  readonly sizes: readonly number[]
  readonly perCommit: number
  readonly rounds: number
  readonly heapLimit?: number | undefined
  readonly pageSize?: number | undefined
  readonly log: (line: string) => void
}

export interface StoreResult {
  readonly store: BackendId
  readonly skipped?: string
  readonly writeMs?: number
  readonly rows: readonly Row[]
}

export const runLoadMemory = async (o: RunOptions): Promise<StoreResult[]> => {
  const results: StoreResult[] = []
  for (const id of o.stores) {
    const why = await backend(id).probe()
    if (why !== undefined) {
      o.log(`${id}: skipped, ${why}`)
      results.push({ store: id, skipped: why, rows: [] })
      continue
    }
    const tables = await freshTables(id)
    const rows: Row[] = []
    let writeMs = 0
    try {
      const started = performance.now()
      for (const events of o.sizes) await writeStream(tables.store, `mem-${events}`, events, o.perCommit)
      writeMs = performance.now() - started
      o.log(`${id}: wrote ${o.sizes.join(' + ')} events in ${(writeMs / 1000).toFixed(1)} s`)
      const contenders: Contender[] = id === 'sqlite' ? ['aett', 'raw'] : ['aett']
      for (const events of o.sizes) {
        for (const contender of contenders) {
          const measured: Measurement[] = []
          for (let r = 0; r < o.rounds; r++)
            measured.push(await measure({ location: tables.location, contender, streamId: `mem-${events}`, events, heapLimit: o.heapLimit, pageSize: o.pageSize }))
          const live = await measure({ location: tables.location, contender, streamId: `mem-${events}`, events, heapLimit: o.heapLimit, pageSize: o.pageSize, live: true })
          const via = contender === 'aett' ? 'deciderRepository.load' : 'better-sqlite3 .iterate(), JSON.parse per row'
          rows.push({ store: id, contender, via, events, rounds: measured, liveHeap: live.peakHeap, liveSeries: live.series })
          o.log(`${id} ${contender} ${events}: peak heap ${mib(median(measured.map((m) => m.peakHeap)))} MiB, live ${mib(live.peakHeap)} MiB`)
        }
      }
    } finally {
      await tables.drop()
    }
    results.push({ store: id, writeMs, rows })
  }
  return results
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1)

/** Median and the range over rounds, in MiB (or ms). */
const spread = (values: readonly number[], unit: (v: number) => string): string =>
  `${unit(median(values))} (${unit(Math.min(...values))}–${unit(Math.max(...values))})`

export const loadMemoryMarkdown = (results: readonly StoreResult[], perCommit: number): string => {
  const lines = [
    `Peak memory above a post-GC baseline while loading one stream (${perCommit} events per commit) into a counter; median (min–max) over child processes.`,
    '',
    `The live heap is the largest heapUsed left after a forced full collection, ${LIVE_PROBES} times during the load (one more child).`,
    '',
    '| store | contender | events | peak heapUsed MiB | live heap MiB | peak rss MiB (sampled) | peak rss MiB (kernel maxRSS) | load ms |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ]
  for (const r of results) {
    if (r.skipped !== undefined) {
      lines.push(`| ${r.store} | skipped: ${r.skipped} | | | | | | |`)
      continue
    }
    for (const row of r.rows) {
      const m = row.rounds
      lines.push(
        `| ${row.store} | ${row.contender} (${row.via}) | ${row.events} | ${spread(m.map((x) => x.peakHeap), mib)} | ${mib(row.liveHeap)} | ${spread(m.map((x) => x.peakRss), mib)} | ${spread(m.map((x) => x.maxRss), mib)} | ${spread(m.map((x) => x.elapsedMs), (v) => v.toFixed(0))} |`,
      )
    }
  }
  return lines.join('\n')
}

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      events: { type: 'string', default: '100000,1000000' },
      'per-commit': { type: 'string', default: '100' },
      stores: { type: 'string', default: 'sqlite,postgres,mysql' },
      rounds: { type: 'string', default: '3' },
      'heap-limit': { type: 'string' },
      'page-size': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  })
  if (values.child !== undefined) return child(JSON.parse(values.child) as ChildSpec)
  const whole = (flag: string, v: string): number => {
    const n = Number(v)
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${flag} must be a whole number ≥ 1, got ${v}`)
    return n
  }
  const sizes = values.events.split(',').map((v) => whole('events', v.trim()))
  const perCommit = whole('per-commit', values['per-commit'])
  const rounds = whole('rounds', values.rounds)
  const stores = values.stores.split(',').map((s) => s.trim()) as BackendId[]
  for (const s of stores) if (s !== 'sqlite' && s !== 'postgres' && s !== 'mysql') throw new Error(`unknown store ${s}`)
  const heapLimit = values['heap-limit'] === undefined ? undefined : whole('heap-limit', values['heap-limit'])
  const pageSize = values['page-size'] === undefined ? undefined : whole('page-size', values['page-size'])
  const results = await runLoadMemory({ stores, sizes, perCommit, rounds, heapLimit, pageSize, log: (l) => process.stderr.write(`${l}\n`) })
  process.stdout.write(values.json ? `${JSON.stringify(results)}\n` : `${loadMemoryMarkdown(results, perCommit)}\n`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
      process.exit(1)
    },
  )
}
