import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import type { Commit, Persistence, Reads, RevisionRange, StreamHead } from '../../eventstore/index.js'
import type { StoreHarness } from './harness.js'
import { at, collect, expectCommits, failsWith, freshIds, left, logFor, right, settles, sharedStore, snapshot, writeStream } from './fixtures.js'

/**
 * One tenant with two streams: `a` has commits of revisions 1-3, 4-6 and 7-9 stamped at +1s, +2s, +3s and
 * snapshots at 3 and 6 (three revisions behind its head); `b` has one commit of four events and no snapshot.
 */
/**
 * A tenant's two streams: a (three commits, snapshots at 3 and 6) then b (one commit). On a store of feed shards
 * (`harness.feeds`) b is chosen in a's shard, so that the four commits share one log and its token order.
 */
const seed = async (harness: StoreHarness, store: Persistence) => {
  const a = freshIds()
  let b = { tenantId: a.tenantId, streamId: `${a.streamId}-b` }
  for (let i = 0; harness.feeds !== undefined && harness.feeds.shardOf(b) !== harness.feeds.shardOf(a); i++) b = { tenantId: a.tenantId, streamId: `${a.streamId}-b${i}` }
  const commits = await writeStream(store, a, 3, 3, (i) => at((i + 1) * 1000))
  for (const r of [3, 6]) right(await store.addSnapshot(snapshot(a, r)))
  const [ofB] = await writeStream(store, b, 1, 4, () => at(1500))
  const [c1, c2, c3] = commits as [Commit, Commit, Commit]
  return { a, b, c1, c2, c3, ofB: ofB as Commit, tenantId: a.tenantId }
}

/** Asserts that two reads of the same store give the same commits, and returns them. */
const same = async (label: string, actual: Reads<Commit>, equivalent: Reads<Commit>): Promise<readonly Commit[]> => {
  const got = await settles(label, () => collect(actual))
  const expected = await collect(equivalent)
  expectCommits(got, expected)
  return got
}

const byStream = (x: StreamHead, y: StreamHead): number => (x.streamId < y.streamId ? -1 : x.streamId > y.streamId ? 1 : 0)

const heads = async (store: Persistence, tenantId: string, threshold: number): Promise<StreamHead[]> =>
  (await settles(`streamsToSnapshot(${threshold})`, () => collect(store.streamsToSnapshot(tenantId, threshold)))).sort(byStream)

const revisionAt = async (store: Persistence, ids: { tenantId: string; streamId: string }, max: number | undefined) => {
  const found = right(await settles(`getSnapshot(${String(max)})`, () => store.getSnapshot(ids.tenantId, ids.streamId, max)))
  return O.isSome(found) ? found.value.streamRevision : undefined
}

/** Bounds that mean nothing: NaN, and values of the wrong type from untyped callers. */
const notNumbers: ReadonlyArray<readonly [string, number]> = [
  ['NaN', Number.NaN],
  ['a numeric string', '3' as unknown as number],
  ['null', null as unknown as number],
  ['an object', {} as unknown as number],
]

/** SEMANTICS 5, 6, 7, 9 and 11: read bounds, normalised the same way on every store. */
export const boundsContract = (harness: StoreHarness): void => {
  describe(`${harness.name}: read bounds (SEMANTICS 5, 6, 7, 9, 11)`, () => {
    const store = sharedStore(harness)
    // The log the last seeded streams are in: the store's one log, or their feed shard's.
    let seeded = { tenantId: '', streamId: '' }
    const log = () => logFor(harness, store(), seeded)
    const seedLog = async () => {
      const r = await seed(harness, store())
      seeded = r.a
      return r
    }

    it('SEMANTICS 5: get with a NaN (or non-number) minRevision or maxRevision is an InvalidArgument, not a read from the start', async () => {
      const { a } = await seed(harness, store())
      for (const [what, bad] of notNumbers) {
        const ranges: readonly RevisionRange[] = [
          { minRevision: bad },
          { maxRevision: bad },
          { minRevision: bad, maxRevision: bad },
          { minRevision: bad, maxRevision: Number.POSITIVE_INFINITY },
          { minRevision: 1, maxRevision: bad },
        ]
        for (const range of ranges) {
          const e = await failsWith(`get ${what} ${JSON.stringify(range)}`, () => store().get(a.tenantId, a.streamId, range), 'InvalidArgument')
          expect(e.operation.length).toBeGreaterThan(0)
          expect(e.reason.length).toBeGreaterThan(0)
          expect(e.message.length).toBeGreaterThan(0)
        }
      }
    })

    it('SEMANTICS 5: maxRevision Infinity reads to the end and minRevision -Infinity from the start, as no bound does', async () => {
      const { a, c1, c2, c3 } = await seed(harness, store())
      const get = (range: RevisionRange) => store().get(a.tenantId, a.streamId, range)
      expectCommits(await same('max Infinity', get({ maxRevision: Number.POSITIVE_INFINITY }), get({})), [c1, c2, c3])
      await same('min -Infinity', get({ minRevision: Number.NEGATIVE_INFINITY }), get({}))
      await same('both infinite', get({ minRevision: Number.NEGATIVE_INFINITY, maxRevision: Number.POSITIVE_INFINITY }), get({}))
      expectCommits(await same('min 4, max Infinity', get({ minRevision: 4, maxRevision: Number.POSITIVE_INFINITY }), get({ minRevision: 4 })), [c2, c3])
      expectCommits(await same('min -Infinity, max 5', get({ minRevision: Number.NEGATIVE_INFINITY, maxRevision: 5 }), get({ maxRevision: 5 })), [c1, c2])
      // a non-positive maxRevision is no bound, and so is -Infinity
      await same('max -Infinity', get({ maxRevision: Number.NEGATIVE_INFINITY }), get({ maxRevision: 0 }))
      await same('max -0', get({ maxRevision: -0 }), get({}))
    })

    it('SEMANTICS 5: minRevision Infinity or past MAX_SAFE_INTEGER reads nothing, as a bound past the head does', async () => {
      const { a } = await seed(harness, store())
      const get = (range: RevisionRange) => store().get(a.tenantId, a.streamId, range)
      for (const min of [Number.POSITIVE_INFINITY, Number.MAX_VALUE, 2 ** 60, Number.MAX_SAFE_INTEGER + 2, Number.MAX_SAFE_INTEGER]) {
        expect(await same(`min ${min}`, get({ minRevision: min }), get({ minRevision: 10 }))).toEqual([])
        expect(await same(`min ${min}, max Infinity`, get({ minRevision: min, maxRevision: Number.POSITIVE_INFINITY }), get({ minRevision: 10 }))).toEqual([])
      }
    })

    it('SEMANTICS 5: a fractional minRevision rounds up and a fractional maxRevision rounds down', async () => {
      const { a, c1, c2, c3 } = await seed(harness, store())
      const get = (range: RevisionRange) => store().get(a.tenantId, a.streamId, range)
      expectCommits(await same('min 3.5', get({ minRevision: 3.5 }), get({ minRevision: 4 })), [c2, c3])
      expectCommits(await same('min 3.01', get({ minRevision: 3.01 }), get({ minRevision: 4 })), [c2, c3])
      expectCommits(await same('min 0.5', get({ minRevision: 0.5 }), get({ minRevision: 1 })), [c1, c2, c3])
      expectCommits(await same('max 3.99', get({ maxRevision: 3.99 }), get({ maxRevision: 3 })), [c1])
      expectCommits(await same('max 6.5', get({ maxRevision: 6.5 }), get({ maxRevision: 6 })), [c1, c2])
      expectCommits(await same('min 2.5, max 6.5', get({ minRevision: 2.5, maxRevision: 6.5 }), get({ minRevision: 3, maxRevision: 6 })), [c1, c2])
      expectCommits(await same('min 6.5, max 7.5', get({ minRevision: 6.5, maxRevision: 7.5 }), get({ minRevision: 7, maxRevision: 7 })), [c3])
    })

    it('SEMANTICS 5: a maxRevision past MAX_SAFE_INTEGER is clamped: it reads to the end', async () => {
      const { a, c1, c2, c3 } = await seed(harness, store())
      const get = (range: RevisionRange) => store().get(a.tenantId, a.streamId, range)
      for (const max of [2 ** 60, Number.MAX_VALUE, 1e300, Number.MAX_SAFE_INTEGER + 2]) {
        expectCommits(await same(`max ${max}`, get({ maxRevision: max }), get({ maxRevision: Number.MAX_SAFE_INTEGER })), [c1, c2, c3])
        expectCommits(await same(`min 5, max ${max}`, get({ minRevision: 5, maxRevision: max }), get({ minRevision: 5 })), [c2, c3])
      }
    })

    it('SEMANTICS 6: getTo and getAllTo with an Invalid Date (or a value that is not a Date) are an InvalidArgument', async () => {
      const { a } = await seed(harness, store())
      const bad: ReadonlyArray<readonly [string, Date]> = [
        ['an Invalid Date', new Date(Number.NaN)],
        ['an ISO string', '2026-01-15T10:30:00.000Z' as unknown as Date],
        ['a number', 8.64e15 as unknown as Date],
        ['null', null as unknown as Date],
      ]
      for (const [what, maxTime] of bad) {
        await failsWith(`getTo with ${what}`, () => store().getTo(a.tenantId, a.streamId, maxTime), 'InvalidArgument')
        await failsWith(`getAllTo with ${what}`, () => store().getAllTo(a.tenantId, maxTime), 'InvalidArgument')
      }
    })

    it('SEMANTICS 6: getTo and getAllTo with the latest Date read everything, with the earliest nothing', async () => {
      const { a, c1, c2, c3, ofB, tenantId } = await seed(harness, store())
      const latest = new Date(8.64e15)
      const earliest = new Date(-8.64e15)
      expectCommits(await same('getTo latest', store().getTo(a.tenantId, a.streamId, latest), store().getTo(a.tenantId, a.streamId, at(1e9))), [c1, c2, c3])
      expectCommits(await same('getAllTo latest', store().getAllTo(tenantId, latest), store().getAllTo(tenantId, at(1e9))), [c1, c2, c3, ofB])
      expect(await same('getTo earliest', store().getTo(a.tenantId, a.streamId, earliest), store().getTo(a.tenantId, a.streamId, at(-1e9)))).toEqual([])
      expect(await same('getAllTo earliest', store().getAllTo(tenantId, earliest), store().getAllTo(tenantId, at(-1e9)))).toEqual([])
    })

    it('SEMANTICS 7: getFrom(NaN), getFromTo(NaN, x) and getFromTo(x, NaN) are an InvalidArgument, never a read from 0', async () => {
      const { tenantId, c3 } = await seedLog()
      for (const [what, bad] of notNumbers) {
        for (const t of [tenantId, undefined]) {
          const scope = t === undefined ? 'every tenant' : 'one tenant'
          await failsWith(`getFrom(${what}) of ${scope}`, () => log().getFrom(bad, t), 'InvalidArgument')
          await failsWith(`getFromTo(${what}, x) of ${scope}`, () => log().getFromTo(bad, c3.checkpointToken, t), 'InvalidArgument')
          await failsWith(`getFromTo(0, ${what}) of ${scope}`, () => log().getFromTo(0, bad, t), 'InvalidArgument')
          await failsWith(`getFromTo(${what}, ${what}) of ${scope}`, () => log().getFromTo(bad, bad, t), 'InvalidArgument')
        }
      }
    })

    it('SEMANTICS 7: getFrom(-Infinity) reads from the beginning, and getFrom(Infinity) or past MAX_SAFE_INTEGER reads nothing', async () => {
      const { tenantId, c1, c2, c3, ofB } = await seedLog()
      expectCommits(await same('getFrom(-Infinity)', log().getFrom(Number.NEGATIVE_INFINITY, tenantId), log().getFrom(0, tenantId)), [c1, c2, c3, ofB])
      await same('getFrom(-5)', log().getFrom(-5, tenantId), log().getFrom(0, tenantId))
      for (const from of [Number.POSITIVE_INFINITY, Number.MAX_VALUE, 2 ** 60, Number.MAX_SAFE_INTEGER]) {
        expect(await same(`getFrom(${from})`, log().getFrom(from, tenantId), log().getFrom(ofB.checkpointToken, tenantId))).toEqual([])
        expect(await settles(`getFrom(${from}) of every tenant`, () => collect(log().getFrom(from)))).toEqual([])
      }
    })

    it('SEMANTICS 7: a fractional checkpoint reads the tokens above its whole part: getFrom(2.5) is getFrom(2)', async () => {
      const { tenantId, c1, c2, c3, ofB } = await seedLog()
      const [t1, t2, t3] = [c1.checkpointToken, c2.checkpointToken, c3.checkpointToken]
      expectCommits(await same('getFrom(t1 + 0.5)', log().getFrom(t1 + 0.5, tenantId), log().getFrom(t1, tenantId)), [c2, c3, ofB])
      expectCommits(await same('getFrom(t1 - 0.5)', log().getFrom(t1 - 0.5, tenantId), log().getFrom(t1 - 1, tenantId)), [c1, c2, c3, ofB])
      expectCommits(
        await same('getFromTo(t1 - 0.5, t2 + 0.5)', log().getFromTo(t1 - 0.5, t2 + 0.5, tenantId), log().getFromTo(t1 - 1, t2, tenantId)),
        [c1, c2],
      )
      // an upper bound rounds down too: (t1, t3 - 0.5] holds no token above t3 - 1
      expectCommits(await same('getFromTo(t1, t3 - 0.5)', log().getFromTo(t1, t3 - 0.5, tenantId), log().getFromTo(t1, t3 - 1, tenantId)), [c2])
      await same('getFromTo(0.5, t2 + 0.999)', log().getFromTo(0.5, t2 + 0.999, tenantId), log().getFromTo(0, t2, tenantId))
    })

    it('SEMANTICS 7: getFromTo with infinite or huge bounds is clamped: (-Infinity, Infinity] is everything, an upper bound of -Infinity nothing', async () => {
      const { tenantId, c1, c2, c3, ofB } = await seedLog()
      const all = () => log().getFrom(0, tenantId)
      expectCommits(
        await same('(-Infinity, Infinity]', log().getFromTo(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, tenantId), all()),
        [c1, c2, c3, ofB],
      )
      await same('(0, 2^60]', log().getFromTo(0, 2 ** 60, tenantId), all())
      await same('(0, MAX_VALUE]', log().getFromTo(0, Number.MAX_VALUE, tenantId), all())
      await same('(t1, Infinity]', log().getFromTo(c1.checkpointToken, Number.POSITIVE_INFINITY, tenantId), log().getFrom(c1.checkpointToken, tenantId))
      await same('(-Infinity, t2]', log().getFromTo(Number.NEGATIVE_INFINITY, c2.checkpointToken, tenantId), log().getFromTo(0, c2.checkpointToken, tenantId))
      expect(await settles('(0, -Infinity]', () => collect(log().getFromTo(0, Number.NEGATIVE_INFINITY, tenantId)))).toEqual([])
      expect(await settles('(Infinity, Infinity]', () => collect(log().getFromTo(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, tenantId)))).toEqual([])
      expect(await settles('(2^60, Infinity]', () => collect(log().getFromTo(2 ** 60, Number.POSITIVE_INFINITY)))).toEqual([])
      expect(await settles('(ofB, 2^60]', () => collect(log().getFromTo(ofB.checkpointToken, 2 ** 60, tenantId)))).toEqual([])
    })

    it('SEMANTICS 9: getSnapshot with a NaN (or non-number) maxRevision is an InvalidArgument', async () => {
      const { a } = await seed(harness, store())
      for (const [what, bad] of notNumbers) {
        const e = left(await settles(`getSnapshot(${what})`, () => store().getSnapshot(a.tenantId, a.streamId, bad)), 'InvalidArgument')
        expect(e.reason.length).toBeGreaterThan(0)
      }
    })

    it('SEMANTICS 9: getSnapshot with infinite, fractional and huge maxRevision: Infinity is no bound, 5.9 is 5', async () => {
      const { a } = await seed(harness, store())
      const newest = await revisionAt(store(), a, undefined)
      expect(newest).toBe(6)
      expect(await revisionAt(store(), a, Number.POSITIVE_INFINITY)).toBe(newest)
      expect(await revisionAt(store(), a, Number.NEGATIVE_INFINITY)).toBe(await revisionAt(store(), a, 0))
      expect(await revisionAt(store(), a, 2 ** 60)).toBe(newest)
      expect(await revisionAt(store(), a, Number.MAX_VALUE)).toBe(newest)
      expect(await revisionAt(store(), a, 5.9)).toBe(await revisionAt(store(), a, 5))
      expect(await revisionAt(store(), a, 5.9)).toBe(3)
      expect(await revisionAt(store(), a, 6.5)).toBe(6)
      expect(await revisionAt(store(), a, 2.99)).toBe(await revisionAt(store(), a, 2))
      expect(await revisionAt(store(), a, 2.99)).toBeUndefined()
    })

    it('SEMANTICS 11: streamsToSnapshot with a NaN (or non-number) threshold is an InvalidArgument', async () => {
      const { tenantId } = await seed(harness, store())
      for (const [what, bad] of notNumbers) {
        await failsWith(`streamsToSnapshot(${what})`, () => store().streamsToSnapshot(tenantId, bad), 'InvalidArgument')
      }
    })

    it('SEMANTICS 11: streamsToSnapshot with infinite, fractional and huge thresholds: 2.5 is 3, Infinity lists nothing', async () => {
      // given a stream 3 revisions past its snapshot and one 4 revisions past none
      const { tenantId, a, b } = await seed(harness, store())
      const both = [
        { ...a, headRevision: 9, snapshotRevision: 6 },
        { ...b, headRevision: 4, snapshotRevision: 0 },
      ].sort(byStream)
      expect(await heads(store(), tenantId, 3)).toEqual(both)
      expect(await heads(store(), tenantId, 2.5)).toEqual(await heads(store(), tenantId, 3))
      expect(await heads(store(), tenantId, 3.5)).toEqual(await heads(store(), tenantId, 4))
      expect(await heads(store(), tenantId, 3.5)).toEqual([{ ...b, headRevision: 4, snapshotRevision: 0 }])
      expect(await heads(store(), tenantId, 4.0001)).toEqual([])
      expect(await heads(store(), tenantId, Number.NEGATIVE_INFINITY)).toEqual(await heads(store(), tenantId, 0))
      expect(await heads(store(), tenantId, Number.NEGATIVE_INFINITY)).toEqual(both)
      expect(await heads(store(), tenantId, 0.5)).toEqual(await heads(store(), tenantId, 1))
      for (const threshold of [Number.POSITIVE_INFINITY, Number.MAX_VALUE, 2 ** 60, Number.MAX_SAFE_INTEGER]) {
        expect(await heads(store(), tenantId, threshold)).toEqual([])
      }
    })
  })
}
