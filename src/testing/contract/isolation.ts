import { randomUUID } from 'node:crypto'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import { ID_LIMITS } from '../../eventstore/index.js'
import type { StoreHarness } from './harness.js'
import { at, attempt, collect, expectCommits, expectLog, logFor, freshIds, idOfBytes, left, right, sharedStore, snapshot, some, writeStream } from './fixtures.js'

/**
 * Ids that break naive stores: SQL quoting and LIKE wildcards, separators a store might concatenate with,
 * control characters (NUL excepted: PostgreSQL text cannot hold it), SQL keywords, and Unicode beyond the BMP.
 */
export const awkwardIds: readonly string[] = [
  `it's "quoted"`,
  `back\\slash\\`,
  '100%_done',
  '%',
  '_',
  'a/b/c',
  'a:b::c',
  'a|b',
  'a#b$c',
  'tab\tnew\nline\r\u0001\u001f\u007f',
  "'; DROP TABLE commits; --",
  'SELECT * FROM "x" WHERE 1=1',
  'null',
  'undefined',
  ' leading and trailing ',
  '日本語のテナント',
  'emoji 🏦💸👩🏽‍💻',
  'combining e\u0301 vs é',
  'zero\u200bwidth',
  // as long as a commit id may be (128 bytes of UTF-8), in ASCII and in characters of 1 to 4 bytes
  'x'.repeat(ID_LIMITS.commitId),
  idOfBytes('long ', ID_LIMITS.commitId),
]

/** SEMANTICS 13: tenants and ids. */
export const isolationContract = (harness: StoreHarness): void => {
  describe(`${harness.name}: isolation (SEMANTICS 13)`, () => {
    const store = sharedStore(harness)

    it('SEMANTICS 13: the same stream id in two tenants is two streams', async () => {
      // given one stream id in two tenants
      const streamId = `account-${randomUUID()}`
      const a = { tenantId: `bank-a-${randomUUID()}`, streamId }
      const b = { tenantId: `bank-b-${randomUUID()}`, streamId }
      // when both start the stream at sequence 1, with the same commit id even
      const commitId = randomUUID()
      const ca = right(await store().commit(attempt({ ...a, commitSequence: 1, events: 2, commitId })))
      const cb = right(await store().commit(attempt({ ...b, commitSequence: 1, commitId })))
      // then neither sees the other
      expectCommits(await collect(store().get(a.tenantId, streamId)), [ca])
      expectCommits(await collect(store().get(b.tenantId, streamId)), [cb])
      expectCommits(await collect(logFor(harness, store(), { tenantId: a.tenantId, streamId }).getFrom(0, a.tenantId)), [ca])
      expectCommits(await collect(store().getAllTo(b.tenantId, at(1_000_000))), [cb])
      expectCommits(await collect(store().getTo(a.tenantId, streamId, at(1_000_000))), [ca])
      // and snapshots are per tenant too
      right(await store().addSnapshot(snapshot(a, 2, 'a')))
      expect(right(await store().getSnapshot(b.tenantId, streamId))).toEqual(O.none)
      expect(await collect(store().streamsToSnapshot(b.tenantId, 1))).toEqual([
        { ...b, headRevision: 1, snapshotRevision: 0 },
      ])
      expect(await collect(store().streamsToSnapshot(a.tenantId, 1))).toEqual([])
    })

    it('SEMANTICS 13: ids with quotes, separators, control characters, SQL keywords and Unicode round-trip verbatim', async () => {
      for (const id of awkwardIds) {
        // given the awkward id as tenant, stream and commit id at once
        const ids = { tenantId: `${id}-${randomUUID()}`, streamId: id }
        const a = attempt({ ...ids, commitSequence: 1, commitId: id, events: 2 })
        const c = right(await store().commit(a))
        expect(c.tenantId, id).toBe(ids.tenantId)
        expect(c.streamId, id).toBe(id)
        expect(c.commitId, id).toBe(id)
        // then every read gives it back exactly
        expectCommits(await collect(store().get(ids.tenantId, id)), [c])
        expectCommits(await collect(logFor(harness, store(), { tenantId: ids.tenantId, streamId: id }).getFrom(0, ids.tenantId)), [c])
        expectCommits(await collect(store().getAllTo(ids.tenantId, at(1_000_000))), [c])
        right(await store().addSnapshot(snapshot(ids, 1, id)))
        expect(some(right(await store().getSnapshot(ids.tenantId, id))).streamId).toBe(id)
        expect(await collect(store().streamsToSnapshot(ids.tenantId, 1))).toEqual([{ ...ids, headRevision: 2, snapshotRevision: 1 }])
        // and the id still identifies the stream for conflicts and duplicates
        left(await store().commit(attempt({ ...ids, commitSequence: 1 })), 'ConcurrencyConflict')
        left(await store().commit(attempt({ ...ids, commitSequence: 2, firstRevision: 3, commitId: id })), 'DuplicateCommit')
      }
      // and a commit id one byte longer than the longest of them is refused, and nothing is stored
      const ids = freshIds()
      for (const commitId of ['x'.repeat(ID_LIMITS.commitId + 1), idOfBytes('long ', ID_LIMITS.commitId + 1)]) {
        left(await store().commit(attempt({ ...ids, commitSequence: 1, commitId })), 'InvalidAttempt')
      }
      await expectLog(harness, store(), (r) => r.getFrom(0, ids.tenantId), [])
    }, 120_000)

    it('SEMANTICS 13: a tenant and a stream never alias another pair, whatever separator a store might use', async () => {
      const run = randomUUID()
      const pairs: ReadonlyArray<readonly [string, string]> = [
        ['ab', 'c'],
        ['a', 'bc'],
        ['a:b', 'c'],
        ['a', 'b:c'],
        ['a|b', 'c'],
        ['a', 'b|c'],
        ['a/b', 'c'],
        ['a', 'b/c'],
        ['a#b', 'c'],
        ['a', 'b#c'],
        ['a\u0001b', 'c'],
        ['a', 'b\u0001c'],
        ['a.b', 'c'],
        ['a', 'b.c'],
        // collations that ignore case, trailing spaces or Unicode normalisation must not merge ids
        ['ci', 'Account'],
        ['ci', 'account'],
        ['CI', 'account'],
        ['pad', 's'],
        ['pad', 's '],
        ['pad ', 's'],
        ['nf', '\u00e9'],
        ['nf', 'e\u0301'],
      ]
      // given one stream per pair, each started at sequence 1
      const written = []
      for (const [t, s] of pairs) {
        const ids = { tenantId: `${run}${t}`, streamId: s }
        written.push(right(await store().commit(attempt({ ...ids, commitSequence: 1 }))))
      }
      // then each pair reads back its own commit only
      for (const [i, [t, s]] of pairs.entries()) {
        expectCommits(await collect(store().get(`${run}${t}`, s)), [written[i]!])
      }
    })

    it('SEMANTICS 13: LIKE wildcards in ids match only themselves in purge and delete', async () => {
      const run = randomUUID()
      const ids = (tenant: string, stream: string) => ({ tenantId: `${run}-${tenant}`, streamId: stream })
      const keep = [ids('ab', 's1'), ids('a_b', 'sx'), ids('a%', 's'), ids('a%', 's_1')]
      const kept = []
      for (const k of keep) kept.push(...(await writeStream(store(), k, 1)))
      await writeStream(store(), ids('a_', 's'), 1)
      await writeStream(store(), ids('a%', 's%'), 1)
      // when purging tenant `a_` and deleting stream `s%` of tenant `a%`
      right(await store().purge(`${run}-a_`))
      right(await store().deleteStream(`${run}-a%`, 's%'))
      // then streams whose ids the wildcards would match are untouched
      for (const [i, k] of keep.entries()) expectCommits(await collect(store().get(k.tenantId, k.streamId)), [kept[i]!])
      expect(await collect(store().get(`${run}-a_`, 's'))).toEqual([])
      expect(await collect(store().get(`${run}-a%`, 's%'))).toEqual([])
    })

    it('SEMANTICS 13: a conflict in one tenant never involves another tenant\'s commits', async () => {
      const a = freshIds()
      const b = { tenantId: `${a.tenantId}-b`, streamId: a.streamId }
      await writeStream(store(), b, 3)
      const [ca] = await writeStream(store(), a, 1)
      const conflict = left(await store().commit(attempt({ ...a, commitSequence: 1 })), 'ConcurrencyConflict')
      expectCommits(conflict.missed, [ca!])
    })

    it('SEMANTICS 13: ids that cannot be stored exactly (U+0000, lone surrogates) are refused and nothing is stored', async () => {
      // given ids that UTF-8 drivers would change (a lone surrogate becomes U+FFFD) or text columns cannot hold
      const base = freshIds()
      const bad = [
        { ...base, streamId: `${base.streamId}\u0000nul` },
        { ...base, streamId: `${base.streamId}\ud800` },
        { ...base, tenantId: `${base.tenantId}\udc00` },
      ]
      for (const ids of bad) {
        // when an attempt names one
        const result = await store().commit(attempt({ ...ids, commitSequence: 1 }))
        // then it is an invalid attempt, not a silently changed id
        left(result, 'InvalidAttempt')
      }
      await expectLog(harness, store(), (r) => r.getFrom(0, base.tenantId), [])
    })
  })
}
