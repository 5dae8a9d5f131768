import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import fc from 'fast-check'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import type { Commit, Json, Persistence, Projectable, ProjectionMode, Subscribable } from '../../src/eventstore/index.js'
import { defineEvent, topicMap, type EventOf } from '../../src/eventstore/index.js'
import { documentProjection, documentsOf, rebuildDocuments, startProjection, type RebuildProgress } from '../../src/projections/index.js'
import { must } from './fixtures.js'

export type DocStore = Persistence & Subscribable & Projectable<unknown, ProjectionMode>

/** Events of the document tests: put a value at a document id, or drop it. */
const Put = defineEvent('Put', { docId: t.string, value: t.unknown })
type Put = EventOf<typeof Put>
const Dropped = defineEvent('Dropped', { docId: t.string })
type Dropped = EventOf<typeof Dropped>
const docTopics = topicMap(Put, Dropped)
type DocEvent = Put | Dropped

/** Appends one commit per event on stream `s` of `tenantId`, continuing `heads`. */
const append = async (store: Persistence, heads: Map<string, Commit>, tenantId: string, events: readonly DocEvent[], stamp: () => Date = () => new Date()) => {
  const key = JSON.stringify([tenantId, 's'])
  for (const event of events) {
    const head = heads.get(key)
    const r = await store.commit({
      tenantId,
      streamId: 's',
      commitId: randomUUID(),
      commitSequence: (head?.commitSequence ?? 0) + 1,
      streamRevision: (head?.streamRevision ?? 0) + 1,
      commitStamp: stamp(),
      headers: {},
      events: [{ body: docTopics.encode({ ...event, version: (head?.streamRevision ?? 0) + 1 }), headers: {} }],
    })
    heads.set(key, must(r))
  }
}
const put = (docId: string, value: unknown): DocEvent => Put.create({ id: 's', version: 1, timestamp: new Date(), docId, value })
const drop = (docId: string): DocEvent => Dropped.create({ id: 's', version: 1, timestamp: new Date(), docId })

/** A counter document per account id: how many puts, and the last value. `Dropped` deletes. */
const tally = (name: string) =>
  documentProjection({
    name,
    topics: docTopics,
    id: (event) => event.docId,
    evolve: (doc: { puts: number; last: Json } | undefined, event) => (event.type === 'Dropped' ? undefined : { puts: (doc?.puts ?? 0) + 1, last: event.value as Json }),
  })

/**
 * How a store applies a batch: in one transaction (`'transactional'`: SQLite, PostgreSQL, MySQL), or one
 * conditional write per document and commit (`'conditional'`: DynamoDB, which has no rebuild either).
 */
export type DocumentWrites = 'transactional' | 'conditional'

/** The counter by tens: a second version of `tally`, the reason to rebuild. */
const byTens = (name: string) =>
  documentProjection({
    name,
    topics: docTopics,
    id: (event) => event.docId,
    evolve: (doc: { puts: number; last: Json } | undefined, event) => (event.type === 'Dropped' ? undefined : { puts: (doc?.puts ?? 0) + 10, last: event.value as Json }),
  })

type Doc = { tenantId: string; id: string; document: { puts: number; last: Json } }
const sortDocs = <D extends { tenantId: string; id: string }>(ds: readonly D[]): D[] =>
  [...ds].sort((x, y) => (JSON.stringify([x.tenantId, x.id]) < JSON.stringify([y.tenantId, y.id]) ? -1 : 1))

/** `projection`'s documents as a fold, from empty, of exactly the commits with `after < token <= upTo`. */
const foldOf = async (store: Persistence, projection: ReturnType<typeof byTens>, after: number, upTo: number): Promise<Doc[]> => {
  const docs = new Map<string, Doc>()
  for await (const r of store.getFrom(after)) {
    const c = must(r)
    if (c.checkpointToken > upTo) break
    for (const m of c.events) {
      const e = must(docTopics.decodeMessage(m))
      const key = JSON.stringify([c.tenantId, e.docId])
      const next = projection.evolve(docs.get(key)?.document, e, { commit: c, headers: m.headers, index: 0 })
      if (next === undefined) docs.delete(key)
      else docs.set(key, { tenantId: c.tenantId, id: e.docId, document: next })
    }
  }
  return sortDocs([...docs.values()])
}

/** What every store that keeps projections does with document projections. */
export const documentSuite = (name: string, fresh: () => Promise<DocStore>, runs: number, writes: DocumentWrites = 'transactional') =>
  describe(`document projections on ${name}`, () => {
    const fast = { pollMs: 20, leaseTtlMs: 3_000, retry: { attempts: 2, initialDelayMs: 5 } }

    it('keeps a document per id exactly once, deletes on undefined, and reads back by id, all and field', async () => {
      const store = await fresh()
      const heads = new Map<string, Commit>()
      await append(store, heads, 'bank', [put('a', 1), put('b', 'x'), put('a', 2), put('c', { k: [1] }), drop('b'), put('a', 3)])
      const projection = tally('tally')
      const running = must(startProjection(store, projection, { ...fast, batchSize: 2 }))
      expect(E.isRight(await running.caughtUp())).toBe(true)
      await append(store, heads, 'bank', [put('c', { k: [2] })])
      expect(E.isRight(await running.caughtUp())).toBe(true)
      const status = must(await running.status())
      await running.stop()
      expect(status.lag.commits).toBe(0)
      const docs = documentsOf(store, projection)
      expect(must(await docs.get('bank', 'a'))).toEqual(O.some({ puts: 3, last: 3 }))
      expect(must(await docs.get('bank', 'b'))).toEqual(O.none)
      expect(must(await docs.get('other', 'a'))).toEqual(O.none)
      const all = must(await docs.all())
      expect([...all].sort((x, y) => (x.id < y.id ? -1 : 1))).toEqual([
        { tenantId: 'bank', id: 'a', document: { puts: 3, last: 3 } },
        { tenantId: 'bank', id: 'c', document: { puts: 2, last: { k: [2] } } },
      ])
      expect(must(await docs.where('puts', 2))).toEqual([{ tenantId: 'bank', id: 'c', document: { puts: 2, last: { k: [2] } } }])
      expect(must(await docs.where('last', { k: [2] }, { tenantId: 'bank' }))).toHaveLength(1)
      expect(must(await docs.where('last', { k: [2] }, { tenantId: 'elsewhere' }))).toHaveLength(0)
    })

    it('refuses a document that is not exact JSON, or a bad id, and rolls the batch back', async () => {
      const store = await fresh()
      const heads = new Map<string, Commit>()
      await append(store, heads, 'bank', [put('ok', 1), put('', 2)])
      const running = must(startProjection(store, tally('refusing'), fast))
      const caught = await running.caughtUp()
      await running.stop()
      expect(E.isLeft(caught) && caught.left._tag).toBe('HandlerFailed')
      // In one transaction the whole batch rolls back; written per document, the commit before the refused one
      // stays applied (its document holds its token, so a retry skips it), and the refused one wrote nothing.
      expect(must(await documentsOf(store, tally('refusing')).all())).toEqual(writes === 'transactional' ? [] : [{ tenantId: 'bank', id: 'ok', document: { puts: 1, last: 1 } }])
      const checkpoint = must(await store.subscriptions.checkpoint('refusing'))
      const position = O.isSome(checkpoint) ? (checkpoint.value.positions['0'] ?? 0) : 0
      expect(position).toBeLessThan(heads.get(JSON.stringify(['bank', 's']))?.checkpointToken ?? 0)
      const nan = documentProjection({ name: 'nan', topics: docTopics, id: () => 'x', evolve: () => ({ n: Number.NaN }) })
      const second = must(startProjection(store, nan, fast))
      const failed = await second.caughtUp()
      await second.stop()
      const error = E.isLeft(failed) && failed.left._tag === 'HandlerFailed' ? failed.left.error : undefined
      expect(error?._tag === 'Left' && error.left._tag === 'ProjectionRejected' && error.left.error._tag === 'Threw' && String(error.left.error.thrown)).toMatch(/not exact JSON/)
    })

    const refuseRebuild = async () => {
      // Given a store that writes without transactions, when a rebuild is asked for
      const store = await fresh()
      const refused = await rebuildDocuments(store, tally('balances'))
      // then it is refused up front, saying why (its swap needs one transaction), and nothing ran
      expect(E.isLeft(refused) && refused.left._tag).toBe('InvalidArgument')
      expect(E.isLeft(refused) && refused.left._tag === 'InvalidArgument' && refused.left.message).toMatch(/without transactions/)
      expect(must(await store.subscriptions.checkpoint('balances~rebuild'))).toEqual(O.none)
    }

    const rebuild = async () => {
      const store = await fresh()
      const heads = new Map<string, Commit>()
      const ids = ['a', 'b', 'c', 'd']
      let n = 0
      const some = async (count: number) => {
        for (let i = 0; i < count; i++, n++) await append(store, heads, n % 3 === 0 ? 'other' : 'bank', [n % 11 === 10 ? drop(ids[n % 4] as string) : put(ids[n % 4] as string, n)])
      }
      await some(40)
      // The running version counts puts; the new one counts them by tens (the reason to rebuild).
      const v1 = tally('balances')
      const v2 = documentProjection({
        name: 'balances',
        topics: docTopics,
        id: (event) => event.docId,
        evolve: (doc: { puts: number; last: Json } | undefined, event) => (event.type === 'Dropped' ? undefined : { puts: (doc?.puts ?? 0) + 10, last: event.value as Json }),
      })
      const live = must(startProjection(store, v1, fast))
      expect(E.isRight(await live.caughtUp())).toBe(true)
      await live.stop()
      const sorted = (ds: readonly { tenantId: string; id: string }[]) => [...ds].sort((x, y) => (JSON.stringify([x.tenantId, x.id]) < JSON.stringify([y.tenantId, y.id]) ? -1 : 1))
      const old = sorted(must(await documentsOf(store, v1).all()))
      // Writers append and readers read while the rebuild runs.
      let writing = true
      const reads: unknown[] = []
      const writer = (async () => {
        // Each pass yields to timers, so that the rebuild's own polling runs on a store that answers in microtasks.
        while (writing) {
          await some(1)
          // Slower than the projection: a subscription catches up only once a read finds fewer than a batch.
          await sleep(25)
        }
      })()
      const reader = (async () => {
        while (writing) {
          reads.push(sorted(must(await documentsOf(store, v1).all())))
          await sleep(10)
        }
      })()
      const progress: RebuildProgress[] = []
      const rebuilt = must(await rebuildDocuments(store, v2, { batchSize: 5, progressMs: 100, onProgress: (p) => progress.push(p) }))
      writing = false
      await Promise.all([writer, reader])
      // The fold of the log up to the swap's checkpoint: what readers must see after the swap.
      const fold = (upTo: number) => {
        const docs = new Map<string, { tenantId: string; id: string; document: { puts: number; last: Json } }>()
        return (async () => {
          for await (const r of store.getFrom(0)) {
            const c = must(r)
            if (c.checkpointToken > upTo) break
            for (const m of c.events) {
              const e = must(docTopics.decodeMessage(m))
              const key = JSON.stringify([c.tenantId, e.docId])
              const before = docs.get(key)?.document
              const next = v2.evolve(before, e, { commit: c, headers: m.headers, index: 0 })
              if (next === undefined) docs.delete(key)
              else docs.set(key, { tenantId: c.tenantId, id: e.docId, document: next })
            }
          }
          return sorted([...docs.values()])
        })()
      }
      const atSwap = await fold(rebuilt.position)
      expect(must(await documentsOf(store, v2).all()).length).toBe(atSwap.length)
      expect(sorted(must(await documentsOf(store, v2).all()))).toEqual(atSwap)
      // Readers saw the old model or the new one, never a mix.
      for (const r of reads) expect([JSON.stringify(old), JSON.stringify(atSwap)]).toContain(JSON.stringify(r))
      expect(progress.length).toBeGreaterThan(0)
      const last = progress[progress.length - 1] as RebuildProgress
      expect(last.done).toBe(rebuilt.position)
      expect(last.total).toBeGreaterThanOrEqual(last.done)
      // The projection goes on from the swap: after it catches up, it equals a fold of the whole log.
      const after = must(startProjection(store, v2, fast))
      expect(E.isRight(await after.caughtUp())).toBe(true)
      await after.stop()
      const tokens = await (async () => {
        let top = 0
        for await (const r of store.getFrom(0)) top = must(r).checkpointToken
        return top
      })()
      expect(sorted(must(await documentsOf(store, v2).all()))).toEqual(await fold(tokens))
      // No shadow documents are left behind.
      expect(must(await documentsOf(store, { ...v2, name: rebuilt.shadow }).all())).toEqual([])
    }

    if (writes === 'transactional') it('rebuilds into a shadow while writers append and readers read, swaps at once, and ends equal to a fold of the log', rebuild, 60_000)
    else it('refuses a rebuild, whose swap needs one transaction, with an InvalidArgument saying why', refuseRebuild)

    // A store without rebuilds (conditional writes) refuses every `from` like any rebuild: the test above says so.
    if (writes === 'transactional')
      it('rebuilds from a token or a time: from empty, exactly the commits after it; refuses a bad start and changes nothing', async () => {
      // Given 6 commits stamped in 2020 and 8 in 2021 (a put of `early` only among the first), and the live version
      // of the projection caught up with all of them
      const store = await fresh()
      const heads = new Map<string, Commit>()
      let minute = 0
      const in2020 = () => new Date(Date.UTC(2020, 0, 1, 0, minute++))
      const in2021 = () => new Date(Date.UTC(2021, 0, 1, 0, minute++))
      await append(store, heads, 'bank', [put('early', 0), put('a', 1), put('b', 2), put('a', 3), drop('b'), put('c', 5)], in2020)
      const split = (heads.get(JSON.stringify(['bank', 's'])) as Commit).checkpointToken
      await append(store, heads, 'bank', [put('a', 6), put('b', 7), put('d', 8), drop('d'), put('c', 10)], in2021)
      await append(store, heads, 'other', [put('a', 11), put('e', 12), put('a', 13)], in2021)
      const head = (heads.get(JSON.stringify(['other', 's'])) as Commit).checkpointToken
      const live = must(startProjection(store, tally('ranged'), fast))
      expect(E.isRight(await live.caughtUp())).toBe(true)
      await live.stop()
      const before = sortDocs(must(await documentsOf(store, tally('ranged')).all()))
      const v2 = byTens('ranged')
      // When a start is not 'beginning', { token } or { time }, or the token is past the head, then InvalidArgument
      for (const from of ['end', { token: -1 }, { token: 1.5 }, { token: head + 1 }, { time: new Date(Number.NaN) }, { time: '2021-01-01' }, {}, null, 7]) {
        const r = await rebuildDocuments(store, v2, { from: from as never })
        expect(E.isLeft(r) && r.left._tag).toBe('InvalidArgument')
      }
      // and nothing changed
      expect(sortDocs(must(await documentsOf(store, v2).all()))).toEqual(before)
      // When rebuilt from the token of the last 2020 commit, then its documents are the fold of exactly the later
      // commits, from empty: `early` (put only before it) is gone, and `a` counts only the later puts
      const fromToken = must(await rebuildDocuments(store, v2, { from: { token: split }, batchSize: 3 }))
      expect(fromToken.position).toBe(head)
      const after2020 = await foldOf(store, v2, split, head)
      expect(sortDocs(must(await documentsOf(store, v2).all()))).toEqual(after2020)
      expect(must(await documentsOf(store, v2).get('bank', 'early'))).toEqual(O.none)
      expect(must(await documentsOf(store, v2).get('bank', 'a'))).toEqual(O.some({ puts: 10, last: 6 }))
      // When rebuilt from the first instant of 2021, then the same documents (the time is resolved to that token)
      must(await rebuildDocuments(store, v2, { from: { time: new Date(Date.UTC(2021, 0, 1)) } }))
      expect(sortDocs(must(await documentsOf(store, v2).all()))).toEqual(after2020)
      // When rebuilt from a time after every stamp, then no commit is after it: no documents
      must(await rebuildDocuments(store, v2, { from: { time: new Date(Date.UTC(2030, 0, 1)) } }))
      expect(must(await documentsOf(store, v2).all())).toEqual([])
      // Property: from any token up to the head (and from the beginning), the fold of exactly the commits after it;
      // and the projection goes on from the swap with later commits
      await fc.assert(
        fc.asyncProperty(fc.option(fc.integer({ min: 0, max: head }), { nil: undefined }), async (token) => {
          const r = must(await rebuildDocuments(store, v2, token === undefined ? {} : { from: { token } }))
          expect(sortDocs(must(await documentsOf(store, v2).all()))).toEqual(await foldOf(store, v2, token ?? 0, r.position))
        }),
        { numRuns: runs },
      )
      must(await rebuildDocuments(store, v2, { from: { token: split } }))
      await append(store, heads, 'bank', [put('a', 14), put('early', 15)], in2021)
      const goesOn = must(startProjection(store, v2, fast))
      expect(E.isRight(await goesOn.caughtUp())).toBe(true)
      await goesOn.stop()
      const top = (heads.get(JSON.stringify(['bank', 's'])) as Commit).checkpointToken
      expect(sortDocs(must(await documentsOf(store, v2).all()))).toEqual(await foldOf(store, v2, split, top))
    }, 120_000)

    it('fuzz: arbitrary JSON documents round-trip exactly; ids never reach another projection or tenant', async () => {
      const tricky = fc.oneof(
        fc.constantFrom('a', "o'brien", 'a"b', 'x/y', 'x:y', 'x|y', '["t","i"]', 'é', '日本', '🙂', ' a', 'a ', 'A', '\\', '%', '_'),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((s) => !s.includes('\u0000') && !/[\uD800-\uDFFF]/.test(s)),
      )
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.record({ id: tricky, tenant: fc.constantFrom('t1', 't2', 't1"', 't1/t2', 'ü') }), { minLength: 1, maxLength: 6, selector: (r) => JSON.stringify([r.tenant, r.id]) }),
          fc.array(fc.jsonValue(), { minLength: 6, maxLength: 6 }),
          async (keys, values) => {
            const store = await fresh()
            const heads = new Map<string, Commit>()
            for (const [i, k] of keys.entries()) await append(store, heads, k.tenant, [put(k.id, values[i])])
            const mine = documentProjection({ name: 'mine', topics: docTopics, id: (e) => e.docId, evolve: (_: Json | undefined, e) => (e.type === 'Put' ? (e.value as Json) : undefined) })
            const theirs = documentProjection({ name: 'mine"', topics: docTopics, id: (e) => e.docId, evolve: (_: Json | undefined, e) => ({ theirs: e.type === 'Put' ? (e.value as Json) : null }) })
            for (const p of [mine, theirs]) {
              const running = must(startProjection(store, p as typeof mine, fast))
              expect(E.isRight(await running.caughtUp())).toBe(true)
              await running.stop()
            }
            for (const [i, k] of keys.entries()) {
              // What the event carried, as the log stores it (JSON text: a -0 in an event body is read back as 0).
              const value = JSON.parse(JSON.stringify(values[i])) as Json
              const got = must(await documentsOf(store, mine).get(k.tenant, k.id))
              expect(O.isSome(got) && Object.is(JSON.stringify(got.value), JSON.stringify(value))).toBe(true)
              expect(O.isSome(got) ? got.value : undefined).toStrictEqual(value)
              expect(must(await documentsOf(store, theirs).get(k.tenant, k.id))).toStrictEqual(O.some({ theirs: value }))
            }
            const all = must(await documentsOf(store, mine).all())
            expect(all).toHaveLength(keys.length)
            for (const tenant of new Set(keys.map((k) => k.tenant))) {
              const ofTenant = must(await documentsOf(store, mine).all({ tenantId: tenant }))
              expect(ofTenant.map((d) => d.id).sort()).toEqual(keys.filter((k) => k.tenant === tenant).map((k) => k.id).sort())
            }
            await store.close()
          },
        ),
        { numRuns: runs },
      )
    }, 120_000)
  })
