import { randomUUID } from 'node:crypto'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import { ID_LIMITS, type Commit, type CommitAttempt, type Persistence, type Snapshot } from '../../eventstore/index.js'
import type { StoreHarness } from './harness.js'
import {
  at,
  attempt,
  collect,
  expectCommits,
  expectLog,
  freshIds,
  idOfBytes,
  left,
  logFor,
  next,
  right,
  settles,
  sharedStore,
  snapshot,
  some,
  utf8Bytes,
  withFreshStore,
  writeStream,
} from './fixtures.js'

type Ids = { readonly tenantId: string; readonly streamId: string }

/** Values an untyped caller might pass as an id: none can name a stream. */
const notIds: ReadonlyArray<readonly [string, unknown]> = [
  ['an empty string', ''],
  ['a number', 42],
  ['null', null],
  ['undefined', undefined],
  ['an object', { id: 'x' }],
  ['an array', ['x']],
]

/** Ids that no store can keep verbatim, derived from a storable one: UTF-8 drivers and text columns change them. */
const unstorableVariants = (id: string): ReadonlyArray<readonly [string, string]> => [
  ['U+0000 inside', `${id}\u0000`],
  ['U+0000 then more', `${id}\u0000tail`],
  ['a lone high surrogate', `${id}\ud800`],
  ['a lone high surrogate (U+DBFF)', `${id}\udbff`],
  ['a lone low surrogate', `${id}\udfff`],
  ['a reversed surrogate pair', `${id}\ude00\ud83d`],
  ['a lone low surrogate first', `\udc00${id}`],
]

/** A stream with two commits and a snapshot, to check that calls with other ids leave it whole. */
const seed = async (store: Persistence, ids: Ids): Promise<{ readonly commits: readonly Commit[]; readonly snapshot: Snapshot }> => {
  const commits = await writeStream(store, ids, 2)
  const snap = snapshot(ids, 2, { kept: ids.streamId })
  right(await store.addSnapshot(snap))
  return { commits, snapshot: snap }
}

/** Asserts that a seeded stream is whole: its commits, in its tenant's log too, and its snapshot. */
const expectIntact = async (harness: StoreHarness, store: Persistence, ids: Ids, seeded: { readonly commits: readonly Commit[]; readonly snapshot: Snapshot }) => {
  expectCommits(await collect(store.get(ids.tenantId, ids.streamId)), seeded.commits)
  expectCommits(await collect(logFor(harness, store, ids).getFrom(0, ids.tenantId)), seeded.commits)
  expect(some(right(await store.getSnapshot(ids.tenantId, ids.streamId)))).toEqual(seeded.snapshot)
}

/**
 * Asserts that every read of (tenantId, streamId) finds nothing, as a success; the tenant-wide reads too, unless
 * the tenant holds other streams (`tenantHoldsData`).
 */
const expectNothingAt = async (harness: StoreHarness, store: Persistence, what: string, tenantId: unknown, streamId: unknown, tenantHoldsData = false) => {
  const t = tenantId as string
  const s = streamId as string
  const reads = {
    get: store.get(t, s),
    'get (bounded)': store.get(t, s, { minRevision: 1, maxRevision: 10 }),
    getTo: store.getTo(t, s, at(1_000_000)),
    ...(tenantHoldsData
      ? {}
      : {
          getAllTo: store.getAllTo(t, at(1_000_000)),
          streamsToSnapshot: store.streamsToSnapshot(t, 0),
          // without a tenant, getFrom and getFromTo read every tenant (of every feed shard, when it has shards)
          ...(tenantId === undefined
            ? {}
            : Object.fromEntries(
                (harness.feeds?.readers(store) ?? [store]).flatMap((log, k) => [
                  [`getFrom (log ${k})`, log.getFrom(0, t)],
                  [`getFromTo (log ${k})`, log.getFromTo(0, Number.MAX_SAFE_INTEGER, t)],
                ]),
              )),
        }),
  }
  for (const [name, read] of Object.entries(reads)) {
    const found = await settles(`${what}: ${name}`, () => collect(read as AsyncIterable<never>))
    expect(found, `${what}: ${name}`).toEqual([])
  }
  const snap = await settles(`${what}: getSnapshot`, () => store.getSnapshot(t, s))
  expect(right(snap), `${what}: getSnapshot`).toEqual(O.none)
}

/** The attempt with one field replaced by whatever an untyped caller passed. */
const withField = (a: CommitAttempt, field: 'tenantId' | 'streamId' | 'commitId', value: unknown): CommitAttempt =>
  ({ ...a, [field]: value }) as unknown as CommitAttempt

const snapshotWith = (s: Snapshot, field: 'tenantId' | 'streamId', value: unknown): Snapshot => ({ ...s, [field]: value }) as unknown as Snapshot

/** SEMANTICS 13: which ids can be stored, at every entry point that takes one. */
export const idsContract = (harness: StoreHarness): void => {
  describe(`${harness.name}: ids at every entry point (SEMANTICS 13)`, () => {
    const store = sharedStore(harness)

    it('SEMANTICS 13: ids exactly at the limits (tenant 256, stream 1,024, commit id 128 bytes of UTF-8) are stored, read back and deleted verbatim', async () => {
      // given ids of exactly the limit in bytes, made of control, multi-byte and 4-byte characters and combining marks
      const ids = { tenantId: idOfBytes(`${randomUUID()}/`, ID_LIMITS.tenantId), streamId: idOfBytes('stream/', ID_LIMITS.streamId) }
      const commitIds = [idOfBytes('c1/', ID_LIMITS.commitId), idOfBytes('c2/', ID_LIMITS.commitId)] as const
      expect(utf8Bytes(ids.tenantId)).toBe(ID_LIMITS.tenantId)
      expect(ids.tenantId.length).toBeLessThan(ID_LIMITS.tenantId)
      expect(utf8Bytes(ids.streamId)).toBe(ID_LIMITS.streamId)
      expect(utf8Bytes(commitIds[0])).toBe(ID_LIMITS.commitId)
      // when two commits and a snapshot are stored under them
      const c1 = right(await store().commit(attempt({ ...ids, commitSequence: 1, events: 2, commitId: commitIds[0] })))
      const c2 = right(await store().commit(next(c1, ids, { commitId: commitIds[1] })))
      expect([c1.tenantId, c1.streamId, c1.commitId]).toEqual([ids.tenantId, ids.streamId, commitIds[0]])
      const snap = { ...snapshot(ids, 2, { at: 'the limit' }), commitSequence: 1 }
      right(await store().addSnapshot(snap))
      // then every read gives them back verbatim
      expectCommits(await collect(store().get(ids.tenantId, ids.streamId)), [c1, c2])
      expectCommits(await collect(store().get(ids.tenantId, ids.streamId, { minRevision: 3, maxRevision: 3 })), [c2])
      expectCommits(await collect(store().getTo(ids.tenantId, ids.streamId, at(1_000_000))), [c1, c2])
      expectCommits(await collect(store().getAllTo(ids.tenantId, at(1_000_000))), [c1, c2])
      expectCommits(await collect(logFor(harness, store(), ids).getFrom(0, ids.tenantId)), [c1, c2])
      expectCommits(await collect(logFor(harness, store(), ids).getFromTo(0, c2.checkpointToken, ids.tenantId)), [c1, c2])
      expect(some(right(await store().getSnapshot(ids.tenantId, ids.streamId)))).toEqual(snap)
      expect(await collect(store().streamsToSnapshot(ids.tenantId, 0))).toEqual([{ ...ids, headRevision: 3, snapshotRevision: 2 }])
      // and the long commit id still identifies its commit
      left(await store().commit(next(c2, ids, { commitId: commitIds[0] })), 'DuplicateCommit')
      // and deleteStream and purge find the stream by its long ids
      right(await store().deleteStream(ids.tenantId, ids.streamId))
      expect(await collect(store().get(ids.tenantId, ids.streamId))).toEqual([])
      expect(right(await store().getSnapshot(ids.tenantId, ids.streamId))).toEqual(O.none)
      const [again] = await writeStream(store(), ids, 1)
      expect(again?.commitSequence).toBe(1)
      right(await store().addSnapshot(snapshot(ids, 1)))
      right(await store().purge(ids.tenantId))
      await expectLog(harness, store(), (r) => r.getFrom(0, ids.tenantId), [])
      expect(right(await store().getSnapshot(ids.tenantId, ids.streamId))).toEqual(O.none)
    })

    it('SEMANTICS 13: an id one byte over its limit is refused by commit and addSnapshot as an InvalidAttempt, and nothing is stored', async () => {
      const prefix = `${randomUUID()}/`
      const over = {
        tenantId: idOfBytes(prefix, ID_LIMITS.tenantId + 1),
        streamId: idOfBytes('stream/', ID_LIMITS.streamId + 1),
        commitId: idOfBytes('c/', ID_LIMITS.commitId + 1),
      }
      // the id a store that truncates to the limit would keep instead
      const truncated = { tenantId: idOfBytes(prefix, ID_LIMITS.tenantId), streamId: idOfBytes('stream/', ID_LIMITS.streamId) }
      const ok = { tenantId: `${prefix}ok`, streamId: 'stream' }
      for (const field of ['tenantId', 'streamId', 'commitId'] as const) {
        expect(utf8Bytes(over[field]), field).toBe(ID_LIMITS[field] + 1)
        const base = attempt({ ...ok, commitSequence: 1 })
        const e = left(await store().commit(withField(base, field, over[field])), 'InvalidAttempt')
        expect(e.reason.length, field).toBeGreaterThan(0)
      }
      for (const field of ['tenantId', 'streamId'] as const) {
        left(await store().addSnapshot(snapshotWith(snapshot(ok, 1), field, over[field])), 'InvalidAttempt')
      }
      // then nothing was stored, under the long ids or under the ids they would be cut to
      await expectNothingAt(harness, store(), 'the tenant one byte over', over.tenantId, ok.streamId)
      await expectNothingAt(harness, store(), 'the tenant cut to the limit', truncated.tenantId, ok.streamId)
      await expectNothingAt(harness, store(), 'the stream one byte over', ok.tenantId, over.streamId)
      await expectNothingAt(harness, store(), 'the stream cut to the limit', ok.tenantId, truncated.streamId)
      await expectNothingAt(harness, store(), 'the stream of the long commit id', ok.tenantId, ok.streamId)
    })

    it('SEMANTICS 13: the limits count UTF-8 bytes, not characters or UTF-16 units', async () => {
      // given ids within their limit in characters but over it in bytes, and ids of 4-byte characters at the limit
      const prefix = randomUUID()
      const atLimit = {
        tenantId: `${prefix}${'\u{1F600}'.repeat((ID_LIMITS.tenantId - 36) / 4)}`,
        streamId: '\u{1F600}'.repeat(ID_LIMITS.streamId / 4),
        commitId: '\u{1F600}'.repeat(ID_LIMITS.commitId / 4),
      }
      const overInBytes = {
        tenantId: `${prefix}${'\u20ac'.repeat(Math.floor((ID_LIMITS.tenantId - 36) / 3) + 1)}`,
        streamId: '\u20ac'.repeat(Math.floor(ID_LIMITS.streamId / 3) + 1),
        commitId: '\u20ac'.repeat(Math.floor(ID_LIMITS.commitId / 3) + 1),
      }
      for (const field of ['tenantId', 'streamId', 'commitId'] as const) {
        expect(utf8Bytes(atLimit[field]), field).toBe(ID_LIMITS[field])
        expect(utf8Bytes(overInBytes[field]), field).toBeGreaterThan(ID_LIMITS[field])
        expect(overInBytes[field].length, field).toBeLessThan(ID_LIMITS[field])
      }
      // then the ids at the limit are stored
      const c = right(await store().commit(attempt({ ...atLimit, commitSequence: 1 })))
      expect([c.tenantId, c.streamId, c.commitId]).toEqual([atLimit.tenantId, atLimit.streamId, atLimit.commitId])
      right(await store().addSnapshot(snapshot(atLimit, 1)))
      expectCommits(await collect(store().get(atLimit.tenantId, atLimit.streamId)), [c])
      // and the ids over it are refused
      const ok = { tenantId: `${prefix}-ok`, streamId: 'stream' }
      for (const field of ['tenantId', 'streamId', 'commitId'] as const) {
        left(await store().commit(withField(attempt({ ...ok, commitSequence: 1 }), field, overInBytes[field])), 'InvalidAttempt')
      }
      for (const field of ['tenantId', 'streamId'] as const) {
        left(await store().addSnapshot(snapshotWith(snapshot(ok, 1), field, overInBytes[field])), 'InvalidAttempt')
      }
      await expectNothingAt(harness, store(), 'the stream of the refused commits', ok.tenantId, ok.streamId)
    })

    it('SEMANTICS 13: reads, deleteStream and purge of an id over its limit find nothing, and never reach the id it would be cut to', async () => {
      // given a stream whose tenant and stream ids are at the limit
      const ids = { tenantId: idOfBytes(`${randomUUID()}/`, ID_LIMITS.tenantId), streamId: idOfBytes('s/', ID_LIMITS.streamId) }
      const seeded = await seed(store(), ids)
      // when reading, deleting and purging the same ids with one more byte (or character)
      for (const suffix of ['x', '\u00e9', '\u{1F600}']) {
        const longTenant = `${ids.tenantId}${suffix}`
        const longStream = `${ids.streamId}${suffix}`
        await expectNothingAt(harness, store(), `tenant + ${suffix}`, longTenant, ids.streamId)
        await expectNothingAt(harness, store(), `stream + ${suffix}`, ids.tenantId, longStream, true)
        right(await settles('deleteStream (long tenant)', () => store().deleteStream(longTenant, ids.streamId)))
        right(await settles('deleteStream (long stream)', () => store().deleteStream(ids.tenantId, longStream)))
        right(await settles('purge (long tenant)', () => store().purge(longTenant)))
      }
      // then the stream at the limit is whole
      await expectIntact(harness, store(), ids, seeded)
    })

    it('SEMANTICS 13: addSnapshot refuses ids with U+0000 or a lone surrogate as an InvalidAttempt, and nothing is stored', async () => {
      const ids = freshIds()
      const seeded = await seed(store(), ids)
      for (const field of ['tenantId', 'streamId'] as const) {
        for (const [what, bad] of unstorableVariants(ids[field])) {
          const result = await settles(`addSnapshot (${field}: ${what})`, () =>
            store().addSnapshot(snapshotWith(snapshot(ids, 1, { bad: what }), field, bad)),
          )
          left(result, 'InvalidAttempt')
        }
      }
      // and the stream's own snapshot is still the one it had, not one of the refused ones under a changed id
      await expectIntact(harness, store(), ids, seeded)
    })

    it('SEMANTICS 13: commit refuses commit ids with U+0000 or a lone surrogate, and nothing is stored', async () => {
      const ids = freshIds()
      const seeded = await seed(store(), ids)
      const head = seeded.commits[seeded.commits.length - 1]
      const commitId = seeded.commits[0]?.commitId as string
      for (const [what, bad] of unstorableVariants(commitId)) {
        left(await settles(`commit (commitId: ${what})`, () => store().commit(next(head, ids, { commitId: bad }))), 'InvalidAttempt')
      }
      await expectIntact(harness, store(), ids, seeded)
    })

    it('SEMANTICS 13: reads of ids with U+0000 or a lone surrogate find nothing, not even what a driver would turn them into', async () => {
      // given streams whose ids hold U+FFFD (what a UTF-8 driver makes of a lone surrogate) and a plain prefix
      const base = `${randomUUID()}-ten`
      const replaced = { tenantId: `${base}\ufffd`, streamId: 's\ufffd' }
      const plain = { tenantId: base, streamId: 's' }
      await seed(store(), replaced)
      await seed(store(), plain)
      // when reading with the lone-surrogate and NUL forms of those ids, then nothing is found
      for (const [what, tenantId] of [
        ['tenant with U+DBFF for U+FFFD', `${base}\udbff`],
        ['tenant with U+DFFF for U+FFFD', `${base}\udfff`],
        ['tenant with U+D800 for U+FFFD', `${base}\ud800`],
        ...unstorableVariants(base),
      ] as const) {
        await expectNothingAt(harness, store(), what, tenantId, replaced.streamId)
        await expectNothingAt(harness, store(), what, tenantId, plain.streamId)
      }
      for (const [what, streamId] of [['stream with U+DBFF for U+FFFD', 's\udbff'], ...unstorableVariants('s')] as const) {
        await expectNothingAt(harness, store(), what, replaced.tenantId, streamId, true)
        await expectNothingAt(harness, store(), what, plain.tenantId, streamId, true)
      }
    })

    it('SEMANTICS 13: deleteStream and purge of ids with U+0000 or a lone surrogate succeed and delete nothing, not even another tenant\'s data', async () => {
      // given a tenant whose id holds U+FFFD, and one that is a prefix of NUL-holding ids
      const base = `${randomUUID()}-ten`
      const replaced = { tenantId: `${base}\ufffd`, streamId: 's\ufffd' }
      const plain = { tenantId: base, streamId: 's' }
      const seededReplaced = await seed(store(), replaced)
      const seededPlain = await seed(store(), plain)
      // when purging and deleting with the lone-surrogate and NUL forms of their ids
      const tenants = [`${base}\udbff`, `${base}\udfff`, ...unstorableVariants(base).map(([, id]) => id)]
      for (const tenantId of tenants) {
        right(await settles(`purge(${JSON.stringify(tenantId)})`, () => store().purge(tenantId)))
        right(await settles(`deleteStream(${JSON.stringify(tenantId)}, s)`, () => store().deleteStream(tenantId, replaced.streamId)))
        right(await settles(`deleteStream(${JSON.stringify(tenantId)}, s)`, () => store().deleteStream(tenantId, plain.streamId)))
      }
      for (const streamId of ['s\udbff', ...unstorableVariants('s').map(([, id]) => id)]) {
        right(await settles(`deleteStream(t, ${JSON.stringify(streamId)})`, () => store().deleteStream(replaced.tenantId, streamId)))
        right(await settles(`deleteStream(t, ${JSON.stringify(streamId)})`, () => store().deleteStream(plain.tenantId, streamId)))
      }
      // then both tenants are whole
      await expectIntact(harness, store(), replaced, seededReplaced)
      await expectIntact(harness, store(), plain, seededPlain)
    })
  })

  describe(`${harness.name}: ids from untyped callers (SEMANTICS 13)`, () => {
    it('SEMANTICS 13: ids that are empty or not strings are refused by commit and addSnapshot, found by no read, and deleted or purged as nothing', async () => {
      await withFreshStore(harness, async (store) => {
        // given one stream in the store
        const ids = freshIds()
        const seeded = await seed(store, ids)
        for (const [what, bad] of notIds) {
          // when an attempt or a snapshot names the value as an id, then it is an invalid attempt
          for (const field of ['tenantId', 'streamId', 'commitId'] as const) {
            const a = withField(next(seeded.commits[1], ids), field, bad)
            left(await settles(`commit (${field}: ${what})`, () => store.commit(a)), 'InvalidAttempt')
          }
          for (const field of ['tenantId', 'streamId'] as const) {
            left(await settles(`addSnapshot (${field}: ${what})`, () => store.addSnapshot(snapshotWith(snapshot(ids, 1), field, bad))), 'InvalidAttempt')
          }
          // and reads with it find nothing
          await expectNothingAt(harness, store, `tenant ${what}`, bad, ids.streamId)
          await expectNothingAt(harness, store, `stream ${what}`, ids.tenantId, bad, true)
          // and deleting or purging it deletes nothing: in particular purge(null) or purge('') is not purge()
          // (purge(undefined) is purge() by the port's signature, so it is left out)
          if (bad !== undefined) right(await settles(`purge(${what})`, () => store.purge(bad as string)))
          right(await settles(`deleteStream(${what}, s)`, () => store.deleteStream(bad as string, ids.streamId)))
          right(await settles(`deleteStream(t, ${what})`, () => store.deleteStream(ids.tenantId, bad as string)))
        }
        // then the store holds exactly the stream it held
        await expectIntact(harness, store, ids, seeded)
        await expectLog(harness, store, (r) => r.getFrom(0), seeded.commits)
      })
    })
  })
}
