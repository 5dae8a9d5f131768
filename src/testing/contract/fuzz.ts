import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { expect } from 'vitest'
import {
  firstRevision,
  ID_LIMITS,
  type Commit,
  type CommitAttempt,
  type IdKind,
  type Persistence,
  type Reads,
  type Snapshot,
  type StreamHead,
} from '../../eventstore/index.js'
import { jsonKey, jsonNumber } from './arbitraries.js'
import { answers, at, expectCommits, expectSameJson, idOfBytes, settles, utf8Bytes, withFreshStore } from './fixtures.js'
import type { Feeds, FuzzOptions, StoreHarness } from './harness.js'

// -------------------------------------------------------------------------------------
// what is JSON, and which ids can be stored: the contract's own oracle, independent of any store's code
// -------------------------------------------------------------------------------------

/** No U+0000 and no lone surrogate. */
const wellFormed = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0) return false
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1)
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false
      i++
    } else if (c >= 0xdc00 && c <= 0xdfff) return false
  }
  return true
}

/** Whether an id can name a stream: a non-empty, well-formed string within its limit in UTF-8 bytes. */
export const storableId = (kind: IdKind, id: unknown): id is string =>
  typeof id === 'string' && id.length > 0 && wellFormed(id) && utf8Bytes(id) <= ID_LIMITS[kind]

/**
 * Whether a value is exactly JSON: finite numbers, well-formed strings, booleans, null, dense arrays without
 * `undefined`, plain objects with well-formed string keys (whose `undefined` properties are dropped), no cycles.
 */
export const isJson = (v: unknown, ancestors: unknown[] = []): boolean => {
  switch (typeof v) {
    case 'string':
      return wellFormed(v)
    case 'number':
      return Number.isFinite(v)
    case 'boolean':
      return true
    case 'object':
      break
    default:
      return false
  }
  if (v === null) return true
  if (ancestors.includes(v)) return false
  ancestors.push(v)
  try {
    if (Array.isArray(v)) {
      if (Object.getPrototypeOf(v) !== Array.prototype) return false
      for (let i = 0; i < v.length; i++) if (!(i in v) || v[i] === undefined || !isJson(v[i], ancestors)) return false
      return true
    }
    const proto = Object.getPrototypeOf(v) as unknown
    if (proto !== Object.prototype && proto !== null) return false
    if (Object.getOwnPropertySymbols(v).length > 0) return false
    for (const [key, item] of Object.entries(v)) {
      if (!wellFormed(key)) return false
      if (item !== undefined && !isJson(item, ancestors)) return false
    }
    return true
  } finally {
    ancestors.pop()
  }
}

/** The JSON image of a value that `isJson` accepts. */
const imageOf = <A>(v: A): A => JSON.parse(JSON.stringify(v)) as A

// -------------------------------------------------------------------------------------
// arbitraries
// -------------------------------------------------------------------------------------

/** Characters every store keeps: ASCII, separators, quotes, accents, a combining mark, astral characters, controls, U+FFFD. */
const cleanUnit: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom('a', 'Z', '0', ' ', '.', '/', ':', '|', '%', '_', "'", '"', '\\', '\u00e9', '\u0301', '\u{1F600}', '\u65e5', '\u0001', '\t', '\ufffd'),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }).filter((g) => !g.includes('\u0000')) },
)

/** What a store cannot keep verbatim: U+0000 and lone surrogates, or any 16-bit unit at all. */
const badUnit: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff') },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)) },
)

/**
 * One UTF-16 unit or code point of a hostile string: mostly characters every store keeps, now and then U+0000,
 * a lone surrogate or any 16-bit unit (fast-check's own string units leave lone surrogates out).
 */
export const hostileUnit: fc.Arbitrary<string> = fc.oneof({ weight: 12, arbitrary: cleanUnit }, { weight: 1, arbitrary: badUnit })

/** Strings with lone surrogates, U+0000, combining marks and astral characters. */
export const hostileString = (maxLength = 8): fc.Arbitrary<string> => fc.string({ unit: hostileUnit, maxLength })

/** Strings every store keeps, of the same characters. */
const cleanString = (maxLength = 8): fc.Arbitrary<string> => fc.string({ unit: cleanUnit, maxLength })

const noProto = (k: string): boolean => k !== '__proto__'
const cleanKey: fc.Arbitrary<string> = fc.oneof(jsonKey, cleanString(4)).filter(noProto)
const hostileKey: fc.Arbitrary<string> = fc.oneof({ weight: 3, arbitrary: cleanKey }, { weight: 1, arbitrary: hostileString(4) }).filter(noProto)

class Opaque {
  constructor(readonly n: number) {}
}

/** Values that are not JSON. */
const hostileLeaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, undefined),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.constant(null).map(() => () => 1),
  fc.string({ maxLength: 3 }).map((d) => Symbol(d)),
  fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }).map((seconds) => new Date(seconds * 1000)),
  fc.constant(null).map(() => new Date(Number.NaN)),
  fc.constant(null).map(() => new Map([['a', 1]])),
  fc.constant(null).map(() => new Set([1])),
  fc.integer().map((n) => new Opaque(n)),
  fc.integer().map((n) => Object(n) as unknown),
  badUnit.map((u) => `x${u}y`),
)

/**
 * JSON values as a caller builds them: what the store must keep as their image, including `-0` and
 * `undefined` properties (dropped), null-prototype and frozen objects.
 */
const { value: cleanValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    { weight: 6, arbitrary: fc.oneof(fc.constant(null), fc.boolean(), jsonNumber, fc.constant(-0), cleanString()) },
    { weight: 2, arbitrary: fc.array(tie('value'), { maxLength: 3 }) },
    { weight: 2, arbitrary: fc.dictionary(cleanKey, fc.option(tie('value'), { nil: undefined, freq: 4 }), { maxKeys: 3 }) },
    { weight: 1, arbitrary: fc.dictionary(cleanKey, tie('value'), { maxKeys: 2 }).map((o) => Object.freeze(o)) },
  ),
}))

/** Values JSON or not, at any depth: non-JSON leaves, sparse arrays, `undefined` in arrays, symbol keys, cycles. */
const { value: fuzzValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    { weight: 6, arbitrary: fc.oneof(fc.constant(null), fc.boolean(), jsonNumber, fc.constant(-0), hostileString()) },
    { weight: 3, arbitrary: hostileLeaf },
    { weight: 2, arbitrary: fc.array(tie('value'), { maxLength: 3 }) },
    { weight: 2, arbitrary: fc.dictionary(hostileKey, tie('value'), { maxKeys: 3 }) },
    { weight: 1, arbitrary: fc.sparseArray(tie('value'), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 2 }).map((a) => [...a, undefined]) },
    { weight: 1, arbitrary: fc.dictionary(hostileKey, tie('value'), { maxKeys: 2 }).map((o) => ({ ...o, [Symbol('k')]: 1 })) },
    {
      weight: 1,
      arbitrary: fc.dictionary(hostileKey, tie('value'), { maxKeys: 2 }).map((o) => {
        const c: Record<string, unknown> = { ...o }
        c['self'] = c
        return c
      }),
    },
  ),
}))

/** Any value, JSON or not (mostly not), at any depth: what an untyped caller might put in a body, header or payload. */
export const anyValue: fc.Arbitrary<unknown> = fuzzValue

/** Maps of fields (a header map, a body's fields): of JSON values, or of anything. */
const cleanFields: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(cleanKey, cleanValue, { maxKeys: 3 })
const anyFields: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(hostileKey, fuzzValue, { maxKeys: 3 })

/** How an id of one run is made: hostile text after the run's prefix, a length around the limit, or no string. */
type IdSpec =
  | { readonly kind: 'fresh' }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'bytes'; readonly offset: number }
  | { readonly kind: 'raw'; readonly value: unknown }

const idSpec: fc.Arbitrary<IdSpec> = fc.oneof(
  { weight: 8, arbitrary: hostileString(6).map((text) => ({ kind: 'text' as const, text })) },
  { weight: 3, arbitrary: fc.integer({ min: -2, max: 1 }).map((offset) => ({ kind: 'bytes' as const, offset })) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('', 42, null, undefined, { id: 1 }).map((value) => ({ kind: 'raw' as const, value })) },
)

/** Commit ids: mostly fresh ones, else any id spec (which reuses ids of the run now and then). */
const commitIdSpec: fc.Arbitrary<IdSpec> = fc.oneof({ weight: 3, arbitrary: fc.constant({ kind: 'fresh' as const }) }, { weight: 2, arbitrary: idSpec })

/** A second id made from the first: the forms a driver might alias with it (U+0000, a lone surrogate, past the limit). */
type Twin = 'nul' | 'nulTail' | 'high' | 'dbff' | 'low' | 'over'
const twin: fc.Arbitrary<Twin> = fc.constantFrom('nul', 'nulTail', 'high', 'dbff', 'low', 'over')

let fresh = 0

const makeId = (spec: IdSpec, prefix: string, kind: IdKind): unknown => {
  switch (spec.kind) {
    case 'fresh':
      return `${prefix}${++fresh}`
    case 'text':
      return `${prefix}${spec.text}`
    case 'bytes':
      return idOfBytes(prefix, ID_LIMITS[kind] + spec.offset)
    case 'raw':
      return spec.value
  }
}

const makeTwin = (id: unknown, how: Twin, kind: IdKind): unknown => {
  if (typeof id !== 'string') return id
  switch (how) {
    case 'nul':
      return `${id}\u0000`
    case 'nulTail':
      return `${id}\u0000tail`
    case 'high':
      return `${id}\ud800`
    case 'dbff':
      return `${id}\udbff`
    case 'low':
      return `${id}\udc00`
    case 'over':
      return utf8Bytes(id) >= ID_LIMITS[kind] || !wellFormed(id) ? `${id}x` : idOfBytes(id, ID_LIMITS[kind] + 1)
  }
}

/**
 * The ids of one run: two drawn tenants and streams, the first with U+FFFD appended (what a UTF-8 driver
 * makes of a lone surrogate) and a twin of the first that no store can keep, so that a store that aliases ids
 * would hand one id's commits to another.
 */
interface Pools {
  readonly tenants: readonly [IdSpec, IdSpec, Twin]
  readonly streams: readonly [IdSpec, IdSpec, Twin]
}

/** The first id of a pool is mostly one that can be stored (up to the limit), so that runs have data to read. */
const firstIdSpec: fc.Arbitrary<IdSpec> = fc.oneof(
  { weight: 6, arbitrary: cleanString(6).map((text) => ({ kind: 'text' as const, text })) },
  { weight: 2, arbitrary: fc.integer({ min: -2, max: 0 }).map((offset) => ({ kind: 'bytes' as const, offset })) },
  { weight: 2, arbitrary: idSpec },
)

const pools: fc.Arbitrary<Pools> = fc.record({
  tenants: fc.tuple(firstIdSpec, idSpec, twin),
  streams: fc.tuple(firstIdSpec, idSpec, twin),
})

const poolOf = ([a, b, how]: readonly [IdSpec, IdSpec, Twin], prefix: string, kind: IdKind): readonly unknown[] => {
  const first = makeId(a, prefix, kind)
  return [first, makeId(b, prefix, kind), typeof first === 'string' ? `${first}\ufffd` : first, makeTwin(first, how, kind)]
}

/** Numbers as an untyped caller may pass them as bounds: small, fractional, infinite, huge, NaN, or no number. */
const anyNumber: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -3, max: 15 }) },
  { weight: 2, arbitrary: fc.double({ min: -3, max: 15, noNaN: true }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -0,
      0.5,
      2 ** 53,
      2 ** 60,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      Number.MIN_VALUE,
      Number.MAX_SAFE_INTEGER,
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('3', null, true, { n: 1 }) },
)

const optionalNumber: fc.Arbitrary<unknown> = fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 4, arbitrary: anyNumber })

/** A checkpoint: near a token of the run (so that boundaries are hit), or any number. */
type TokenSpec = { readonly kind: 'token'; readonly pick: number; readonly delta: number } | { readonly kind: 'raw'; readonly value: unknown }
const tokenSpec: fc.Arbitrary<TokenSpec> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('token' as const), pick: fc.nat(), delta: fc.constantFrom(-1, -0.5, 0, 0.5, 1) }) },
  { weight: 2, arbitrary: anyNumber.map((value) => ({ kind: 'raw' as const, value })) },
)

/** A time bound: seconds of the run's stamps give or take a millisecond, extreme Dates, Invalid Dates, no Date. */
const timeSpec: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.integer({ min: -1, max: 12 }), fc.constantFrom(-1, 0, 1)).map(([s, d]) => at(s * 1000 + d)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(new Date(Number.NaN), new Date(8.64e15), new Date(-8.64e15), '2026-01-15', 0, null),
  },
)

/** A snapshot's numbers: valid for the stream's head, or anything. */
type SnapshotNumbers = { readonly kind: 'valid'; readonly rev: number; readonly seq: number } | { readonly kind: 'raw'; readonly rev: unknown; readonly seq: unknown }
const snapshotNumbers: fc.Arbitrary<SnapshotNumbers> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('valid' as const), rev: fc.nat(), seq: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('raw' as const), rev: anyNumber, seq: anyNumber }) },
)

/** Which id of the run's pool (see `poolOf`): mostly the first, whose twins are the others. */
const poolIndex = fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.constant(3) })
const t = poolIndex
const s = poolIndex

type Op =
  | { readonly kind: 'commit'; readonly t: number; readonly s: number; readonly commitId: IdSpec; readonly events: ReadonlyArray<{ readonly fields: Record<string, unknown>; readonly headers: Record<string, unknown> }>; readonly headers: Record<string, unknown> }
  | { readonly kind: 'snapshot'; readonly t: number; readonly s: number; readonly numbers: SnapshotNumbers; readonly payload: unknown; readonly headers: Record<string, unknown> }
  | { readonly kind: 'get'; readonly t: number; readonly s: number; readonly min: unknown; readonly max: unknown }
  | { readonly kind: 'getTo'; readonly t: number; readonly s: number; readonly time: unknown }
  | { readonly kind: 'getAllTo'; readonly t: number; readonly time: unknown }
  | { readonly kind: 'getFrom'; readonly t: number; readonly from: TokenSpec }
  | { readonly kind: 'getFromTo'; readonly t: number; readonly from: TokenSpec; readonly to: TokenSpec }
  | { readonly kind: 'getSnapshot'; readonly t: number; readonly s: number; readonly max: unknown }
  | { readonly kind: 'streamsToSnapshot'; readonly t: number; readonly threshold: unknown }
  | { readonly kind: 'deleteStream'; readonly t: number; readonly s: number }
  | { readonly kind: 'purge'; readonly t: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('commit' as const),
      t,
      s,
      commitId: commitIdSpec,
      events: fc.array(fc.record({ fields: cleanFields, headers: cleanFields }), { minLength: 1, maxLength: 2 }),
      headers: cleanFields,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('commit' as const),
      t,
      s,
      commitId: commitIdSpec,
      events: fc.array(fc.record({ fields: anyFields, headers: anyFields }), { minLength: 1, maxLength: 2 }),
      headers: anyFields,
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('snapshot' as const), t, s, numbers: snapshotNumbers, payload: cleanValue, headers: cleanFields }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('snapshot' as const), t, s, numbers: snapshotNumbers, payload: fuzzValue, headers: anyFields }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('get' as const), t, s, min: optionalNumber, max: optionalNumber }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('getTo' as const), t, s, time: timeSpec }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('getAllTo' as const), t, time: timeSpec }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('getFrom' as const), t, from: tokenSpec }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('getFromTo' as const), t, from: tokenSpec, to: tokenSpec }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('getSnapshot' as const), t, s, max: optionalNumber }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('streamsToSnapshot' as const), t, threshold: anyNumber }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteStream' as const), t, s }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('purge' as const), t }) },
)

// -------------------------------------------------------------------------------------
// the model: what every store must give back
// -------------------------------------------------------------------------------------

interface StreamModel {
  readonly commits: Commit[]
  readonly commitIds: Set<string>
  readonly snapshots: Map<number, Snapshot>
}

class Model {
  readonly tenants = new Map<string, Map<string, StreamModel>>()
  /** The last token of each feed shard (one feed: shard 0). */
  readonly lastTokens = new Map<number, number>()
  stamps = 0

  stream(tenantId: string, streamId: string): StreamModel | undefined {
    return this.tenants.get(tenantId)?.get(streamId)
  }

  ensure(tenantId: string, streamId: string): StreamModel {
    let streams = this.tenants.get(tenantId)
    if (streams === undefined) this.tenants.set(tenantId, (streams = new Map()))
    let data = streams.get(streamId)
    if (data === undefined) streams.set(streamId, (data = { commits: [], commitIds: new Set(), snapshots: new Map() }))
    return data
  }

  /** A tenant's commits in token order. */
  log(tenantId: string): Commit[] {
    const all = [...(this.tenants.get(tenantId)?.values() ?? [])].flatMap((d) => d.commits)
    return all.sort((a, b) => a.checkpointToken - b.checkpointToken)
  }

  /** Every token of the run, for checkpoints near them. */
  tokens(): number[] {
    return [...this.tenants.keys()].flatMap((t) => this.log(t).map((c) => c.checkpointToken)).sort((a, b) => a - b)
  }

  newestSnapshot(data: StreamModel | undefined, max: number): Snapshot | undefined {
    let found: Snapshot | undefined
    for (const snap of data?.snapshots.values() ?? []) {
      if (snap.streamRevision <= max && (found === undefined || snap.streamRevision > found.streamRevision)) found = snap
    }
    return found
  }
}

const isBound = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v)
const isOptionalBound = (v: unknown): v is number | undefined => v === undefined || isBound(v)
const isTime = (v: unknown): v is Date => v instanceof Date && !Number.isNaN(v.getTime())

/** The commits as the store must give them: same fields, and bodies and headers that are exactly the images. */
const expectStored = (label: string, actual: readonly Commit[], expected: readonly Commit[]): void => {
  expectCommits(actual, expected)
  actual.forEach((c, i) => {
    const e = expected[i] as Commit
    expectSameJson(c.headers, e.headers, `${label}: commit ${i} headers`)
    c.events.forEach((m, j) => {
      expectSameJson(m.body, e.events[j]?.body, `${label}: commit ${i} event ${j} body`)
      expectSameJson(m.headers, e.events[j]?.headers, `${label}: commit ${i} event ${j} headers`)
    })
  })
}

/**
 * Reads to the end and checks the answer: a bound that means nothing is one InvalidArgument (or, for an id that
 * cannot exist, an empty read); otherwise only Rights, exactly `expected`.
 */
const expectRead = async <A>(
  label: string,
  read: () => Reads<A>,
  valid: { readonly bounds: boolean; readonly ids: boolean },
  check: (got: readonly A[]) => void,
): Promise<void> => {
  const all = await answers(label, read)
  if (!valid.bounds) {
    const acceptable = all.length === 1 && E.isLeft(all[0] as E.Either<{ _tag: string }, A>) && (all[0] as E.Left<{ _tag: string }>).left._tag === 'InvalidArgument'
    if (acceptable || (!valid.ids && all.length === 0)) return
    return expect.fail(`${label}: a bound that means nothing must be one InvalidArgument, got ${String(JSON.stringify(all))}`)
  }
  const lefts = all.filter(E.isLeft)
  expect(lefts, `${label}: the read failed`).toEqual([])
  const got = all.map((r) => (r as E.Right<A>).right)
  if (!valid.ids) expect(got, `${label}: an id that cannot exist finds nothing`).toEqual([])
  else check(got)
}

interface Run {
  readonly store: Persistence
  /** The store's feed shards (`harness.feeds`): log reads are made of each, and tokens grow per shard. */
  readonly feeds: Feeds | undefined
  readonly model: Model
  readonly tenants: readonly unknown[]
  readonly streams: readonly unknown[]
  readonly prefix: string
}

/** The logs to read: the store's one (shard `undefined`), or each feed shard's. */
const logsOf = (run: Run): readonly (readonly [number | undefined, Pick<Persistence, 'getFrom' | 'getFromTo'>])[] =>
  run.feeds === undefined ? [[undefined, run.store]] : run.feeds.readers(run.store).map((r, k) => [k, r] as const)

/** The commits of shard `k` (all of them for the one log). */
const inShard = (run: Run, k: number | undefined, commits: readonly Commit[]): Commit[] =>
  k === undefined || run.feeds === undefined ? [...commits] : commits.filter((c) => run.feeds?.shardOf(c) === k)

/**
 * A read across the shards (`getAllTo`): with one log exactly `expected`; with feed shards the same commits, and
 * each shard's in its token order (the order across shards is the store's).
 */
const expectByShard = (run: Run, label: string, got: readonly Commit[], expected: readonly Commit[]): void => {
  if (run.feeds === undefined) return expectStored(label, got, expected)
  expect(got.length, `${label}: commits`).toBe(expected.length)
  for (let k = 0; k < run.feeds.readers(run.store).length; k++) expectStored(`${label} (shard ${k})`, inShard(run, k, got), inShard(run, k, expected))
}

const tokenOf = (run: Run, spec: TokenSpec): unknown => {
  if (spec.kind === 'raw') return spec.value
  const tokens = run.model.tokens()
  const i = spec.pick % (tokens.length + 1)
  return (i === 0 ? 0 : (tokens[i - 1] as number)) + spec.delta
}

const step = async (run: Run, o: Op, index: number): Promise<void> => {
  const { store, model } = run
  const tenantId = run.tenants[o.t] as string
  const okTenant = storableId('tenantId', tenantId)
  const label = index < 0 ? `end: ${o.kind}` : `op ${index} ${o.kind}`
  switch (o.kind) {
    case 'commit': {
      const streamId = run.streams[o.s] as string
      const commitId = makeId(o.commitId, 'c', 'commitId') as string
      const data = okTenant && storableId('streamId', streamId) ? model.stream(tenantId, streamId) : undefined
      const head = data?.commits[data.commits.length - 1]
      model.stamps += 1
      const events = o.events.map((e) => ({ body: { ...e.fields, type: 'Fuzzed' }, headers: e.headers }))
      const a = {
        tenantId,
        streamId,
        commitId,
        commitSequence: (head?.commitSequence ?? 0) + 1,
        streamRevision: (head?.streamRevision ?? 0) + events.length,
        commitStamp: at(model.stamps * 1000),
        headers: o.headers,
        events,
      } as unknown as CommitAttempt
      const result = await settles(label, () => store.commit(a))
      const valid =
        okTenant &&
        storableId('streamId', streamId) &&
        storableId('commitId', commitId) &&
        isJson(o.headers) &&
        events.every((m) => isJson(m.body) && isJson(m.headers))
      if (!valid) {
        expect(E.isLeft(result) ? result.left._tag : 'a success', `${label}: not storable`).toBe('InvalidAttempt')
        return
      }
      if (data?.commitIds.has(commitId) === true) {
        expect(E.isLeft(result) ? result.left._tag : 'a success', `${label}: a reused commit id`).toBe('DuplicateCommit')
        return
      }
      if (E.isLeft(result)) return expect.fail(`${label}: a valid attempt was refused: ${JSON.stringify(result.left)}`)
      const c = result.right
      const shard = run.feeds?.shardOf(c) ?? 0
      expect(c.checkpointToken, `${label}: tokens grow`).toBeGreaterThan(model.lastTokens.get(shard) ?? 0)
      const expected: Commit = { ...(imageOf({ headers: a.headers, events: a.events }) as Pick<Commit, 'headers' | 'events'>), ...pick(a), checkpointToken: c.checkpointToken }
      expectStored(label, [c], [expected])
      model.lastTokens.set(shard, c.checkpointToken)
      const stream = model.ensure(tenantId, streamId)
      stream.commits.push(expected)
      stream.commitIds.add(commitId)
      return
    }
    case 'snapshot': {
      const streamId = run.streams[o.s] as string
      const okIds = okTenant && storableId('streamId', streamId)
      const head = okIds ? model.stream(tenantId, streamId)?.commits.at(-1) : undefined
      let rev: unknown
      let seq: unknown
      if (o.numbers.kind === 'valid') {
        // only streams with commits get valid snapshots; the contract says nothing of snapshots ahead of the head
        if (head === undefined) return
        rev = 1 + (o.numbers.rev % head.streamRevision)
        seq = 1 + (o.numbers.seq % Math.min(rev as number, head.commitSequence))
      } else {
        rev = o.numbers.rev
        seq = o.numbers.seq
      }
      const numbersOk =
        typeof rev === 'number' && Number.isSafeInteger(rev) && rev >= 1 && typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 1 && seq <= rev
      // nor of snapshots of streams without commits, or ahead of their head
      if (numbersOk && okIds && (head === undefined || (rev as number) > head.streamRevision || (seq as number) > head.commitSequence)) return
      const snap = { tenantId, streamId, streamRevision: rev, commitSequence: seq, payload: o.payload, headers: o.headers } as unknown as Snapshot
      const result = await settles(label, () => store.addSnapshot(snap))
      const valid = okIds && numbersOk && o.payload !== undefined && isJson(o.payload) && isJson(o.headers)
      if (!valid) {
        expect(E.isLeft(result) ? result.left._tag : 'a success', `${label}: not storable`).toBe('InvalidAttempt')
        return
      }
      if (E.isLeft(result)) return expect.fail(`${label}: a valid snapshot was refused: ${JSON.stringify(result.left)}`)
      // a snapshot is only valid here on a stream with commits, so the stream exists in the model
      model.ensure(tenantId, streamId).snapshots.set(rev as number, { ...snap, payload: imageOf(o.payload) as never, headers: imageOf(o.headers) as never })
      return
    }
    case 'get': {
      const streamId = run.streams[o.s] as string
      const range = { ...(o.min === undefined ? {} : { minRevision: o.min as number }), ...(o.max === undefined ? {} : { maxRevision: o.max as number }) }
      await expectRead(
        `${label} ${String(o.min)}..${String(o.max)}`,
        () => store.get(tenantId, streamId, range),
        { bounds: isOptionalBound(o.min) && isOptionalBound(o.max), ids: okTenant && storableId('streamId', streamId) },
        (got) => {
          const min = o.min === undefined || (o.min as number) <= 0 ? 1 : (o.min as number)
          const max = o.max === undefined || (o.max as number) <= 0 ? Number.POSITIVE_INFINITY : (o.max as number)
          const expected = (model.stream(tenantId, streamId)?.commits ?? []).filter((c) => c.streamRevision >= min && firstRevision(c) <= max)
          expectStored(label, got, expected)
        },
      )
      return
    }
    case 'getTo': {
      const streamId = run.streams[o.s] as string
      await expectRead(
        label,
        () => store.getTo(tenantId, streamId, o.time as Date),
        { bounds: isTime(o.time), ids: okTenant && storableId('streamId', streamId) },
        (got) => {
          const limit = (o.time as Date).getTime()
          expectStored(label, got, (model.stream(tenantId, streamId)?.commits ?? []).filter((c) => c.commitStamp.getTime() <= limit))
        },
      )
      return
    }
    case 'getAllTo': {
      await expectRead(label, () => store.getAllTo(tenantId, o.time as Date), { bounds: isTime(o.time), ids: okTenant }, (got) => {
        const limit = (o.time as Date).getTime()
        expectByShard(run, label, got, model.log(tenantId).filter((c) => c.commitStamp.getTime() <= limit))
      })
      return
    }
    case 'getFrom':
    case 'getFromTo': {
      // without a tenant these read every tenant of the store, which other runs share
      if (tenantId === undefined) return
      const from = tokenOf(run, o.from)
      const to = o.kind === 'getFromTo' ? tokenOf(run, o.to) : Number.POSITIVE_INFINITY
      for (const [k, log] of logsOf(run)) {
        await expectRead(
          `${label} (${String(from)}, ${String(to)}]${k === undefined ? '' : ` of shard ${k}`}`,
          () => (o.kind === 'getFrom' ? log.getFrom(from as number, tenantId) : log.getFromTo(from as number, to as number, tenantId)),
          { bounds: isBound(from) && isBound(to), ids: okTenant },
          (got) =>
            expectStored(label, got, inShard(run, k, model.log(tenantId)).filter((c) => c.checkpointToken > (from as number) && c.checkpointToken <= (to as number))),
        )
      }
      return
    }
    case 'getSnapshot': {
      const streamId = run.streams[o.s] as string
      const result = await settles(label, () => store.getSnapshot(tenantId, streamId, o.max as number))
      if (!isOptionalBound(o.max)) {
        const ok = (E.isLeft(result) && result.left._tag === 'InvalidArgument') || (!(okTenant && storableId('streamId', streamId)) && E.isRight(result) && O.isNone(result.right))
        expect(ok, `${label}: a bound that means nothing must be an InvalidArgument, got ${JSON.stringify(result)}`).toBe(true)
        return
      }
      if (E.isLeft(result)) return expect.fail(`${label}: ${JSON.stringify(result.left)}`)
      const max = o.max === undefined || o.max <= 0 ? Number.POSITIVE_INFINITY : o.max
      const expected = okTenant && storableId('streamId', streamId) ? model.newestSnapshot(model.stream(tenantId, streamId), max) : undefined
      if (expected === undefined) expect(result.right, `${label}: no snapshot`).toEqual(O.none)
      else {
        if (O.isNone(result.right)) return expect.fail(`${label}: expected the snapshot at ${expected.streamRevision}, got none`)
        const got = result.right.value
        expect({ ...got, payload: null, headers: null }, label).toEqual({ ...expected, payload: null, headers: null })
        expectSameJson(got.payload, expected.payload, `${label}: payload`)
        expectSameJson(got.headers, expected.headers, `${label}: headers`)
      }
      return
    }
    case 'streamsToSnapshot': {
      await expectRead(label, () => store.streamsToSnapshot(tenantId, o.threshold as number), { bounds: isBound(o.threshold), ids: okTenant }, (got) => {
        const threshold = Math.max(0, o.threshold as number)
        const expected: StreamHead[] = []
        for (const [streamId, data] of model.tenants.get(tenantId) ?? []) {
          const head = data.commits.at(-1)
          if (head === undefined) continue
          const snapshotRevision = model.newestSnapshot(data, Number.POSITIVE_INFINITY)?.streamRevision ?? 0
          if (head.streamRevision - snapshotRevision >= threshold) expected.push({ tenantId, streamId, headRevision: head.streamRevision, snapshotRevision })
        }
        const order = (x: StreamHead, y: StreamHead) => (x.streamId < y.streamId ? -1 : x.streamId > y.streamId ? 1 : 0)
        expect([...got].sort(order), label).toEqual(expected.sort(order))
      })
      return
    }
    case 'deleteStream': {
      const streamId = run.streams[o.s] as string
      const result = await settles(label, () => store.deleteStream(tenantId, streamId))
      expect(E.isRight(result), `${label}: ${JSON.stringify(result)}`).toBe(true)
      if (okTenant && storableId('streamId', streamId)) model.tenants.get(tenantId)?.delete(streamId)
      return
    }
    case 'purge': {
      // purge(undefined) is purge() of every tenant, which other runs share
      if (tenantId === undefined) return
      const result = await settles(label, () => store.purge(tenantId))
      expect(E.isRight(result), `${label}: ${JSON.stringify(result)}`).toBe(true)
      if (okTenant) model.tenants.delete(tenantId)
      return
    }
  }
}

const pick = (a: CommitAttempt): Omit<Commit, 'headers' | 'events' | 'checkpointToken'> => ({
  tenantId: a.tenantId,
  streamId: a.streamId,
  streamRevision: a.streamRevision,
  commitId: a.commitId,
  commitSequence: a.commitSequence,
  commitStamp: a.commitStamp,
})

/** At the end of a run, every pair of ids reads back as the model has it, and no id reaches another's data. */
const finalCheck = async (run: Run): Promise<void> => {
  const { store, model } = run
  for (const tenantId of run.tenants) {
    const okTenant = storableId('tenantId', tenantId)
    if (tenantId !== undefined) {
      for (const [k, log] of logsOf(run)) {
        await expectRead(`end: getFrom(0, ${JSON.stringify(tenantId)})${k === undefined ? '' : ` of shard ${k}`}`, () => log.getFrom(0, tenantId as string), { bounds: true, ids: okTenant }, (got) => {
          for (const c of got) expect(c.tenantId, 'a tenant read returns its own tenant only').toBe(tenantId)
          expectStored('end: tenant log', got, inShard(run, k, model.log(tenantId as string)))
        })
      }
    }
    for (const streamId of run.streams) {
      const ok = okTenant && storableId('streamId', streamId)
      await expectRead(`end: get(${JSON.stringify(tenantId)}, ${JSON.stringify(streamId)})`, () => store.get(tenantId as string, streamId as string), { bounds: true, ids: ok }, (got) => {
        for (const c of got) expect([c.tenantId, c.streamId], 'a stream read returns its own stream only').toEqual([tenantId, streamId])
        expectStored('end: stream', got, model.stream(tenantId as string, streamId as string)?.commits ?? [])
      })
      await step(run, { kind: 'getSnapshot', t: run.tenants.indexOf(tenantId), s: run.streams.indexOf(streamId), max: undefined }, -1)
    }
  }
}

/**
 * The fuzz of SEMANTICS 13-15: random histories of commits and snapshots carrying arbitrary values (JSON or
 * not), under arbitrary ids (U+0000, lone surrogates, combining marks, astral characters, lengths around the
 * limits, non-strings, and twins of each other), interleaved with reads under arbitrary bounds (NaN, ±Infinity,
 * fractions, huge numbers, Invalid Dates, non-numbers) and deletes. Every call must resolve (reads yield
 * Eithers), every refusal must be the typed one, everything stored must read back as its JSON image, and no
 * read, delete or purge may reach another id's data. All runs share one store; each run has ids of its own.
 */
export const storeFuzz = async (harness: StoreHarness, options: FuzzOptions = {}): Promise<void> => {
  await withFreshStore(harness, async (store) => {
    await fc.assert(
      fc.asyncProperty(pools, fc.array(op, { minLength: 2, maxLength: options.maxOperations ?? 12, size: 'max' }), async (p, ops) => {
        const prefix = `${randomUUID()}/`
        const run: Run = {
          store,
          feeds: harness.feeds,
          model: new Model(),
          tenants: poolOf(p.tenants, prefix, 'tenantId'),
          streams: poolOf(p.streams, 's/', 'streamId'),
          prefix,
        }
        for (const [i, o] of ops.entries()) await step(run, o, i)
        await finalCheck(run)
      }),
      { numRuns: options.numRuns ?? 20, ...(options.seed === undefined ? {} : { seed: options.seed }) },
    )
  })
}
