import * as E from 'fp-ts/lib/Either.js'
import type { CodecError, ReadError } from '../errors.js'
import type { Headers } from '../Json.js'
import type { CommitStore, StreamCatalog } from '../ports.js'
import type { TopicMap } from './TopicMap.js'
import { SCHEMA_HEADER } from './versioning.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** How far a history check has got, for a progress bar. */
export interface HistoryProgress {
  /** Events checked so far. */
  readonly events: number
  readonly commits: number
  /** Events in the store (or tenant), when counted first (`countTotal`); `undefined` otherwise. */
  readonly total: number | undefined
  readonly eventsPerSecond: number
  /** The checkpoint token of the last commit checked (0 before the first). */
  readonly checkpoint: number
}

export interface HistoryCheckOptions {
  /** Checks one tenant's commits only; every tenant's when absent. */
  readonly tenantId?: string
  /** Told about progress every `progressEvery` events and once at the end. A throw is ignored. */
  readonly onProgress?: (progress: HistoryProgress) => void
  /** Progress is reported every this many events (10,000 by default). */
  readonly progressEvery?: number
  /** How many failures are kept, with where they are, per stored topic (10 by default); all are counted. */
  readonly examples?: number
  /**
   * Counts the events first (from the stream heads of `listStreams`, which costs one read per stream, not per
   * event), so that progress has a `total`. On by default when the store lists streams.
   */
  readonly countTotal?: boolean
}

/** How many events of one stored schema version decoded, and how many did not. */
export interface VersionTally {
  readonly decoded: number
  readonly failed: number
}

/** One event that does not decode, and where it sits. */
export interface HistoryFailure {
  readonly tenantId: string
  readonly streamId: string
  readonly commitId: string
  readonly commitSequence: number
  readonly checkpointToken: number
  /** The event's revision in its stream. */
  readonly streamRevision: number
  /** Its position in its commit, from 0. */
  readonly eventIndex: number
  /** Its stored topic (its body's `type`). */
  readonly topic: string
  /** The schema version it was stored at, as its header says (`'1'` when there is none). */
  readonly version: string
  readonly error: CodecError
  /** The failing paths of a `DecodeError` (`BookAdded@v1/title`); empty for an `UnknownTopic`. */
  readonly paths: readonly string[]
}

/** What the check found for one stored topic. */
export interface TopicHistory {
  readonly topic: string
  /** The topic its events are read as (itself, or the topic it was renamed to); `undefined` when none is registered. */
  readonly currentTopic: string | undefined
  readonly decoded: number
  readonly failed: number
  /** Per stored schema version (`'1'`, `'2'`, ...; a header that is not a version is shown as it is stored). */
  readonly versions: Readonly<Record<string, VersionTally>>
  /** The first failures, oldest first (at most `examples`). */
  readonly examples: readonly HistoryFailure[]
}

/** What a history check found. `failed === 0` means every stored event decodes through the topic map. */
export interface HistoryReport {
  readonly tenantId: string | undefined
  readonly commits: number
  readonly events: number
  readonly decoded: number
  readonly failed: number
  /** Per stored topic, in the order they were first met. */
  readonly topics: Readonly<Record<string, TopicHistory>>
  /** The checkpoint token of the last commit checked (0 when there was none). */
  readonly checkpoint: number
  readonly elapsedMs: number
}

/** What a history check can fail with: reading the store. */
export type HistoryCheckError = ReadError

/** What the check needs of a topic map: decoding, and the current names of renamed topics. */
export type HistoryTopics = Pick<TopicMap<{ readonly type: string }>, 'decode' | 'currentTopic'>

/** What the check needs of a store: the global read, and the stream catalog for a total (optional). */
export type HistoryStore = Pick<CommitStore, 'getFrom'> & Partial<StreamCatalog>

// -------------------------------------------------------------------------------------
// check
// -------------------------------------------------------------------------------------

const storedTopic = (body: unknown): string => {
  try {
    const t = typeof body === 'object' && body !== null ? (body as { type?: unknown }).type : undefined
    return typeof t === 'string' ? t : `<${t === null ? 'null' : typeof t}>`
  } catch {
    return '<unreadable>'
  }
}

const storedVersion = (headers: Headers): string => {
  let v: unknown
  try {
    v = headers[SCHEMA_HEADER]
  } catch {
    return '<unreadable>'
  }
  if (v === undefined) return '1'
  if (typeof v === 'number') return String(v)
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    return '<unreadable>'
  }
}

interface MutableTopic {
  readonly topic: string
  readonly currentTopic: string | undefined
  decoded: number
  failed: number
  readonly versions: Record<string, { decoded: number; failed: number }>
  readonly examples: HistoryFailure[]
}

/** Sums the stream heads of a tenant, or of every tenant: the number of events stored. */
const countEvents = async (store: HistoryStore, tenantId: string | undefined): Promise<E.Either<ReadError, number | undefined>> => {
  const { listStreams, listTenants } = store
  if (listStreams === undefined || (tenantId === undefined && listTenants === undefined)) return E.right(undefined)
  const tenants: string[] = []
  if (tenantId !== undefined) tenants.push(tenantId)
  else {
    for await (const t of (listTenants as NonNullable<typeof listTenants>).call(store)) {
      if (E.isLeft(t)) return t
      tenants.push(t.right)
    }
  }
  let total = 0
  for (const tenant of tenants) {
    for await (const s of listStreams.call(store, tenant)) {
      if (E.isLeft(s)) return s
      total += s.right.headRevision
    }
  }
  return E.right(total)
}

/**
 * Reads a whole store (or one tenant) in checkpoint order and decodes every event through `topics`, as every read
 * of the kit would, holding only the tallies and the first failures (memory stays flat however long the history).
 * Reports, per stored topic and schema version, how many events decode, and every failure with the commit it sits
 * in. Run it before deploying a changed event definition, against a copy of production or production itself.
 *
 * @example
 * const report = await checkHistory(store, topics, { onProgress: (p) => bar.update(p.events, p.total) })
 * if (E.isRight(report) && report.right.failed > 0) console.table(report.right.topics)
 */
export const checkHistory = async (
  store: HistoryStore,
  topics: HistoryTopics,
  options: HistoryCheckOptions = {},
): Promise<E.Either<HistoryCheckError, HistoryReport>> => {
  const { tenantId, onProgress } = options
  const examples = Math.max(0, Math.floor(options.examples ?? 10))
  const every = Math.max(1, Math.floor(options.progressEvery ?? 10_000))
  const started = Date.now()
  let total: number | undefined
  if (options.countTotal !== false && onProgress !== undefined) {
    const counted = await countEvents(store, tenantId)
    if (E.isLeft(counted)) return counted
    total = counted.right
  }

  const byTopic = new Map<string, MutableTopic>()
  let commits = 0
  let events = 0
  let failed = 0
  let checkpoint = 0
  let nextReport = every
  const progress = (): void => {
    if (onProgress === undefined) return
    const seconds = (Date.now() - started) / 1000
    try {
      onProgress({ events, commits, total, eventsPerSecond: seconds > 0 ? events / seconds : 0, checkpoint })
    } catch {
      // A progress bar that fails must not fail the check.
    }
  }
  const tallyOf = (topic: string): MutableTopic => {
    let t = byTopic.get(topic)
    if (t === undefined) byTopic.set(topic, (t = { topic, currentTopic: topics.currentTopic(topic), decoded: 0, failed: 0, versions: {}, examples: [] }))
    return t
  }

  const reads = tenantId === undefined ? store.getFrom(0) : store.getFrom(0, tenantId)
  for await (const r of reads) {
    if (E.isLeft(r)) return r
    const commit = r.right
    commits++
    checkpoint = commit.checkpointToken
    const first = commit.streamRevision - commit.events.length + 1
    for (let i = 0; i < commit.events.length; i++) {
      const m = commit.events[i] as (typeof commit.events)[number]
      const topic = storedTopic(m.body)
      const version = storedVersion(m.headers)
      const tally = tallyOf(topic)
      const v = (tally.versions[version] ??= { decoded: 0, failed: 0 })
      const decoded = topics.decode(m.body, m.headers)
      events++
      if (E.isRight(decoded)) {
        tally.decoded++
        v.decoded++
      } else {
        failed++
        tally.failed++
        v.failed++
        if (tally.examples.length < examples) {
          const error = decoded.left
          tally.examples.push({
            tenantId: commit.tenantId,
            streamId: commit.streamId,
            commitId: commit.commitId,
            commitSequence: commit.commitSequence,
            checkpointToken: commit.checkpointToken,
            streamRevision: first + i,
            eventIndex: i,
            topic,
            version,
            error,
            paths: error._tag === 'DecodeError' ? error.issues.map((issue) => issue.path) : [],
          })
        }
      }
      if (events >= nextReport) {
        nextReport += every
        progress()
      }
    }
  }
  progress()
  const report: Record<string, TopicHistory> = {}
  for (const [topic, t] of byTopic) report[topic] = t
  return E.right({ tenantId, commits, events, decoded: events - failed, failed, topics: report, checkpoint, elapsedMs: Date.now() - started })
}
