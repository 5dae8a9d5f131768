import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import * as E from 'fp-ts/lib/Either.js'
import { AggregateRepository, conflictDetector, deciderRepository, DomainFailure, SagaRepository, sagaRepository, SnapshotPolicy } from 'aett'
import { memoryStore } from 'aett/memory'
import { tracedRepository, tracedStore } from 'aett/otel'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { Account, account, BigDepositSaga, bigDeposits, Deposited, Opened, topics, type AccountEvent } from './fixtures.js'
import { racing, telemetry, total, useContextManager, type Telemetry } from './support.js'

const stopContext = useContextManager()
afterAll(stopContext)

let t: Telemetry
beforeEach(() => {
  t = telemetry()
})

/** A decider repository on a traced memory store, both traced with the test's SDK. */
const accounts = (options: { store?: ReturnType<typeof memoryStore>; maxRetries?: number; snapshotEvery?: number; noConflicts?: boolean } = {}) => {
  const store = tracedStore(options.store ?? memoryStore(), t.options)
  const repository = deciderRepository({
    decider: account,
    topics,
    store,
    ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
    ...(options.snapshotEvery === undefined ? {} : { snapshotPolicy: SnapshotPolicy.everyNEvents(options.snapshotEvery) }),
    ...(options.noConflicts === true ? { conflictDetector: conflictDetector<AccountEvent>().register('Deposited', 'Deposited', () => false) } : {}),
  })
  return { store, repository: tracedRepository(repository, { ...t.options, name: 'account' }) }
}

describe('tracedRepository on a decider repository', () => {
  it('handle: an INTERNAL span with the stream, command type, outcome and where the stream stands; the store spans are its children', async () => {
    const { repository } = accounts()
    const r = await repository.handle('acc-1', { type: 'Open', owner: 'Ada' }, { commitId: 'c-1' })()
    expect(E.isRight(r) && r.right._tag).toBe('Appended')
    const span = t.span('handle account')
    expect(span.kind).toBe(SpanKind.INTERNAL)
    expect(span.status.code).toBe(SpanStatusCode.UNSET)
    expect(span.attributes).toMatchObject({
      'aett.repository': 'account',
      'aett.operation': 'handle',
      'aett.stream.id': 'acc-1',
      'aett.command.type': 'Open',
      'aett.commit.id': 'c-1',
      'aett.outcome': 'Appended',
      'aett.stream.revision': 1,
      'aett.commit.sequence': 1,
      'aett.events.count': 1,
      // seen by the traced store, through the context:
      'aett.load.from_snapshot': false,
      'aett.events.read': 0,
      'aett.commit.attempts': 1,
      'aett.retries': 0,
      'aett.conflicts': 0,
    })
    expect(typeof span.attributes['aett.checkpoint']).toBe('number')
    const children = t.spans().filter((s) => s.parentSpanContext?.spanId === span.spanContext().spanId)
    // The memory store loads in one read (`readLatest`: the snapshot and the commits after it), then appends.
    expect(children.map((s) => s.name).sort()).toEqual(['commit memory', 'readLatest memory'])
    expect(children.every((s) => s.spanContext().traceId === span.spanContext().traceId)).toBe(true)
    const durations = await t.points('aett.command.duration')
    expect(total(durations, { 'aett.repository': 'account', 'aett.operation': 'handle', 'aett.outcome': 'Appended' })).toBe(1)
  })

  it('load: the events replayed and whether it started from a snapshot', async () => {
    const { repository } = accounts({ snapshotEvery: 2 })
    await repository.handle('acc-1', { type: 'Open', owner: 'Ada' })()
    await repository.handle('acc-1', { type: 'Deposit', amount: 5 })() // revision 2: the policy snapshots
    await repository.handle('acc-1', { type: 'Deposit', amount: 7 })()
    t.reset()
    const loaded = await repository.load('acc-1')()
    expect(E.isRight(loaded) && loaded.right.state.balance).toBe(12)
    expect(t.span('load account').attributes).toMatchObject({
      'aett.stream.id': 'acc-1',
      'aett.outcome': 'ok',
      'aett.stream.revision': 3,
      'aett.load.from_snapshot': true,
      'aett.load.snapshot_revision': 2,
      'aett.events.read': 1,
      'aett.commits.read': 1,
    })
    t.reset()
    await repository.loadAt('acc-1', new Date(Date.now() + 60_000))()
    expect(t.span('loadAt account').attributes).toMatchObject({ 'aett.load.from_snapshot': false, 'aett.events.read': 3, 'aett.stream.revision': 3 })
    t.reset()
    const snap = await repository.snapshot('acc-1')()
    expect(E.isRight(snap)).toBe(true)
    expect(t.span('snapshot account').attributes).toMatchObject({ 'aett.stream.revision': 3, 'aett.outcome': 'ok' })
    expect(t.named('addSnapshot memory')).toHaveLength(1)
  })

  it('NothingToDo and AlreadyCommitted are outcomes, not errors', async () => {
    const { repository } = accounts()
    await repository.handle('acc-1', { type: 'Open', owner: 'Ada' }, { commitId: 'c-1' })()
    t.reset()
    await repository.handle('acc-1', { type: 'Deposit', amount: 0 })()
    await repository.handle('acc-1', { type: 'Open', owner: 'Ada' }, { commitId: 'c-1' })()
    const [nothing, already] = t.named('handle account')
    expect(nothing?.attributes).toMatchObject({ 'aett.outcome': 'NothingToDo', 'aett.stream.revision': 1 })
    expect(already?.attributes).toMatchObject({ 'aett.outcome': 'AlreadyCommitted', 'aett.commit.id': 'c-1' })
    expect([nothing?.status.code, already?.status.code]).toEqual([SpanStatusCode.UNSET, SpanStatusCode.UNSET])
  })

  it('a Rejected command: status ERROR, error.type Rejected and the decider’s own error tag', async () => {
    const { repository } = accounts()
    await repository.handle('acc-1', { type: 'Open', owner: 'Ada' })()
    t.reset()
    const r = await repository.handle('acc-1', { type: 'Withdraw', amount: 50 })()
    expect(E.isLeft(r) && r.left._tag).toBe('Rejected')
    const span = t.span('handle account')
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Rejected' })
    expect(span.attributes).toMatchObject({ 'error.type': 'Rejected', 'aett.outcome': 'Rejected', 'aett.rejection': 'InsufficientFunds', 'aett.command.type': 'Withdraw' })
    expect(span.attributes['aett.commit.attempts']).toBeUndefined() // nothing was appended
    expect(total(await t.points('aett.command.duration'), { 'aett.outcome': 'Rejected' })).toBe(1)
  })

  it('a StorageError (a closed store): the command span and the store span are ERROR', async () => {
    const inner = memoryStore()
    const { repository } = accounts({ store: inner })
    await inner.close()
    const r = await repository.handle('acc-1', { type: 'Open', owner: 'Ada' })()
    expect(E.isLeft(r) && r.left._tag).toBe('StorageError')
    const span = t.span('handle account')
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'StorageError' })
    expect(span.attributes['error.type']).toBe('StorageError')
    expect(String(span.attributes['aett.error.message'])).toContain('closed')
    expect(t.span('readLatest memory').status.code).toBe(SpanStatusCode.ERROR)
  })

  it('a conflict with a retry (two writers racing): the conflicted append, the retry, and the counters', async () => {
    const inner = memoryStore()
    const other = deciderRepository({ decider: account, topics, store: inner })
    await other.handle('acc-1', { type: 'Open', owner: 'Ada' })()
    // The traced writer loads, then another writer deposits before its append: it conflicts and rebases.
    const { repository } = accounts({ store: racing(inner, () => other.handle('acc-1', { type: 'Rename', owner: 'Bo' })()), noConflicts: true })
    const r = await repository.handle('acc-1', { type: 'Deposit', amount: 5 })()
    expect(E.isRight(r) && r.right._tag === 'Appended' && r.right.revision).toBe(3)
    const span = t.span('handle account')
    expect(span.status.code).toBe(SpanStatusCode.UNSET)
    expect(span.attributes).toMatchObject({ 'aett.outcome': 'Appended', 'aett.commit.attempts': 2, 'aett.retries': 1, 'aett.conflicts': 1, 'aett.stream.revision': 3 })
    const appends = t.named('commit memory')
    expect(appends.map((s) => [s.attributes['aett.commit.attempt'], s.attributes['aett.outcome'], s.status.code])).toEqual([
      [1, 'ConcurrencyConflict', SpanStatusCode.ERROR],
      [2, 'ok', SpanStatusCode.UNSET],
    ])
    expect(appends.every((s) => s.parentSpanContext?.spanId === span.spanContext().spanId)).toBe(true)
    expect(total(await t.points('aett.append.conflicts'))).toBe(1)
    expect(total(await t.points('aett.append.retries'))).toBe(1)
  })

  it('two traced writers racing for real on one stream: conflicts, retries, and every command appended', async () => {
    const { repository } = accounts({ noConflicts: true })
    await repository.handle('acc-1', { type: 'Open', owner: 'Ada' })()
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => repository.handle('acc-1', { type: 'Deposit', amount: i + 1 })()))
    expect(results.every((r) => E.isRight(r) && r.right._tag === 'Appended')).toBe(true)
    const handles = t.named('handle account').slice(1)
    const retries = handles.reduce((n, s) => n + Number(s.attributes['aett.retries']), 0)
    const conflicts = handles.reduce((n, s) => n + Number(s.attributes['aett.conflicts']), 0)
    expect(conflicts).toBeGreaterThan(0)
    expect(retries).toBe(conflicts)
    expect(total(await t.points('aett.append.conflicts'))).toBe(conflicts)
    expect(total(await t.points('aett.append.retries'))).toBe(retries)
  })

  it('ConflictDetected and RetriesExhausted: ERROR with what the error tells', async () => {
    const inner = memoryStore()
    const other = deciderRepository({ decider: account, topics, store: inner })
    await other.handle('acc-1', { type: 'Open', owner: 'Ada' })()
    const detected = accounts({ store: racing(inner, () => other.handle('acc-1', { type: 'Deposit', amount: 1 })()) }).repository
    const r1 = await detected.handle('acc-1', { type: 'Deposit', amount: 5 })()
    expect(E.isLeft(r1) && r1.left._tag).toBe('ConflictDetected')
    expect(t.span('handle account').attributes).toMatchObject({ 'error.type': 'ConflictDetected', 'aett.conflict.missed_commits': 1, 'aett.conflicts': 1, 'aett.retries': 0 })
    t.reset()
    const exhausted = accounts({ store: racing(inner, () => other.handle('acc-1', { type: 'Rename', owner: 'Cy' })()), maxRetries: 0, noConflicts: true }).repository
    const r2 = await exhausted.handle('acc-1', { type: 'Deposit', amount: 5 })()
    expect(E.isLeft(r2) && r2.left._tag).toBe('RetriesExhausted')
    const span = t.span('handle account')
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'RetriesExhausted' })
    expect(span.attributes).toMatchObject({ 'aett.commit.attempts': 1, 'aett.conflicts': 1 })
  })

  it('WrongExpectedVersion: ERROR with expected and actual', async () => {
    const { repository } = accounts()
    await repository.handle('acc-1', { type: 'Open', owner: 'Ada' })()
    t.reset()
    const r = await repository.handle('acc-1', { type: 'Deposit', amount: 1 }, { expectedVersion: 5 })()
    expect(E.isLeft(r) && r.left._tag).toBe('WrongExpectedVersion')
    expect(t.span('handle account').attributes).toMatchObject({ 'aett.expected_version': 5, 'aett.expected': 5, 'aett.actual': 1, 'error.type': 'WrongExpectedVersion' })
  })

  it('without a traced store the span has what the outcome tells, and no store attributes', async () => {
    const repository = tracedRepository(deciderRepository({ decider: account, topics, store: memoryStore() }), t.options)
    await repository.handle('acc-1', { type: 'Open', owner: 'Ada' })()
    const span = t.span('handle aggregate')
    expect(span.attributes).toMatchObject({ 'aett.outcome': 'Appended', 'aett.stream.revision': 1 })
    expect(span.attributes['aett.events.read']).toBeUndefined()
    expect(span.attributes['aett.retries']).toBeUndefined()
  })
})

describe('tracedRepository on the other faces', () => {
  it('a saga repository: handle spans with the event type and the commands it queued', async () => {
    const store = tracedStore(memoryStore(), t.options)
    const sagas = tracedRepository(sagaRepository({ saga: bigDeposits, topics, store }), t.options)
    const at = new Date('2026-03-01T12:00:00.000Z')
    await sagas.handle('saga-1', Opened.create({ id: 'acc-1', version: 1, timestamp: at, owner: 'Ada' }))()
    const r = await sagas.handle('saga-1', Deposited.create({ id: 'acc-1', version: 2, timestamp: at, amount: 500 }))()
    expect(E.isRight(r) && r.right._tag === 'Appended' && r.right.commands.length).toBe(1)
    const [, deposit] = t.named('handle saga')
    expect(deposit?.attributes).toMatchObject({ 'aett.event.type': 'Deposited', 'aett.commands.count': 1, 'aett.outcome': 'Appended', 'aett.stream.revision': 2 })
    await sagas.load('saga-1')()
    expect(t.span('load saga').attributes).toMatchObject({ 'aett.stream.revision': 2, 'aett.events.read': 2 })
  })

  it('AggregateRepository: get and save spans, thrown and as values, and the instance keeps its class', async () => {
    const store = tracedStore(memoryStore(), t.options)
    const repository = tracedRepository(new AggregateRepository(store, topics), t.options)
    expect(repository).toBeInstanceOf(AggregateRepository)
    const a = await repository.get(Account, 'acc-1')
    a.deposit(10)
    const saved = await repository.save(a)
    expect(saved._tag).toBe('Appended')
    expect(t.span('get Account').attributes).toMatchObject({ 'aett.stream.id': 'acc-1', 'aett.stream.revision': 0, 'aett.load.from_snapshot': false })
    expect(t.span('save Account').attributes).toMatchObject({ 'aett.stream.id': 'acc-1', 'aett.version': 1, 'aett.outcome': 'Appended', 'aett.stream.revision': 1, 'aett.commit.attempts': 1 })
    const r = await repository.either.save(a, { expectedVersion: 7 })
    expect(E.isLeft(r) && r.left._tag).toBe('WrongExpectedVersion')
    await expect(repository.save(a, { expectedVersion: 7 })).rejects.toBeInstanceOf(DomainFailure)
    const failed = t.named('save Account').slice(1)
    expect(failed.map((s) => [s.status.code, s.attributes['error.type']])).toEqual([
      [SpanStatusCode.ERROR, 'WrongExpectedVersion'],
      [SpanStatusCode.ERROR, 'WrongExpectedVersion'],
    ])
    await repository.snapshot(Account, 'acc-1')
    expect(t.span('snapshot Account').attributes).toMatchObject({ 'aett.stream.revision': 1 })
    await repository.getTo(Account, 'acc-1', new Date(Date.now() + 60_000))
    expect(t.span('getTo Account').attributes).toMatchObject({ 'aett.stream.revision': 1 })
  })

  it('SagaRepository: get and save spans', async () => {
    const store = tracedStore(memoryStore(), t.options)
    const repository = tracedRepository(new SagaRepository<AccountEvent>(store, topics), { ...t.options, name: 'big-deposits' })
    expect(repository).toBeInstanceOf(SagaRepository)
    const saga = await repository.get(BigDepositSaga, 'saga-1')
    const at = new Date('2026-03-01T12:00:00.000Z')
    saga.transition(Deposited.create({ id: 'acc-1', version: 1, timestamp: at, amount: 100 }))
    await repository.save(saga)
    expect(t.span('get big-deposits').attributes['aett.outcome']).toBe('ok')
    expect(t.span('save big-deposits').attributes).toMatchObject({ 'aett.outcome': 'Appended', 'aett.stream.revision': 1 })
  })

  it('refuses what is not a repository face', () => {
    expect(() => tracedRepository({} as never)).toThrow(TypeError)
  })
})
