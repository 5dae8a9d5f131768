import { context, metrics, trace } from '@opentelemetry/api'
import { BasicTracerProvider, AlwaysOffSampler, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import * as E from 'fp-ts/lib/Either.js'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AggregateRepository, deciderRepository, toArray, type Commit } from 'aett'
import { memoryStore } from 'aett/memory'
import { tracedRepository, tracedStore, TRACEPARENT } from 'aett/otel'
import { afterEach, describe, expect, it } from 'vitest'
import { Account, account, topics } from './fixtures.js'
import { telemetry, total, useContextManager } from './support.js'

const commitsOf = async (store: ReturnType<typeof memoryStore>, streamId: string): Promise<Commit[]> =>
  E.getOrElse((): Commit[] => [])(await toArray(store.get('default', streamId)))

afterEach(() => {
  trace.disable()
  metrics.disable()
  context.disable()
})

describe('with no SDK registered', () => {
  it('the decorators answer exactly what the undecorated store and repository answer, and store no trace context', async () => {
    const plainStore = memoryStore()
    const plain = deciderRepository({ decider: account, topics, store: plainStore, clock: () => new Date(0), newCommitId: () => 'c' })
    const store = tracedStore(memoryStore())
    const traced = tracedRepository(deciderRepository({ decider: account, topics, store, clock: () => new Date(0), newCommitId: () => 'c' }))
    for (const [i, command] of [{ type: 'Open', owner: 'Ada' }, { type: 'Withdraw', amount: 5 }, { type: 'Deposit', amount: 0 }].entries()) {
      const c = command as Parameters<typeof plain.handle>[1]
      expect(await traced.handle('acc-1', c, { commitId: `c-${i}` })()).toEqual(await plain.handle('acc-1', c, { commitId: `c-${i}` })())
    }
    expect(await traced.load('acc-1')()).toEqual(await plain.load('acc-1')())
    const [commit] = await commitsOf(store, 'acc-1')
    expect(commit?.headers).toEqual({})
    expect(await commitsOf(store, 'acc-1')).toEqual(await commitsOf(plainStore, 'acc-1'))

    const classes = tracedRepository(new AggregateRepository(tracedStore(memoryStore()), topics))
    const a = await classes.get(Account, 'acc-2')
    a.deposit(3)
    expect((await classes.save(a))._tag).toBe('Appended')
  })

  it('an SDK registered after the decorators were built is still found, for spans and metrics', async () => {
    const store = tracedStore(memoryStore())
    const repository = tracedRepository(deciderRepository({ decider: account, topics, store }), { name: 'account' })
    await repository.handle('acc-1', { type: 'Open', owner: 'Ada' })()
    const t = telemetry()
    trace.setGlobalTracerProvider(t.tracerProvider)
    metrics.setGlobalMeterProvider(t.meterProvider)
    const stopContext = useContextManager()
    try {
      await repository.handle('acc-1', { type: 'Deposit', amount: 5 })()
      expect(t.span('handle account').attributes['aett.outcome']).toBe('Appended')
      expect(t.span('commit memory').parentSpanContext?.spanId).toBe(t.span('handle account').spanContext().spanId)
      expect(total(await t.points('aett.append.duration'))).toBe(1)
      expect(total(await t.points('aett.command.duration'))).toBe(1)
      const [, second] = await commitsOf(store as ReturnType<typeof memoryStore>, 'acc-1')
      expect(second?.headers[TRACEPARENT]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
    } finally {
      stopContext()
    }
  })

  it('an unsampled trace records nothing and still stores its trace context (flags 00), so that it propagates', async () => {
    const exporter = new InMemorySpanExporter()
    const tracerProvider = new BasicTracerProvider({ sampler: new AlwaysOffSampler(), spanProcessors: [new SimpleSpanProcessor(exporter)] })
    const stopContext = useContextManager()
    try {
      const store = tracedStore(memoryStore(), { tracerProvider })
      const repository = tracedRepository(deciderRepository({ decider: account, topics, store }), { tracerProvider })
      await repository.handle('acc-1', { type: 'Open', owner: 'Ada' })()
      expect(exporter.getFinishedSpans()).toEqual([])
      const [commit] = await commitsOf(store, 'acc-1')
      expect(commit?.headers[TRACEPARENT]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/)
    } finally {
      stopContext()
    }
  })
})

describe('the optional peer', () => {
  it('only src/otel imports @opentelemetry/api (the core and the stores never load it)', () => {
    const src = fileURLToPath(new URL('../../src/', import.meta.url))
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name)
        return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : []
      })
    const naming = files(src)
      .filter((f) => /['"]@opentelemetry\//.test(readFileSync(f, 'utf8')))
      .map((f) => relative(src, f))
    expect(naming.length).toBeGreaterThan(0)
    expect(naming.filter((f) => !f.startsWith('otel/'))).toEqual([])
  })
})
