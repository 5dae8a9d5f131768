import { randomUUID } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { afterAll, beforeAll, expect } from 'vitest'
import {
  toArray,
  type Commit,
  type CommitAttempt,
  type EventMessage,
  type EventStoreError,
  type Headers,
  type Json,
  type Persistence,
  type Reads,
  type Snapshot,
} from '../../eventstore/index.js'
import type { LogReader, StoreHarness } from './harness.js'

// -------------------------------------------------------------------------------------
// ids
// -------------------------------------------------------------------------------------

/** A fresh id, so that tests sharing a store never see each other's tenants or streams. */
export const uid = (prefix: string): string => `${prefix}-${randomUUID()}`

/** Fresh tenant and stream ids for one test. */
export const freshIds = (): { readonly tenantId: string; readonly streamId: string } => ({
  tenantId: uid('tenant'),
  streamId: uid('stream'),
})

// -------------------------------------------------------------------------------------
// builders
// -------------------------------------------------------------------------------------

/** A fixed, millisecond-precise base time: stamps derived from it are deterministic. */
export const baseTime = Date.UTC(2026, 0, 15, 10, 30, 0, 123)
export const at = (offsetMs: number): Date => new Date(baseTime + offsetMs)

/** An event message with a small deposit body; `n` keeps bodies distinct. */
export const message = (n: number, extra: Readonly<Record<string, Json>> = {}): EventMessage => ({
  body: { type: 'Deposited', id: 'account', version: n, timestamp: new Date(baseTime).toISOString(), amount: n, ...extra },
  headers: { 'event.index': n },
})

export interface AttemptSpec {
  readonly tenantId: string
  readonly streamId: string
  readonly commitSequence: number
  /** Revision of the first event; defaults to the one a stream of one-event commits would have. */
  readonly firstRevision?: number
  /** How many events (default 1), or the events themselves. */
  readonly events?: number | readonly EventMessage[]
  readonly commitId?: string
  readonly commitStamp?: Date
  readonly headers?: Headers
}

/** An attempt from a spec; `streamRevision` is derived from the first revision and the event count. */
export const attempt = (spec: AttemptSpec): CommitAttempt => {
  const first = spec.firstRevision ?? spec.commitSequence
  const events =
    typeof spec.events === 'object' ? spec.events : Array.from({ length: spec.events ?? 1 }, (_, i) => message(first + i))
  return {
    tenantId: spec.tenantId,
    streamId: spec.streamId,
    commitSequence: spec.commitSequence,
    streamRevision: first + events.length - 1,
    commitId: spec.commitId ?? randomUUID(),
    commitStamp: spec.commitStamp ?? at(spec.commitSequence),
    headers: spec.headers ?? { 'commit.sequence': spec.commitSequence },
    events,
  }
}

/** The attempt that continues `head` (or starts the stream) with `events` events. */
export const next = (
  head: Pick<Commit, 'tenantId' | 'streamId' | 'commitSequence' | 'streamRevision'> | undefined,
  ids: { readonly tenantId: string; readonly streamId: string },
  options: Omit<AttemptSpec, 'tenantId' | 'streamId' | 'commitSequence' | 'firstRevision'> = {},
): CommitAttempt =>
  attempt({
    ...ids,
    ...options,
    commitSequence: (head?.commitSequence ?? 0) + 1,
    firstRevision: (head?.streamRevision ?? 0) + 1,
  })

/** Commits attempts one after another, failing the test on the first refusal. */
export const commitAll = async (store: Persistence, attempts: readonly CommitAttempt[]): Promise<Commit[]> => {
  const out: Commit[] = []
  for (const a of attempts) out.push(right(await store.commit(a)))
  return out
}

/** Writes `count` commits to one stream, each of `eventsPerCommit` events (a number or a function of the index). */
export const writeStream = async (
  store: Persistence,
  ids: { readonly tenantId: string; readonly streamId: string },
  count: number,
  eventsPerCommit: number | ((i: number) => number) = 1,
  stamp?: (i: number) => Date,
): Promise<Commit[]> => {
  const out: Commit[] = []
  for (let i = 0; i < count; i++) {
    const events = typeof eventsPerCommit === 'number' ? eventsPerCommit : eventsPerCommit(i)
    const a = next(out[out.length - 1], ids, stamp === undefined ? { events } : { events, commitStamp: stamp(i) })
    out.push(right(await store.commit(a)))
  }
  return out
}

export const snapshot = (
  ids: { readonly tenantId: string; readonly streamId: string },
  streamRevision: number,
  payload: Json = { balance: streamRevision },
  headers: Headers = {},
): Snapshot => ({ ...ids, streamRevision, commitSequence: streamRevision, payload, headers })

// -------------------------------------------------------------------------------------
// typed assertions
// -------------------------------------------------------------------------------------

/** The right side of an Either, or a failed test that shows the left. */
export const right = <E, A>(e: E.Either<E, A>): A => {
  if (E.isLeft(e)) expect.fail(`expected a success, got ${JSON.stringify(e.left, replacer)}`)
  return e.right
}

type Tag = EventStoreError['_tag']

/** The left side of an Either, checked to carry `tag`, or a failed test. */
export const left = <T extends Tag, A>(e: E.Either<{ readonly _tag: string }, A>, tag: T): Extract<EventStoreError, { _tag: T }> => {
  if (E.isRight(e)) expect.fail(`expected ${tag}, got a success: ${JSON.stringify(e.right, replacer)}`)
  expect(e.left._tag, JSON.stringify(e.left, replacer)).toBe(tag)
  return e.left as Extract<EventStoreError, { _tag: T }>
}

/** Reads everything, failing the test on a Left. */
export const collect = async <A>(reads: Reads<A>): Promise<A[]> => right(await toArray(reads))

export const some = <A>(o: O.Option<A>): A => {
  if (O.isNone(o)) return expect.fail('expected Some, got None')
  return o.value
}

/** The fields of the contract, so that comparisons ignore anything else a store might attach. */
export const view = (c: Commit): Commit => ({
  tenantId: c.tenantId,
  streamId: c.streamId,
  streamRevision: c.streamRevision,
  commitId: c.commitId,
  commitSequence: c.commitSequence,
  commitStamp: c.commitStamp,
  headers: c.headers,
  events: c.events.map((m) => ({ body: m.body, headers: m.headers })),
  checkpointToken: c.checkpointToken,
})

/** Asserts that `actual` are exactly `expected`, in order, field by field. */
export const expectCommits = (actual: readonly Commit[], expected: readonly Commit[]): void => {
  // Dates compare by their time, so stamps are checked to the millisecond too.
  expect(actual.map(view)).toEqual(expected.map(view))
}

/** What a stored commit should look like, given the attempt and the token the store answered with. */
export const stored = (a: CommitAttempt, checkpointToken: number): Commit => ({ ...a, checkpointToken })

export const tokens = (commits: readonly Commit[]): number[] => commits.map((c) => c.checkpointToken)

export const expectStrictlyAscending = (ns: readonly number[]): void => {
  for (let i = 1; i < ns.length; i++) {
    expect(ns[i], `token ${i} (${ns[i]}) must exceed token ${i - 1} (${ns[i - 1]})`).toBeGreaterThan(ns[i - 1] as number)
  }
}

const replacer = (_: string, v: unknown): unknown => (typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}…` : v)

// -------------------------------------------------------------------------------------
// store lifecycle
// -------------------------------------------------------------------------------------

/** One store for a describe block: created before its tests, disposed after. */
export const sharedStore = (harness: StoreHarness): (() => Persistence) => {
  let store: Persistence | undefined
  beforeAll(async () => {
    store = await harness.create()
  })
  afterAll(async () => {
    if (store !== undefined) await harness.dispose(store)
  })
  return () => {
    if (store === undefined) return expect.fail(`${harness.name}: the store was not created`)
    return store
  }
}

/** Runs `body` on a store of its own, disposed afterwards even when the body fails. */
export const withFreshStore = async <A>(harness: StoreHarness, body: (store: Persistence) => Promise<A>): Promise<A> => {
  const store = await harness.create()
  try {
    return await body(store)
  } finally {
    await harness.dispose(store)
  }
}

// -------------------------------------------------------------------------------------
// ids at and over the limits
// -------------------------------------------------------------------------------------

/** UTF-8 length of a well-formed string. */
export const utf8Bytes = (s: string): number => new TextEncoder().encode(s).length

/**
 * A string of exactly `bytes` bytes of UTF-8 that starts with `prefix` and goes on with control characters,
 * 2-, 3- and 4-byte characters and a combining mark, so that its UTF-8 length differs from its UTF-16 length.
 */
export const idOfBytes = (prefix: string, bytes: number): string => {
  const units = ['\u0001', '\u00e9', '\u20ac', '\u{1F600}', '\u0301', '\t', '\u65e5', '\u{10FFFF}', '\u007f']
  let out = prefix
  let size = utf8Bytes(prefix)
  if (size > bytes) return expect.fail(`idOfBytes: the prefix alone is ${size} bytes, over ${bytes}`)
  for (let i = 0; size < bytes; i++) {
    const unit = units[i % units.length] as string
    const n = utf8Bytes(unit)
    const next = size + n <= bytes ? unit : 'x'
    out += next
    size += utf8Bytes(next)
  }
  return out
}

// -------------------------------------------------------------------------------------
// reads that must answer, not throw
// -------------------------------------------------------------------------------------

/** Every element a read yields, Lefts included; a throw or a rejection fails the test, naming `what`. */
export const answers = async <A>(what: string, reads: () => Reads<A>): Promise<ReadonlyArray<E.Either<{ readonly _tag: string }, A>>> => {
  const out: Array<E.Either<{ readonly _tag: string }, A>> = []
  try {
    for await (const r of reads()) {
      out.push(r)
      // A read ends at its first Left; one that goes on would be a bug of its own, but must not loop forever.
      if (out.length > 10_000) break
    }
  } catch (cause) {
    return expect.fail(`${what}: the read threw ${String(cause)}`)
  }
  return out
}

/** Asserts that a read yields exactly one Left, tagged `tag`, and nothing else. */
export const failsWith = async <T extends Tag, A>(what: string, reads: () => Reads<A>, tag: T): Promise<Extract<EventStoreError, { _tag: T }>> => {
  const all = await answers(what, reads)
  expect(all.length, `${what}: a failed read yields one Left and nothing else, got ${JSON.stringify(all, replacer)}`).toBe(1)
  return left(all[0] as E.Either<{ readonly _tag: string }, A>, tag)
}

/** A call that must resolve: a rejection fails the test, naming `what`. */
export const settles = async <A>(what: string, call: () => Promise<A>): Promise<A> => {
  try {
    return await call()
  } catch (cause) {
    return expect.fail(`${what}: threw ${String(cause)}`)
  }
}

// -------------------------------------------------------------------------------------
// JSON images
// -------------------------------------------------------------------------------------

/**
 * Asserts that `actual` is exactly the JSON value `expected`: the same keys (none missing, none extra, no
 * `undefined` property), numbers equal by `Object.is` (so `-0` is not `0`), arrays dense and of the same length.
 */
export const expectSameJson = (actual: unknown, expected: unknown, path = ''): void => {
  const where = path === '' ? '(root)' : path
  if (expected === null || typeof expected !== 'object') {
    if (typeof expected === 'number') expect(Object.is(actual, expected), `${where}: ${String(actual)} is not ${String(expected)}`).toBe(true)
    else expect(actual, where).toBe(expected)
    return
  }
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${where}: expected an array`).toBe(true)
    const a = actual as unknown[]
    expect(a.length, `${where}: length`).toBe(expected.length)
    for (let i = 0; i < expected.length; i++) {
      expect(i in a, `${where}/${i}: a hole`).toBe(true)
      expectSameJson(a[i], expected[i], `${path}/${i}`)
    }
    return
  }
  expect(typeof actual === 'object' && actual !== null && !Array.isArray(actual), `${where}: expected an object`).toBe(true)
  const a = actual as Record<string, unknown>
  const e = expected as Record<string, unknown>
  expect(Object.keys(a).sort(), `${where}: keys`).toEqual(Object.keys(e).sort())
  for (const key of Object.keys(e)) expectSameJson(a[key], e[key], `${path}/${key}`)
}

// -------------------------------------------------------------------------------------
// the log, of one feed or of several (SEMANTICS 7)
// -------------------------------------------------------------------------------------

/**
 * Checks a read of the log against `expected` (the commits it must hold, in commit order): on a store of one feed,
 * `read(store)` holds exactly them, in that order; on a store of feed shards (`harness.feeds`), `read(shard)` of
 * each shard holds exactly `expected`'s commits of that shard, in that order, tokens strictly ascending.
 */
export const expectLog = async (
  harness: Pick<StoreHarness, 'feeds'>,
  store: Persistence,
  read: (reader: LogReader) => Reads<Commit>,
  expected: readonly Commit[],
): Promise<void> => {
  const feeds = harness.feeds
  if (feeds === undefined) return expectCommits(await collect(read(store)), expected)
  for (const [k, reader] of feeds.readers(store).entries()) {
    const got = await collect(read(reader))
    expectCommits(got, expected.filter((c) => feeds.shardOf(c) === k))
    expectStrictlyAscending(tokens(got))
  }
}

/** Tokens grow strictly in commit order: in the one feed, or within each feed shard. */
export const expectTokensAscending = (harness: Pick<StoreHarness, 'feeds'>, written: readonly Commit[]): void => {
  const feeds = harness.feeds
  if (feeds === undefined) return expectStrictlyAscending(tokens(written))
  const shards = new Set(written.map(feeds.shardOf))
  for (const k of shards) expectStrictlyAscending(tokens(written.filter((c) => feeds.shardOf(c) === k)))
  // and tokens are unique across the shards
  expect(new Set(tokens(written)).size).toBe(written.length)
}

/** The log a stream's commits are read from: the store's one log, or its shard's (`harness.feeds`). */
export const logFor = (harness: Pick<StoreHarness, 'feeds'>, store: Persistence, ids: { readonly tenantId: string; readonly streamId: string }): LogReader => {
  const feeds = harness.feeds
  if (feeds === undefined) return store
  const reader = feeds.readers(store)[feeds.shardOf(ids)]
  if (reader === undefined) throw new Error(`no feed shard ${feeds.shardOf(ids)}`)
  return reader
}

/**
 * A read across a tenant's streams that the contract orders by checkpoint (`getAllTo`): on one feed exactly
 * `expected`, in order; on feed shards the same commits, each shard's in its token order (no order holds across).
 */
export const expectAcrossShards = (harness: Pick<StoreHarness, 'feeds'>, got: readonly Commit[], expected: readonly Commit[]): void => {
  const feeds = harness.feeds
  if (feeds === undefined) return expectCommits(got, expected)
  expect(got.length).toBe(expected.length)
  for (const k of new Set([...got, ...expected].map(feeds.shardOf))) {
    expectCommits(got.filter((c) => feeds.shardOf(c) === k), expected.filter((c) => feeds.shardOf(c) === k))
  }
}
