import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { toArray, type Commit, type CommitAttempt } from 'aett'
import { memoryStore } from 'aett/memory'
import { commitContext, tracedStore, TRACEPARENT, TRACESTATE } from 'aett/otel'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import type { StoreShell } from 'aett/adapter'
import { telemetry, total, useContextManager, type Telemetry } from './support.js'

const stamp = new Date('2026-03-01T12:00:00.000Z')
const attempt = (streamId: string, revision: number, sequence: number, extra: Partial<CommitAttempt> = {}): CommitAttempt => ({
  tenantId: 't1',
  streamId,
  streamRevision: revision,
  commitId: `${streamId}-${sequence}`,
  commitSequence: sequence,
  commitStamp: stamp,
  headers: {},
  events: [{ body: { type: 'Noted', n: revision }, headers: {} }],
  ...extra,
})

const stopContext = useContextManager()
afterAll(stopContext)

describe('tracedStore', () => {
  let t: Telemetry
  beforeEach(() => {
    t = telemetry()
  })

  it('keeps the wrapped store’s type and every member beyond the port', async () => {
    const inner = memoryStore({ name: 'memory' }) as unknown as StoreShell<unknown>
    const store = tracedStore(inner, t.options)
    expect(store.name).toBe('memory')
    expect(store.isClosed()).toBe(false)
    const seen: Commit[] = []
    const stop = store.onCommit((c) => seen.push(c))
    expect(E.isRight(await store.commit(attempt('s1', 1, 1)))).toBe(true)
    stop()
    expect(seen.map((c) => c.streamId)).toEqual(['s1'])
    expect(E.isRight(await store.run('custom', async () => E.right(1)))).toBe(true)
    await store.close()
    expect(inner.isClosed()).toBe(true)
  })

  it('delegates members of a class-based store, bound to it', async () => {
    class Store {
      readonly name = 'sqlite'
      readonly subscriptions = { kind: 'checkpoints' }
      #inner = memoryStore() as unknown as StoreShell<unknown>
      commit(a: CommitAttempt) {
        return this.#inner.commit(a)
      }
      get(tenantId: string, streamId: string) {
        return this.#inner.get(tenantId, streamId)
      }
      getTo(tenantId: string, streamId: string, maxTime: Date) {
        return this.#inner.getTo(tenantId, streamId, maxTime)
      }
      getAllTo(tenantId: string, maxTime: Date) {
        return this.#inner.getAllTo(tenantId, maxTime)
      }
      getFrom(checkpoint: number, tenantId?: string) {
        return this.#inner.getFrom(checkpoint, tenantId)
      }
      getFromTo(from: number, to: number, tenantId?: string) {
        return this.#inner.getFromTo(from, to, tenantId)
      }
      getSnapshot(tenantId: string, streamId: string, maxRevision?: number) {
        return this.#inner.getSnapshot(tenantId, streamId, maxRevision)
      }
      addSnapshot(s: Parameters<ReturnType<typeof memoryStore>['addSnapshot']>[0]) {
        return this.#inner.addSnapshot(s)
      }
      streamsToSnapshot(tenantId: string, threshold: number) {
        return this.#inner.streamsToSnapshot(tenantId, threshold)
      }
      heads() {
        return this.#inner.isClosed() ? 'closed' : 'open'
      }
    }
    const store = tracedStore(new Store(), t.options)
    expect(store.heads()).toBe('open')
    expect(store.subscriptions).toEqual({ kind: 'checkpoints' })
    expect(E.isRight(await store.commit(attempt('s1', 1, 1)))).toBe(true)
    const span = t.span('commit sqlite')
    expect(span.attributes['db.system']).toBe('sqlite')
    expect(span.attributes['db.system.name']).toBe('sqlite')
  })

  it('commit: a CLIENT span with the store, tenant, stream, revision, sequence, outcome; the checkpoint', async () => {
    const store = tracedStore(memoryStore(), t.options)
    const r = await store.commit(attempt('s1', 1, 1))
    expect(E.isRight(r)).toBe(true)
    const span = t.span('commit memory')
    expect(span.kind).toBe(SpanKind.CLIENT)
    expect(span.status.code).toBe(SpanStatusCode.UNSET)
    expect(span.attributes).toMatchObject({
      'db.system.name': 'memory',
      'db.operation.name': 'commit',
      'aett.store': 'memory',
      'aett.tenant.id': 't1',
      'aett.stream.id': 's1',
      'aett.commit.id': 's1-1',
      'aett.stream.revision': 1,
      'aett.commit.sequence': 1,
      'aett.events.count': 1,
      'aett.commit.attempt': 1,
      'aett.outcome': 'ok',
      'aett.checkpoint': E.isRight(r) ? r.right.checkpointToken : -1,
    })
  })

  it('db.system follows the semantic conventions for the kit’s stores, and can be given', async () => {
    const systems: [string, string, string][] = [
      ['postgres', 'postgresql', 'postgresql'],
      ['mysql', 'mysql', 'mysql'],
      ['dynamodb', 'dynamodb', 'aws.dynamodb'],
      ['sqlite', 'sqlite', 'sqlite'],
    ]
    for (const [name, legacy, stable] of systems) {
      const store = tracedStore(memoryStore({ name }), t.options)
      await store.commit(attempt('s1', 1, 1))
      expect(t.span(`commit ${name}`).attributes).toMatchObject({ 'db.system': legacy, 'db.system.name': stable })
    }
    const store = tracedStore(memoryStore(), { ...t.options, dbSystem: 'mariadb', name: 'orders' })
    await store.commit(attempt('s1', 1, 1))
    expect(t.span('commit orders').attributes).toMatchObject({ 'db.system': 'mariadb', 'db.system.name': 'mariadb', 'aett.store': 'orders' })
  })

  it('a refused commit: status ERROR with the tag, error.type, the outcome tag and the conflicts counter', async () => {
    const store = tracedStore(memoryStore(), t.options)
    await store.commit(attempt('s1', 1, 1))
    const conflict = await store.commit({ ...attempt('s1', 1, 1), commitId: 'other' })
    expect(E.isLeft(conflict) && conflict.left._tag).toBe('ConcurrencyConflict')
    const duplicate = await store.commit(attempt('s1', 2, 2, { commitId: 's1-1' }))
    expect(E.isLeft(duplicate) && duplicate.left._tag).toBe('DuplicateCommit')
    const invalid = await store.commit({ ...attempt('s1', 2, 2), events: [] })
    expect(E.isLeft(invalid) && invalid.left._tag).toBe('InvalidAttempt')
    const [ok, ...failed] = t.named('commit memory')
    expect(ok?.status.code).toBe(SpanStatusCode.UNSET)
    expect(failed.map((s) => [s.status.code, s.status.message, s.attributes['error.type'], s.attributes['aett.outcome']])).toEqual([
      [SpanStatusCode.ERROR, 'ConcurrencyConflict', 'ConcurrencyConflict', 'ConcurrencyConflict'],
      [SpanStatusCode.ERROR, 'DuplicateCommit', 'DuplicateCommit', 'DuplicateCommit'],
      [SpanStatusCode.ERROR, 'InvalidAttempt', 'InvalidAttempt', 'InvalidAttempt'],
    ])
    expect(total(await t.points('aett.append.conflicts'), { 'aett.store': 'memory' })).toBe(1)
    const durations = await t.points('aett.append.duration')
    expect(total(durations, { 'aett.outcome': 'ok' })).toBeGreaterThanOrEqual(1)
    expect(total(durations, { 'aett.outcome': 'ConcurrencyConflict' })).toBeGreaterThanOrEqual(1)
    expect(durations.every((p) => (p.sum ?? -1) >= 0)).toBe(true)
  })

  it('a StorageError (a closed store) is status ERROR with its tag and message', async () => {
    const store = tracedStore(memoryStore(), t.options)
    await store.close()
    const r = await store.commit(attempt('s1', 1, 1))
    expect(E.isLeft(r) && r.left._tag).toBe('StorageError')
    const span = t.span('commit memory')
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'StorageError' })
    expect(span.attributes['error.type']).toBe('StorageError')
    expect(String(span.attributes['aett.error.message'])).toContain('closed')
    const read = await toArray(store.get('t1', 's1'))
    expect(E.isLeft(read) && read.left._tag).toBe('StorageError')
    expect(t.span('get memory').status.code).toBe(SpanStatusCode.ERROR)
  })

  it('stores the append span’s trace context in the commit headers (and keeps a given traceparent)', async () => {
    const store = tracedStore(memoryStore(), t.options)
    const tracer = t.tracerProvider.getTracer('test')
    await tracer.startActiveSpan('command', async (parent) => {
      await store.commit(attempt('s1', 1, 1))
      parent.end()
    })
    const commits = await toArray(store.get('t1', 's1'))
    const commit = E.isRight(commits) ? commits.right[0] : undefined
    const append = t.span('commit memory')
    expect(commit?.headers[TRACEPARENT]).toBe(`00-${append.spanContext().traceId}-${append.spanContext().spanId}-01`)
    expect(commit?.headers[TRACESTATE]).toBeUndefined()
    expect(append.parentSpanContext?.spanId).toBe(t.span('command').spanContext().spanId)
    expect(commitContext(commit as Commit)).toMatchObject({ traceId: append.spanContext().traceId, spanId: append.spanContext().spanId, isRemote: true })

    const given = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    await store.commit(attempt('s2', 1, 1, { headers: { traceparent: given, tracestate: 'k=v' } }))
    const other = await toArray(store.get('t1', 's2'))
    expect(E.isRight(other) && other.right[0]?.headers).toEqual({ traceparent: given, tracestate: 'k=v' })
  })

  it('writes tracestate when the context has one, and nothing with propagate: false', async () => {
    const store = tracedStore(memoryStore(), t.options)
    const quiet = tracedStore(memoryStore(), { ...t.options, propagate: false })
    const tracer = t.tracerProvider.getTracer('test')
    const { createTraceState, context: ctxApi, ROOT_CONTEXT } = await import('@opentelemetry/api')
    const remote = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
      traceState: createTraceState('vendor=abc'),
    })
    await ctxApi.with(remote, () =>
      tracer.startActiveSpan('command', async (span) => {
        await store.commit(attempt('s1', 1, 1))
        await quiet.commit(attempt('s1', 1, 1))
        span.end()
      }),
    )
    const [a] = E.getOrElse((): Commit[] => [])(await toArray(store.get('t1', 's1')))
    expect(a?.headers[TRACEPARENT]).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/)
    expect(a?.headers[TRACESTATE]).toBe('vendor=abc')
    const [b] = E.getOrElse((): Commit[] => [])(await toArray(quiet.get('t1', 's1')))
    expect(b?.headers).toEqual({})
  })

  it('reads: one span over the iteration, with the commits and events read, and the events-read counter', async () => {
    const store = tracedStore(memoryStore(), t.options)
    await store.commit(attempt('s1', 2, 1, { events: [{ body: { type: 'A' }, headers: {} }, { body: { type: 'B' }, headers: {} }] }))
    await store.commit(attempt('s1', 3, 2))
    await store.commit(attempt('s2', 1, 1))
    t.reset()
    const reads = store.get('t1', 's1', { minRevision: 1, maxRevision: 10 })
    expect(t.spans()).toEqual([]) // nothing until it is iterated
    expect(E.isRight(await toArray(reads))).toBe(true)
    expect(t.span('get memory').attributes).toMatchObject({
      'db.operation.name': 'get',
      'aett.tenant.id': 't1',
      'aett.stream.id': 's1',
      'aett.read.min_revision': 1,
      'aett.read.max_revision': 10,
      'aett.commits.read': 2,
      'aett.events.read': 3,
      'db.response.returned_rows': 2,
      'aett.outcome': 'ok',
    })
    await toArray(store.getTo('t1', 's1', stamp))
    expect(t.span('getTo memory').attributes).toMatchObject({ 'aett.read.max_time': stamp.toISOString(), 'aett.commits.read': 2 })
    await toArray(store.getAllTo('t1', stamp))
    expect(t.span('getAllTo memory').attributes).toMatchObject({ 'aett.commits.read': 3, 'aett.events.read': 4 })
    await toArray(store.getFrom(0, 't1'))
    expect(t.span('getFrom memory').attributes).toMatchObject({ 'aett.read.from_checkpoint': 0, 'aett.tenant.id': 't1', 'aett.commits.read': 3 })
    await toArray(store.getFromTo(1, 2))
    expect(t.span('getFromTo memory').attributes).toMatchObject({ 'aett.read.from_checkpoint': 1, 'aett.read.to_checkpoint': 2, 'aett.commits.read': 1 })
    const read = await t.points('aett.events.read')
    expect(total(read, { 'db.operation.name': 'get' })).toBe(3)
    expect(total(read, { 'db.operation.name': 'getAllTo' })).toBe(4)
    expect(total(read)).toBe(3 + 3 + 4 + 4 + 1)
  })

  it('a read left early ends its span, marked incomplete; a bad bound is an error span', async () => {
    const store = tracedStore(memoryStore(), t.options)
    await store.commit(attempt('s1', 1, 1))
    await store.commit(attempt('s1', 2, 2))
    t.reset()
    for await (const c of store.get('t1', 's1')) {
      expect(E.isRight(c)).toBe(true)
      break
    }
    expect(t.span('get memory').attributes).toMatchObject({ 'aett.commits.read': 1, 'aett.read.complete': false })
    t.reset()
    const bad = await toArray(store.getFrom(Number.NaN))
    expect(E.isLeft(bad) && bad.left._tag).toBe('InvalidArgument')
    expect(t.span('getFrom memory').status).toEqual({ code: SpanStatusCode.ERROR, message: 'InvalidArgument' })
  })

  it('feedReads: false leaves the feed reads without spans and still counts their events', async () => {
    const store = tracedStore(memoryStore({ name: 'feed' }), { ...t.options, feedReads: false })
    await store.commit(attempt('s1', 1, 1))
    t.reset()
    await toArray(store.getFrom(0))
    await toArray(store.getFromTo(0, 5))
    expect(t.spans()).toEqual([])
    expect(total(await t.points('aett.events.read'), { 'aett.store': 'feed' })).toBe(2)
  })

  it('readLatest: one span with the snapshot found and the commits and events read after it; a store without it has none', async () => {
    const store = tracedStore(memoryStore(), t.options)
    const readLatest = store.readLatest
    if (readLatest === undefined) return expect.fail('the traced memory store offers readLatest')
    await store.commit(attempt('s1', 1, 1))
    await store.commit(attempt('s1', 2, 2))
    await store.commit(attempt('s1', 3, 3))
    expect(E.isRight(await store.addSnapshot({ tenantId: 't1', streamId: 's1', streamRevision: 1, commitSequence: 1, payload: {}, headers: {} }))).toBe(true)
    t.reset()
    const items = await toArray(readLatest('t1', 's1', 2))
    expect(E.isRight(items) && items.right.map((i) => i._tag)).toEqual(['Snapshot', 'Commit'])
    expect(t.span('readLatest memory').attributes).toMatchObject({
      'aett.stream.id': 's1',
      'aett.read.max_revision': 2,
      'aett.snapshot.found': true,
      'aett.snapshot.revision': 1,
      'aett.commits.read': 1,
      'aett.events.read': 1,
    })
    t.reset()
    await toArray(readLatest('t1', 'none'))
    expect(t.span('readLatest memory').attributes).toMatchObject({ 'aett.snapshot.found': false, 'aett.commits.read': 0 })
    // A store without the method stays without it when traced, so that a repository falls back to getSnapshot + get.
    const { readLatest: _, ...without } = memoryStore()
    expect('readLatest' in tracedStore(without, t.options)).toBe(false)
  })

  it('snapshots and management: a span each', async () => {
    const store = tracedStore(memoryStore(), t.options)
    await store.initialize()
    expect(t.span('initialize memory').attributes).toMatchObject({ 'db.operation.name': 'initialize', 'aett.outcome': 'ok' })
    await store.commit(attempt('s1', 1, 1))
    await store.commit(attempt('s1', 2, 2))
    expect(O.isNone(E.getOrElseW(() => O.some(0))(await store.getSnapshot('t1', 's1')))).toBe(true)
    expect(t.span('getSnapshot memory').attributes).toMatchObject({ 'aett.snapshot.found': false, 'aett.stream.id': 's1' })
    t.reset()
    const snap = { tenantId: 't1', streamId: 's1', streamRevision: 2, commitSequence: 2, payload: { n: 2 }, headers: {} }
    expect(E.isRight(await store.addSnapshot(snap))).toBe(true)
    expect(t.span('addSnapshot memory').attributes).toMatchObject({ 'aett.snapshot.revision': 2, 'aett.commit.sequence': 2, 'aett.outcome': 'ok' })
    await store.getSnapshot('t1', 's1', 5)
    expect(t.span('getSnapshot memory').attributes).toMatchObject({ 'aett.snapshot.found': true, 'aett.snapshot.revision': 2, 'aett.read.max_revision': 5 })
    await store.commit(attempt('s2', 1, 1))
    await toArray(store.streamsToSnapshot('t1', 1))
    expect(t.span('streamsToSnapshot memory').attributes).toMatchObject({ 'aett.read.threshold': 1, 'aett.items.read': 1 })
    await store.deleteStream('t1', 's2')
    expect(t.span('deleteStream memory').attributes).toMatchObject({ 'aett.tenant.id': 't1', 'aett.stream.id': 's2' })
    await store.purge('t1')
    await store.drop()
    expect(t.spans().map((s) => s.name)).toEqual(expect.arrayContaining(['deleteStream memory', 'purge memory', 'drop memory']))
    expect(t.span('purge memory').attributes['aett.tenant.id']).toBe('t1')
  })
})
