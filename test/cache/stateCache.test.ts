import * as E from 'fp-ts/lib/Either.js'
import * as fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { estimateBytes } from '../../src/domain/core/cacheTable.js'
import { tableOf } from '../../src/domain/stateCache.js'
import { emptyStream } from '../../src/eventstore/stream/StreamState.js'
import { AggregateRepository, SagaRepository, SnapshotPolicy, deciderRepository, sagaRepository, stateCache, type StateCache } from '../../src/domain/index.js'
import { storageError, type CommitAttempt } from '../../src/eventstore/index.js'
import { memoryStore } from '../../src/memory/index.js'
import { Account, BigDepositSaga, Deposited, Opened, at, bigDeposits, topics as accountTopics, type AccountEvent } from '../domain/fixtures.js'
import { counted, counter, fullLoads, storedOf, strict, topics, type CounterCommand, type CounterError, type CounterEvent, type CounterState } from './support.js'

const handled = <A>(r: E.Either<{ readonly _tag: string }, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected a Right, got ${r.left._tag}`)
  return r.right
}

const setup = (cache: StateCache, options: { readonly allowStaleMs?: number } = {}) => {
  const c = counted(memoryStore())
  const repo = deciderRepository({ decider: counter, topics, store: c.store, cache, conflictDetector: strict, ...options })
  const plain = deciderRepository({ decider: counter, topics, store: c.store, conflictDetector: strict })
  return { ...c, repo, plain }
}

const add = (n: number) => ({ type: 'Add' as const, n })

describe('stateCache: bounds', () => {
  it('keeps at most maxEntries streams, evicting the least recently used', async () => {
    const cache = stateCache({ maxEntries: 2 })
    const { repo, calls, reset } = setup(cache)
    for (const s of ['s1', 's2', 's3']) handled(await repo.handle(s, add(1))())
    expect(cache.stats()).toMatchObject({ entries: 2, evictions: 1 })
    reset()
    // s3 and s2 are cached (a short read, no snapshot look-up); s1 was evicted (a full load looks for a snapshot).
    handled(await repo.load('s3')())
    handled(await repo.load('s2')())
    expect(fullLoads(calls)).toBe(0)
    expect(handled(await repo.load('s1')()).state.count).toBe(1)
    expect(fullLoads(calls)).toBe(1)
  })

  it('keeps at most maxBytes by the estimate, and no entry larger than maxBytes alone', async () => {
    const small = stateCache({ maxEntries: 100, maxBytes: 3_000, sizeOf: () => 1_000 })
    const a = setup(small)
    for (const s of ['s1', 's2', 's3', 's4']) handled(await a.repo.handle(s, add(1))())
    expect(small.stats().entries).toBe(2)
    expect(small.stats().bytes).toBeLessThanOrEqual(3_000)
    expect(small.stats().bytes).toBeGreaterThan(2_000)

    const tiny = stateCache({ maxEntries: 100, maxBytes: 1_000, sizeOf: () => 5_000 })
    const b = setup(tiny)
    handled(await b.repo.handle('s1', add(1))())
    expect(tiny.stats().entries).toBe(0)

    // The default estimate counts about two bytes per string character.
    const estimated = stateCache({ maxEntries: 100, maxBytes: 1_000_000 })
    const store = memoryStore()
    const long = { ...counter, initialState: { count: 0, events: 0, note: 'x'.repeat(10_000) }, evolve: (s: CounterState & { note: string }, e: CounterEvent) => ({ ...s, ...counter.evolve(s, e) }) }
    handled(await deciderRepository({ decider: long, topics, store, cache: estimated }).handle('s', add(1))())
    expect(estimated.stats().bytes).toBeGreaterThan(20_000)
    expect(estimated.stats().bytes).toBeLessThan(40_000)
  })

  it('expires an entry ttlMs after the store last confirmed it', async () => {
    let now = 1_000
    const cache = stateCache({ maxEntries: 10, ttlMs: 500, now: () => now })
    const { repo, calls, reset } = setup(cache)
    handled(await repo.handle('s', add(2))())
    reset()
    now += 400
    handled(await repo.load('s')())
    expect(fullLoads(calls)).toBe(0) // still cached; the read confirmed it at 1400
    now += 400
    handled(await repo.load('s')())
    expect(fullLoads(calls)).toBe(0) // 400 ms after the confirmation
    now += 501
    expect(handled(await repo.load('s')()).state.count).toBe(2)
    expect(fullLoads(calls)).toBe(1) // expired: a full load
  })

  it('normalises bounds: maxEntries 0 keeps nothing, NaN is 0', async () => {
    for (const maxEntries of [0, Number.NaN, -3]) {
      const cache = stateCache({ maxEntries })
      handled(await setup(cache).repo.handle('s', add(1))())
      expect(cache.stats().entries).toBe(0)
    }
  })
})

describe('stateCache: what an entry holds', () => {
  it('a failed append leaves the entry as it was; so does a refusal', async () => {
    const cache = stateCache({ maxEntries: 10 })
    const c = counted(memoryStore())
    let fail = false
    const store = new Proxy(c.store, {
      get: (target, prop, receiver) =>
        prop === 'commit'
          ? (a: CommitAttempt) => (fail ? Promise.resolve(E.left(storageError('commit', new Error('disk full')))) : target.commit(a))
          : Reflect.get(target, prop, receiver),
    })
    const repo = deciderRepository({ decider: counter, topics, store, cache, allowStaleMs: 60_000 })
    handled(await repo.handle('s', add(3))())
    const before = cache.stats()
    fail = true
    const failed = await repo.handle('s', add(4))()
    expect(E.isLeft(failed) && failed.left._tag).toBe('StorageError')
    fail = false
    const refused = await repo.handle('s', add(9))()
    expect(E.isLeft(refused) && refused.left._tag).toBe('Rejected')
    c.reset()
    // Served from the cache without a read (stale mode): the state stored, not the one that failed.
    expect(handled(await repo.load('s')())).toMatchObject({ version: 1, state: { count: 3 } })
    expect(c.calls.get).toBe(0)
    expect(cache.stats().entries).toBe(before.entries)
  })

  it('a cache shared by two models, or two stores, never hands one the other\'s state', async () => {
    const cache = stateCache({ maxEntries: 10 })
    const store = memoryStore()
    const doubled = { ...counter, evolve: (s: { count: number; events: number }, e: Parameters<typeof counter.evolve>[1]) => ({ ...counter.evolve(s, e), count: 2 * counter.evolve(s, e).count }) }
    const one = deciderRepository({ decider: counter, topics, store, cache })
    const two = deciderRepository({ decider: doubled, topics, store, cache })
    handled(await one.handle('s', add(3))())
    expect(handled(await two.load('s')()).state.count).toBe(6)
    expect(handled(await one.load('s')()).state.count).toBe(3)
    const other = deciderRepository({ decider: counter, topics, store: memoryStore(), cache })
    expect(handled(await other.load('s')()).state.count).toBe(0)
    // Two tenants of one store are two entries too.
    const tenant = deciderRepository({ decider: counter, topics, store, cache, tenantId: 'other' })
    expect(handled(await tenant.load('s')()).state.count).toBe(0)
    expect(cache.stats().entries).toBe(4)
  })

  it('a load at an explicit version bypasses the cache; snapshots are still taken and used', async () => {
    const cache = stateCache({ maxEntries: 10 })
    const c = counted(memoryStore())
    const repo = deciderRepository({ decider: counter, topics, store: c.store, cache, snapshotPolicy: SnapshotPolicy.everyNEvents(2) })
    for (let i = 0; i < 5; i++) handled(await repo.handle('s', add(1))())
    expect(c.calls.addSnapshot).toBe(2)
    c.reset()
    expect(handled(await repo.load('s', 2)()).state.count).toBe(2)
    expect(fullLoads(c.calls)).toBe(1)
    // A repository without a cache starts from the snapshot the cached one took, and agrees.
    const plain = deciderRepository({ decider: counter, topics, store: c.store })
    expect(handled(await plain.load('s')())).toEqual(handled(await repo.load('s')()))
  })

  it('a decode error on the resumed read leaves the entry out', async () => {
    const cache = stateCache({ maxEntries: 10 })
    const { repo, store } = setup(cache)
    handled(await repo.handle('s', add(1))())
    expect(cache.stats().entries).toBe(1)
    const stranger = { tenantId: 'default', streamId: 's', streamRevision: 2, commitId: 'x', commitSequence: 2, commitStamp: at, headers: {}, events: [{ body: { type: 'Unknown' }, headers: {} }] }
    handled(await store.commit(stranger))
    const loaded = await repo.load('s')()
    expect(E.isLeft(loaded) && loaded.left._tag).toBe('UnknownTopic')
    expect(cache.stats().entries).toBe(0)
  })

  it('a stream deleted and written again is noticed by the resumed read when it does not continue the entry, and loaded whole', async () => {
    const cache = stateCache({ maxEntries: 10 })
    const { repo, plain, store } = setup(cache)
    for (let i = 0; i < 3; i++) handled(await repo.handle('s', add(1))())
    handled(await store.deleteStream('default', 's'))
    // One commit of four events: the read after revision 3 finds a commit starting at 1, not at 4.
    const events = [0, 1, 2, 3].map((from) => ({ body: { type: 'Added', n: 1, from, id: 's', version: from + 1, timestamp: at.toISOString() }, headers: {} }))
    handled(await store.commit({ tenantId: 'default', streamId: 's', streamRevision: 4, commitId: 'again', commitSequence: 1, commitStamp: at, headers: {}, events }))
    expect(handled(await plain.load('s')()).state).toEqual({ count: 4, events: 4 })
    expect(handled(await repo.load('s')())).toEqual(handled(await plain.load('s')()))
    // A rewrite that happens to continue the entry cannot be told from a new commit: `invalidate` is for that.
    cache.invalidate(store, 'default', 's')
    expect(cache.stats().entries).toBe(0)
  })
})

describe('stateCache: a stream deleted behind the cache', () => {
  for (const allowStaleMs of [undefined, 60_000]) {
    it(`${allowStaleMs === undefined ? 'fresh' : 'stale'} mode: the append that meets the gap drops the entry and the command is decided again on the stream as stored`, async () => {
      const cache = stateCache({ maxEntries: 10 })
      const { repo, plain, store } = setup(cache, allowStaleMs === undefined ? {} : { allowStaleMs })
      for (let i = 0; i < 3; i++) handled(await repo.handle('s', add(2))())
      handled(await store.deleteStream('default', 's'))
      // The cache says 6 at revision 3; the store holds nothing: the command is decided on 0.
      expect(handled(await repo.handle('s', add(1))())).toMatchObject({ _tag: 'Appended', revision: 1, state: { count: 1 } })
      expect(handled(await repo.load('s')())).toEqual(handled(await plain.load('s')()))
    })
  }
})

describe('stateCache: reads per command', () => {
  it('fresh mode: one short read after the cached revision, no snapshot look-up', async () => {
    const cache = stateCache({ maxEntries: 10 })
    const { repo, calls, reset } = setup(cache)
    handled(await repo.handle('s', add(1))())
    reset()
    for (let i = 0; i < 3; i++) handled(await repo.handle('s', add(1))())
    expect(calls).toEqual({ get: 3, commit: 3, getSnapshot: 0, addSnapshot: 0, readLatest: 0 })
  })

  it('fresh mode asks only for the revisions after the entry', async () => {
    const cache = stateCache({ maxEntries: 10 })
    const base = memoryStore()
    const ranges: unknown[] = []
    const store = new Proxy(base, {
      get: (target, prop, receiver) =>
        prop === 'get'
          ? (tenant: string, stream: string, range?: unknown) => {
              ranges.push(range)
              return target.get(tenant, stream, range as undefined)
            }
          : prop === 'readLatest'
            ? (tenant: string, stream: string, max?: number) => {
                ranges.push('readLatest')
                return (target.readLatest as NonNullable<typeof target.readLatest>)(tenant, stream, max)
              }
            : Reflect.get(target, prop, receiver),
    })
    const repo = deciderRepository({ decider: counter, topics, store, cache })
    handled(await repo.handle('s', add(1))())
    handled(await repo.handle('s', add(1))())
    // the first command loads the stream whole (one call), the second asks only for what follows the entry
    expect(ranges).toEqual(['readLatest', { minRevision: 2 }])
  })

  it('stale mode: no read at all on the happy path', async () => {
    const cache = stateCache({ maxEntries: 10 })
    const { repo, calls, reset } = setup(cache, { allowStaleMs: 60_000 })
    handled(await repo.handle('s', add(1))())
    reset()
    for (let i = 0; i < 5; i++) handled(await repo.handle('s', add(1))())
    expect(calls).toEqual({ get: 0, commit: 5, getSnapshot: 0, addSnapshot: 0, readLatest: 0 })
  })

  it('stale mode: another process\'s commit costs one failed append, whose conflict carries the missed commits; the command is decided again on them', async () => {
    const cache = stateCache({ maxEntries: 10 })
    const { repo, plain, calls, reset, store } = setup(cache, { allowStaleMs: 60_000 })
    handled(await repo.handle('s', add(1))())
    handled(await plain.handle('s', { type: 'Reset', to: 7 })())
    reset()
    const out = handled(await repo.handle('s', add(2))())
    expect(out).toMatchObject({ _tag: 'Appended', revision: 3, state: { count: 9 } })
    expect(calls).toEqual({ get: 0, commit: 2, getSnapshot: 0, addSnapshot: 0, readLatest: 0 })
    const stored = await storedOf(store, 'default', 's')
    expect(stored.at(-1)?.events).toEqual([expect.objectContaining({ type: 'Added', n: 2, from: 7 })])
    // And the entry took the missed commit in: the next command reads nothing again.
    reset()
    handled(await repo.handle('s', add(1))())
    expect(calls.get).toBe(0)
  })

  it('stale mode: a refusal on the cached state is confirmed by a read, and decided again when the stream moved', async () => {
    const cache = stateCache({ maxEntries: 10 })
    const { repo, plain, calls, reset } = setup(cache, { allowStaleMs: 60_000 })
    handled(await repo.handle('s', add(9))())
    handled(await plain.handle('s', { type: 'Reset', to: 0 })())
    reset()
    // The cache says 9 (9 + 5 > LIMIT); the store says 0.
    expect(handled(await repo.handle('s', add(5))())).toMatchObject({ revision: 3, state: { count: 5 } })
    expect(calls).toMatchObject({ get: 1, commit: 1 })
    // A refusal that stands costs the one read too.
    reset()
    const refused = await repo.handle('s', add(6))()
    expect(E.isLeft(refused) && refused.left._tag).toBe('Rejected')
    expect(calls).toMatchObject({ get: 1, commit: 0 })
  })

  it('stale mode: an expected version other than the cached revision is checked against the store', async () => {
    const cache = stateCache({ maxEntries: 10 })
    const { repo, plain } = setup(cache, { allowStaleMs: 60_000 })
    handled(await repo.handle('s', add(1))())
    handled(await plain.handle('s', add(1))())
    expect(handled(await repo.handle('s', add(1), { expectedVersion: 2 })())).toMatchObject({ revision: 3 })
    const wrong = await repo.handle('s', add(1), { expectedVersion: 1 })()
    expect(E.isLeft(wrong) && wrong.left).toMatchObject({ _tag: 'WrongExpectedVersion', expected: 1, actual: 3 })
  })
})

describe('stateCache: class and saga faces', () => {
  const opened = (id: string) => Opened.create({ id, version: 1, timestamp: at, owner: 'ann' })

  it('AggregateRepository: hands out a new instance from the memento each time; stale mode reads nothing', async () => {
    const cache = stateCache({ maxEntries: 10 })
    const c = counted(memoryStore())
    const repo = new AggregateRepository<AccountEvent>(c.store, accountTopics, { cache, allowStaleMs: 60_000 })
    const plain = new AggregateRepository<AccountEvent>(c.store, accountTopics)
    const a = await repo.get(Account, 'a')
    a.deposit(5)
    await repo.save(a)
    c.reset()
    const b = await repo.get(Account, 'a')
    expect(c.calls.get + fullLoads(c.calls)).toBe(0)
    expect(b).not.toBe(a)
    expect({ balance: b.balance, version: b.version, seq: b.commitSequence }).toEqual({ balance: 5, version: 1, seq: 1 })
    b.deposit(7) // not saved: the cache must not see it
    const again = await repo.get(Account, 'a')
    expect(again.balance).toBe(5)
    again.deposit(1)
    await repo.save(again)
    const fresh = await plain.get(Account, 'a')
    expect((await repo.get(Account, 'a')).getMemento()).toEqual(fresh.getMemento())
    // A stale instance meets the other writer's commit through the append, as any concurrent writer would.
    const other = await plain.get(Account, 'a')
    other.rename('bob')
    await plain.save(other)
    const stale = await repo.get(Account, 'a')
    expect(stale.owner).toBe('')
    stale.deposit(2) // Deposited does not conflict with Renamed: rebased and retried
    await repo.save(stale)
    const head = await plain.get(Account, 'a')
    expect({ owner: head.owner, balance: head.balance, version: head.version }).toEqual({ owner: 'bob', balance: 8, version: 4 })
    expect((await repo.get(Account, 'a')).getMemento()).toEqual(head.getMemento())
  })

  it('SagaRepository: replays the cached events into a new saga; no read, no command dispatched again', async () => {
    const cache = stateCache({ maxEntries: 10 })
    const c = counted(memoryStore())
    const repo = new SagaRepository(c.store, accountTopics, { cache, allowStaleMs: 60_000 })
    const plain = new SagaRepository(c.store, accountTopics)
    const s = await repo.get(BigDepositSaga, 'g')
    s.transition(opened('acc'))
    s.transition(Deposited.create({ id: 'acc', version: 2, timestamp: at, amount: 150 }))
    await repo.save(s)
    c.reset()
    const again = await repo.get(BigDepositSaga, 'g')
    expect(c.calls.get + fullLoads(c.calls)).toBe(0)
    expect({ owner: again.owner, seen: again.seen, version: again.version, commands: again.undispatchedCommands }).toEqual({ owner: 'ann', seen: 1, version: 2, commands: [] })
    again.transition(Deposited.create({ id: 'acc', version: 3, timestamp: at, amount: 1 }))
    await repo.save(again)
    const cached = await repo.get(BigDepositSaga, 'g')
    const fresh = await plain.get(BigDepositSaga, 'g')
    expect({ owner: cached.owner, seen: cached.seen, version: cached.version }).toEqual({ owner: fresh.owner, seen: fresh.seen, version: fresh.version })
  })

  it('sagaRepository (functions): the second event reads nothing in stale mode', async () => {
    const cache = stateCache({ maxEntries: 10 })
    const c = counted(memoryStore())
    const repo = sagaRepository({ saga: bigDeposits, topics: accountTopics, store: c.store, cache, allowStaleMs: 60_000 })
    handled(await repo.handle('g', opened('acc'))())
    c.reset()
    const out = handled(await repo.handle('g', Deposited.create({ id: 'acc', version: 2, timestamp: at, amount: 200 }))())
    expect(out).toMatchObject({ _tag: 'Appended', revision: 2, commands: [{ type: 'Notify', owner: 'ann', amount: 200 }] })
    expect(c.calls).toMatchObject({ get: 0, getSnapshot: 0, commit: 1 })
    expect(handled(await repo.load('g')()).state).toEqual({ owner: 'ann', seen: 1 })
  })
})

describe('stateCache: fuzzed', () => {
  const stream = (streamId: string, revision: number) => ({ ...emptyStream('t', streamId), streamRevision: revision, commitIds: new Set([`c${revision}`]) })
  const odd = fc.oneof(fc.integer({ min: -3, max: 6 }), fc.constant(Number.NaN), fc.constant(Infinity), fc.double())
  const op = fc.oneof(
    fc.record({ kind: fc.constant<'put'>('put'), stream: fc.constantFrom('a', 'b', 'c', 'd'), picture: fc.anything(), revision: fc.nat(5) }),
    fc.record({ kind: fc.constant<'lookup'>('lookup'), stream: fc.constantFrom('a', 'b', 'c', 'd') }),
    fc.record({ kind: fc.constant<'tick'>('tick'), ms: fc.nat(2_000) }),
    fc.record({ kind: fc.constant<'invalidate'>('invalidate'), stream: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }) }),
  )

  it('any bounds and any sequence of puts, look-ups, expiries and invalidations: no throw, bounds kept, a look-up gives its own key\'s last picture or nothing', () => {
    fc.assert(
      fc.property(odd, fc.option(odd.map((n) => n * 1_000), { nil: undefined }), fc.option(odd.map((n) => n * 500), { nil: undefined }), fc.array(op, { maxLength: 60 }), (maxEntries, maxBytes, ttlMs, ops) => {
        let now = 0
        const store = {}
        const cache = stateCache({ maxEntries, ...(maxBytes === undefined ? {} : { maxBytes }), ...(ttlMs === undefined ? {} : { ttlMs }), now: () => now })
        const table = tableOf(cache)
        if (table === undefined) throw new Error('no table')
        const last = new Map<string, unknown>()
        const key = (s: string) => `${table.idOf(store)}:${s}`
        for (const o of ops) {
          switch (o.kind) {
            case 'put':
              table.put({ key: key(o.stream), store: table.idOf(store), tenantId: 't', streamId: o.stream, picture: o.picture, stream: stream(o.stream, o.revision) })
              last.set(o.stream, o.picture)
              break
            case 'lookup': {
              const e = table.lookup(key(o.stream))
              if (e !== undefined) {
                expect(e.streamId).toBe(o.stream)
                expect(e.picture).toBe(last.get(o.stream))
              }
              break
            }
            case 'tick':
              now += o.ms
              break
            case 'invalidate':
              cache.invalidate(store as never, 't', o.stream)
              break
          }
          const s = cache.stats()
          expect(s.entries).toBeLessThanOrEqual(table.bounds.maxEntries)
          expect(s.bytes).toBeLessThanOrEqual(table.bounds.maxBytes)
          expect(s.bytes).toBeGreaterThanOrEqual(0)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('the estimate survives cycles, shared objects and every kind of value', () => {
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = cyclic
    const shared = { s: 'x'.repeat(100) }
    expect(estimateBytes(cyclic)).toBeGreaterThan(0)
    expect(estimateBytes([shared, shared])).toBeLessThan(2 * estimateBytes(shared))
    fc.assert(fc.property(fc.anything({ withMap: true, withSet: true, withDate: true, withBigInt: true, withTypedArray: true }), (v) => Number.isFinite(estimateBytes(v))))
  })
})

describe('stateCache: ids fuzzed', () => {
  it('tenants and streams with any ids share one cache without one entry leaking into another', async () => {
    const id = fc.oneof(fc.string({ minLength: 1, maxLength: 6 }), fc.constantFrom('a', 'a"', '["a"', 'a:b', '0', 'ü'))
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ tenant: id, stream: id, n: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 20 }), async (steps) => {
        const cache = stateCache({ maxEntries: 1_000 })
        const store = memoryStore()
        const repos = new Map<string, ReturnType<typeof deciderRepository<CounterCommand, CounterState, CounterEvent, CounterError>>>()
        const repoOf = (tenantId: string) => {
          let r = repos.get(tenantId)
          if (r === undefined) {
            r = deciderRepository({ decider: counter, topics, store, tenantId, cache, allowStaleMs: 60_000 })
            repos.set(tenantId, r)
          }
          return r
        }
        const want = new Map<string, number>()
        for (const s of steps) {
          const k = JSON.stringify([s.tenant, s.stream])
          const before = want.get(k) ?? 0
          const out = await repoOf(s.tenant).handle(s.stream, add(s.n))()
          if (before + s.n > 10) expect(E.isLeft(out)).toBe(true)
          else {
            expect(handled(out)).toMatchObject({ _tag: 'Appended', state: { count: before + s.n } })
            want.set(k, before + s.n)
          }
        }
        for (const [k, count] of want) {
          const [tenant, stream] = JSON.parse(k) as [string, string]
          expect(handled(await repoOf(tenant).load(stream)()).state.count).toBe(count)
          const plain = deciderRepository({ decider: counter, topics, store, tenantId: tenant })
          expect(handled(await plain.load(stream)()).state.count).toBe(count)
        }
      }),
      { numRuns: 100 },
    )
  })
})
