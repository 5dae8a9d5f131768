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
} from '../../src/eventstore/index.js'
import type { StoreHarness } from './harness.js'

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
