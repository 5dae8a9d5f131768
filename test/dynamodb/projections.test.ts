import { GetItemCommand } from '@aws-sdk/client-dynamodb'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import fc from 'fast-check'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import type { DynamoDbStore } from '../../src/dynamodb/index.js'
import { documentPartition } from '../../src/dynamodb/schema.js'
import type { Json, Lease } from '../../src/eventstore/index.js'
import { defineEvent, topicMap, type EventOf } from '../../src/eventstore/index.js'
import { documentChanges } from '../../src/projections/documents.js'
import { documentProjection, documentsOf, inlineProjection, projectionFor, rebuildDocuments, resetProjection, startProjection } from '../../src/projections/index.js'
import type { DecodedCommit } from '../../src/subscriptions/options.js'
import { configOf, disposeStore, dynaliteForFile, freshStore } from './server.js'
import { testTopics, writeCommits } from '../projections/fixtures.js'

// Document projections on DynamoDB below the runtime: the store's `applyDocuments` driven with hand-made decoded
// commits, so that a test can replay an old commit, race two writers on one document, or replay a parked commit
// twice, which a running projection only does after a crash or a takeover.

const db = dynaliteForFile()

const Set_ = defineEvent('Set', { docId: t.string, value: t.unknown })
type Set_ = EventOf<typeof Set_>
const Removed = defineEvent('Removed', { docId: t.string })
type Removed = EventOf<typeof Removed>
const topics = topicMap(Set_, Removed)
type Ev = Set_ | Removed

/** Counts what was applied to each document: a tally per commit token, so that a double application shows. */
const counting = (name: string) =>
  documentProjection({
    name,
    topics,
    id: (e) => e.docId,
    evolve: (doc: { applied: Record<string, number>; value: Json } | undefined, e, meta) => {
      if (e.type === 'Removed') return undefined
      const k = String(meta.commit.checkpointToken)
      return { applied: { ...doc?.applied, [k]: (doc?.applied[k] ?? 0) + 1 }, value: e.value as Json }
    },
  })

/** A decoded commit of `tenantId` at `token` whose events are `events`. */
const commitAt = (token: number, tenantId: string, events: readonly Ev[]): DecodedCommit<Ev> => ({
  tenantId,
  streamId: 's',
  commitId: `c${token}`,
  commitSequence: token,
  streamRevision: token,
  commitStamp: new Date(0),
  headers: {},
  checkpointToken: token,
  events: events.map((event) => ({ event, headers: {} })),
})
const set = (docId: string, value: unknown): Ev => ({ type: 'Set', docId, value, id: 's', version: 1, timestamp: new Date(0) }) as unknown as Ev
const removed = (docId: string): Ev => ({ type: 'Removed', docId, id: 's', version: 1, timestamp: new Date(0) }) as unknown as Ev

const must = <A>(r: E.Either<unknown, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected a Right: ${JSON.stringify(r.left)}`)
  return r.right
}

const leaseOf = async (store: DynamoDbStore, name: string, holder = 'test'): Promise<Lease> => {
  const taken = must(await store.subscriptions.acquire(name, holder, 60_000))
  if (O.isNone(taken)) throw new Error('lease not taken')
  return taken.value
}

const apply = (store: DynamoDbStore, lease: Lease, p: ReturnType<typeof counting>, commits: readonly DecodedCommit<Ev>[]) =>
  store.projections.applyDocuments(lease, commits[commits.length - 1]?.checkpointToken ?? 0, commits, documentChanges(p as never))

/** The raw item of a document, tombstones included. */
const rawItem = async (store: DynamoDbStore, projection: string, tenantId: string, id: string) =>
  (await db().client.send(new GetItemCommand({ TableName: configOf(store).documentsTable, Key: { pk: { S: documentPartition(projection, tenantId) }, sk: { S: id } }, ConsistentRead: true }))).Item

describe('dynamodb document projections: conditional writes per document', () => {
  it('a replayed older commit after a delete does not bring the document back: the tombstone keeps the token', async () => {
    // Given a document set by commit 1 and deleted by commit 2, both applied and the checkpoint at 2
    const store = await freshStore(db())
    const p = counting('p')
    const lease = await leaseOf(store, 'p')
    must(await apply(store, lease, p, [commitAt(1, 'bank', [set('a', 1)]), commitAt(2, 'bank', [removed('a')])]))
    expect(must(await documentsOf(store, p).get('bank', 'a'))).toEqual(O.none)
    // then the delete left a tombstone: the token of commit 2, no document, and out of the projection index
    const tomb = await rawItem(store, 'p', 'bank', 'a')
    expect(tomb?.['tok']).toEqual({ N: '2' })
    expect(tomb?.['d']).toBeUndefined()
    expect(tomb?.['pr']).toBeUndefined()
    // When the checkpoint is reset (as after a crash that lost it) and commit 1 is applied again
    await store.subscriptions.release(lease)
    expect(O.isSome(must(await store.subscriptions.resetCheckpoint('p', 'reset', undefined)))).toBe(true)
    const again = await leaseOf(store, 'p', 'second')
    must(await apply(store, again, p, [commitAt(1, 'bank', [set('a', 1)])]))
    // Then the document stays deleted, invisible to every read
    expect(must(await documentsOf(store, p).get('bank', 'a'))).toEqual(O.none)
    expect(must(await documentsOf(store, p).all())).toEqual([])
    expect(must(await documentsOf(store, p).all({ tenantId: 'bank' }))).toEqual([])
    // and a later commit does create it again, counted once
    must(await apply(store, again, p, [commitAt(3, 'bank', [set('a', 3)])]))
    expect(must(await documentsOf(store, p).get('bank', 'a'))).toEqual(O.some({ applied: { '3': 1 }, value: 3 }))
    await disposeStore(store)
  })

  it('a batch applied twice, and twice at once (a retry racing its first try), applies each commit once per document', async () => {
    // Given commits touching shared documents, several events of one commit on one document
    const store = await freshStore(db())
    const p = counting('race')
    const lease = await leaseOf(store, 'race')
    const commits = [1, 2, 3, 4, 5, 6].map((n) => commitAt(n, n % 2 === 0 ? 'bank' : 'other', [set(`d${n % 3}`, n), set('shared', n), set('shared', -n)]))
    // When the same batch is applied by two calls at once, then once more
    const both = await Promise.all([apply(store, lease, p, commits), apply(store, lease, p, commits)])
    for (const r of both) must(r)
    must(await apply(store, lease, p, commits))
    // Then every document counts each of its commits' events exactly once (two Set events of a commit: 2)
    const docs = must(await documentsOf(store, p).all())
    for (const d of docs) {
      const counts = Object.values((d.document as { applied: Record<string, number> }).applied)
      for (const n of counts) expect(n, JSON.stringify(d)).toBe(d.id === 'shared' ? 2 : 1)
    }
    expect(must(await documentsOf(store, p).get('bank', 'shared'))).toEqual(O.some({ applied: { '2': 2, '4': 2, '6': 2 }, value: -6 }))
    expect(must(await store.subscriptions.checkpoint('race'))).toEqual(O.some({ positions: { '0': 6 } }))
    await disposeStore(store)
  })

  it('a parked commit replayed below later tokens is applied once, and a second replay of it is skipped', async () => {
    // Given commit 2 parked while commits 1 and 3 were applied to the same document (checkpoint at 3)
    const store = await freshStore(db())
    const p = counting('parking')
    const lease = await leaseOf(store, 'parking')
    must(await apply(store, lease, p, [commitAt(1, 'bank', [set('a', 1)]), commitAt(3, 'bank', [set('a', 3)])]))
    const parkIt = async () => must(await store.subscriptions.park(lease, { name: 'parking', checkpointToken: 2, tenantId: 'bank', streamId: 's', error: 'refused', parkedAt: new Date() }))
    await parkIt()
    // When it is replayed (below the checkpoint and below the document's token)
    must(await apply(store, lease, p, [commitAt(2, 'bank', [set('a', 2)])]))
    // Then it is applied and unparked; the checkpoint stays at 3
    expect(must(await documentsOf(store, p).get('bank', 'a'))).toEqual(O.some({ applied: { '1': 1, '2': 1, '3': 1 }, value: 2 }))
    expect(must(await store.subscriptions.parked('parking'))).toEqual([])
    expect(must(await store.subscriptions.checkpoint('parking'))).toEqual(O.some({ positions: { '0': 3 } }))
    // When it is parked again and replayed again (an unpark that was lost)
    await parkIt()
    must(await apply(store, lease, p, [commitAt(2, 'bank', [set('a', 2)])]))
    // Then the document already holds it: skipped; and an unparked commit below the checkpoint is skipped too
    must(await apply(store, lease, p, [commitAt(2, 'bank', [set('a', 2)]), commitAt(1, 'bank', [set('a', 1)])]))
    expect(must(await documentsOf(store, p).get('bank', 'a'))).toEqual(O.some({ applied: { '1': 1, '2': 1, '3': 1 }, value: 2 }))
    await disposeStore(store)
  })

  it('a lost lease writes nothing, and a refused commit leaves the documents of the commits before it and no checkpoint move', async () => {
    const store = await freshStore(db())
    const p = counting('fenced')
    const lease = await leaseOf(store, 'fenced')
    // Given a lease that was taken over
    await store.subscriptions.release(lease)
    const next = await leaseOf(store, 'fenced', 'other')
    // When the former holder applies a batch: LeaseLost, and no document written
    const lost = await apply(store, lease, p, [commitAt(1, 'bank', [set('a', 1)])])
    expect(E.isLeft(lost) && lost.left._tag).toBe('LeaseLost')
    expect(must(await documentsOf(store, p).all())).toEqual([])
    // When the holder's batch has a commit whose id is refused (empty)
    const refused = await apply(store, next, p, [commitAt(1, 'bank', [set('a', 1)]), commitAt(2, 'bank', [set('b', 1), set('', 2)])])
    expect(E.isLeft(refused) && refused.left._tag).toBe('ProjectionRejected')
    // Then commit 1 stays applied, nothing of commit 2 was written, and the checkpoint did not move
    expect(must(await documentsOf(store, p).all()).map((d) => d.id)).toEqual(['a'])
    expect(must(await store.subscriptions.checkpoint('fenced'))).toEqual(O.none)
    await disposeStore(store)
  })

  it('a document past the 400 KB item limit is a StorageError saying so, and nothing of its commit is written', async () => {
    const store = await freshStore(db())
    const p = counting('big')
    const lease = await leaseOf(store, 'big')
    // Given a commit of two documents, the second of which would pass DynamoDB's item limit
    const answer = await apply(store, lease, p, [commitAt(1, 'bank', [set('small', 1), set('a', 'x'.repeat(410 * 1024))])])
    // Then the batch answers a StorageError naming the limit, the document is absent and the checkpoint did not move
    expect(E.isLeft(answer) && answer.left._tag === 'StorageError' && answer.left.message).toMatch(/items are limited to 409600/)
    expect(await rawItem(store, 'big', 'bank', 'a')).toBeUndefined()
    expect(await rawItem(store, 'big', 'bank', 'small')).toBeUndefined()
    expect(must(await store.subscriptions.checkpoint('big'))).toEqual(O.none)
    await disposeStore(store)
  })

  it('pages through a projection of one tenant or all, past tombstones, in pages of any size', async () => {
    const store = await freshStore(db())
    const p = counting('paged')
    const lease = await leaseOf(store, 'paged')
    const ids = Array.from({ length: 9 }, (_, i) => `id${i}`)
    must(await apply(store, lease, p, [commitAt(1, 'bank', ids.map((id) => set(id, id))), commitAt(2, 'other', [set('x', 0)]), commitAt(3, 'bank', [removed('id3'), removed('id7')])]))
    const live = ids.filter((id) => id !== 'id3' && id !== 'id7')
    for (const limit of [1, 2, 4, 100]) {
      for (const tenantId of ['bank', undefined]) {
        const seen: string[] = []
        let after: string | undefined
        for (let pages = 0; pages < 100; pages++) {
          const page = must(await store.projections.documents.page('paged', tenantId, after, limit))
          expect(page.documents.length).toBeLessThanOrEqual(limit)
          seen.push(...page.documents.map((d) => `${d.tenantId}/${d.id}`))
          if (page.next === undefined) break
          after = page.next
        }
        const wanted = [...live.map((id) => `bank/${id}`), ...(tenantId === undefined ? ['other/x'] : [])]
        expect(seen.sort(), `${limit} ${tenantId}`).toEqual(wanted.sort())
      }
    }
    await disposeStore(store)
  })

  it('running: parks a refused commit, goes on, replays it exactly once into a document that later commits changed, and reports status', async () => {
    // Given one document (the stream's) counting each commit, and an evolve that refuses the third commit for now
    const store = await freshStore(db())
    const written = await writeCommits(store, 6, 1)
    const tokens = written.map((c) => c.checkpointToken)
    let refuse = true
    const projection = documentProjection({
      name: 'running',
      topics: testTopics,
      id: (_e, meta) => meta.commit.streamId,
      evolve: (doc: Record<string, number> | undefined, e, meta) => {
        if (e.type === 'Bumped' && refuse && e.by === 3) throw new Error('not yet')
        return { ...doc, [String(meta.commit.checkpointToken)]: (doc?.[String(meta.commit.checkpointToken)] ?? 0) + 1 }
      },
    })
    const running = must(startProjection(store, projection, { pollMs: 20, leaseTtlMs: 3_000, retry: { attempts: 2, initialDelayMs: 5 }, onFailure: 'park', parkStreamAfterFailure: false }))
    // When it catches up: the third is parked, the others applied, and status shows it
    expect(E.isRight(await running.caughtUp())).toBe(true)
    const status = must(await running.status())
    expect(status.position).toBe(tokens[5])
    expect(status.lag.commits).toBe(0)
    expect(status.parked).toBe(1)
    expect(status.lastError?._tag).toBe('HandlerFailed')
    const doc = async () => O.toUndefined(must(await documentsOf(store, projection).get('projections', written[0]?.streamId ?? '')))
    expect(Object.keys((await doc()) ?? {}).map(Number)).toEqual(tokens.filter((_, i) => i !== 2))
    // When it is replayed once the refusal is gone, and again
    refuse = false
    expect(must(await running.replayParked()).replayed).toEqual([tokens[2]])
    expect(must(await running.replayParked()).replayed).toEqual([])
    await running.stop()
    // Then every commit is counted once in the document, the replayed one too
    expect(await doc()).toEqual(Object.fromEntries(tokens.map((t) => [String(t), 1])))
    expect(must(await store.subscriptions.parked('running'))).toEqual([])
    await disposeStore(store)
  })

  it('refuses what needs one transaction with an InvalidArgument saying why: transactional, inline, reset and rebuild', async () => {
    const store = await freshStore(db())
    const transactional = projectionFor<unknown, 'async'>('async')({ name: 'tx', topics, handlers: { Set: async () => undefined, Removed: async () => undefined } })
    const started = startProjection(store as never, transactional)
    expect(E.isLeft(started) && started.left._tag === 'InvalidArgument' && started.left.message).toMatch(/without transactions.*dynalite implements no TransactWriteItems/)
    const inline = await inlineProjection(store as never, counting('x'))
    expect(E.isLeft(inline) && inline.left._tag === 'InvalidArgument' && inline.left.message).toMatch(/no inline projections/)
    const reset = await resetProjection({ store: store as never, projection: transactional as never, hook: () => undefined })
    expect(E.isLeft(reset) && reset.left._tag).toBe('InvalidArgument')
    const rebuilt = await rebuildDocuments(store as never, counting('x'))
    expect(E.isLeft(rebuilt) && rebuilt.left._tag).toBe('InvalidArgument')
    // and a bad projection or option is an InvalidArgument too, never a throw
    for (const bad of [null, {}, { kind: 'documents', name: '' }]) expect(E.isLeft(startProjection(store, bad as never))).toBe(true)
    expect(E.isLeft(startProjection(store, counting('x'), null as never))).toBe(true)
    await disposeStore(store)
  })

  it('fuzz: projections, tenants and ids with separators, quotes and unicode never reach one another, and reads never throw', async () => {
    // Mostly parts that collide when joined naively (projection `a` + tenant `bc` = `ab` + `c`), or by length prefix.
    const part = fc.oneof(
      { arbitrary: fc.constantFrom('a', 'ab', 'b', 'bc', 'c'), weight: 3 },
      fc.constantFrom('1:a', '2:ab', ':', '"', "'", '\\', '日本', '🙂', 'é', 'e\u0301', ' ', 'a b'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }).filter((s) => !s.includes('\u0000') && !/[\uD800-\uDFFF]/.test(s)),
    )
    const store = await freshStore(db())
    const leases = new Map<string, Lease>()
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.record({ projection: part, tenant: part, id: part }), { minLength: 1, maxLength: 5, selector: (k) => JSON.stringify([k.projection, k.tenant, k.id]) }),
        fc.string(),
        fc.string(),
        async (keys, otherTenant, otherId) => {
          // Given each key's document written by its own projection, with a value naming the key
          const run = `r${Math.random().toString(36).slice(2, 8)}`
          for (const [i, k] of keys.entries()) {
            const name = `${run}${k.projection}`
            const p = counting(name)
            const lease = leases.get(name) ?? (await leaseOf(store, name))
            leases.set(name, lease)
            must(await store.projections.applyDocuments(lease, 0, [commitAt(i + 1, k.tenant, [set(k.id, [k.projection, k.tenant, k.id])])], documentChanges(p as never)))
          }
          // Then each reads back its own, by id, by tenant and in all, and nothing of any other key
          for (const k of keys) {
            const p = counting(`${run}${k.projection}`)
            const got = must(await documentsOf(store, p).get(k.tenant, k.id))
            expect(O.isSome(got) && got.value.value).toEqual([k.projection, k.tenant, k.id])
            const mine = keys.filter((o) => o.projection === k.projection)
            expect(must(await documentsOf(store, p).all()).map((d) => d.document.value).sort()).toEqual(mine.map((o) => [o.projection, o.tenant, o.id]).sort())
            const ofTenant = must(await documentsOf(store, p).all({ tenantId: k.tenant }))
            expect(ofTenant.map((d) => d.document.value).sort()).toEqual(mine.filter((o) => o.tenant === k.tenant).map((o) => [o.projection, o.tenant, o.id]).sort())
            // and any other tenant or id answers a value (a document only if it is one of the keys), never a throw
            const other = await documentsOf(store, p).get(otherTenant, otherId)
            if (E.isRight(other) && O.isSome(other.right)) expect(mine.some((o) => o.tenant === otherTenant && o.id === otherId)).toBe(true)
            const where = await documentsOf(store, p).where(otherId, otherTenant as Json, { tenantId: otherTenant })
            expect(E.isLeft(where) ? where.left._tag : 'ok').toMatch(/ok|InvalidArgument/)
          }
        },
      ),
      {
        numRuns: 25,
        examples: [
          [
            [
              { projection: 'a', tenant: 'bc', id: 'x' },
              { projection: 'ab', tenant: 'c', id: 'x' },
            ],
            'bc',
            'x',
          ],
        ],
      },
    )
    await disposeStore(store)
  }, 120_000)
})
