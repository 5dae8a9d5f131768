import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import * as E from 'fp-ts/lib/Either.js'
import { deciderRepository, type Commit } from 'aett'
import { memoryStore } from 'aett/memory'
import {
  commitContext,
  contextFromCommit,
  formatTraceparent,
  linkToCommit,
  parseTraceparent,
  subscriptionLag,
  traceHeaders,
  tracedHandler,
  tracedRepository,
  tracedStore,
} from 'aett/otel'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { account, topics } from './fixtures.js'
import { telemetry, useContextManager, type Telemetry } from './support.js'

const stopContext = useContextManager()
afterAll(stopContext)

let t: Telemetry
beforeEach(() => {
  t = telemetry()
})

const traceId = '0af7651916cd43dd8448eb211c80319c'
const spanId = 'b7ad6b7169203331'

describe('traceparent', () => {
  it('formats and parses W3C trace context, refusing what is not valid', () => {
    const sc = parseTraceparent(`00-${traceId}-${spanId}-01`, 'a=1,b=2')
    expect(sc).toMatchObject({ traceId, spanId, traceFlags: 1, isRemote: true })
    expect(sc?.traceState?.get('b')).toBe('2')
    expect(formatTraceparent({ traceId, spanId, traceFlags: 0 })).toBe(`00-${traceId}-${spanId}-00`)
    for (const bad of [
      undefined,
      42,
      '',
      `00-${traceId}-${spanId}`,
      `00-${traceId}-${spanId}-01-extra`,
      `ff-${traceId}-${spanId}-01`,
      `00-${'0'.repeat(32)}-${spanId}-01`,
      `00-${traceId}-${'0'.repeat(16)}-01`,
      `00-${traceId.toUpperCase()}-${spanId}-01`,
    ]) {
      expect(parseTraceparent(bad), String(bad)).toBeUndefined()
    }
    // A later version may carry more fields after the four it shares with 00.
    expect(parseTraceparent(`01-${traceId}-${spanId}-01-more`)?.traceId).toBe(traceId)
  })

  it('commitContext, linkToCommit and contextFromCommit read a commit’s headers', () => {
    const commit = { headers: { traceparent: `00-${traceId}-${spanId}-01` }, streamId: 's1', checkpointToken: 7 }
    expect(commitContext(commit)?.spanId).toBe(spanId)
    expect(linkToCommit(commit)).toEqual({
      context: { traceId, spanId, traceFlags: 1, isRemote: true },
      attributes: { 'aett.stream.id': 's1', 'aett.checkpoint': 7 },
    })
    expect(linkToCommit({ headers: {} })).toBeUndefined()
    expect(trace.getSpanContext(contextFromCommit(commit, ROOT_CONTEXT))?.traceId).toBe(traceId)
    expect(contextFromCommit({ headers: { traceparent: 'nonsense' } }, ROOT_CONTEXT)).toBe(ROOT_CONTEXT)
  })

  it('traceHeaders gives the active span’s headers, and none outside a span', () => {
    expect(traceHeaders()).toEqual({})
    const tracer = t.tracerProvider.getTracer('test')
    tracer.startActiveSpan('outer', (span) => {
      expect(traceHeaders()).toEqual({ traceparent: `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01` })
      span.end()
    })
  })
})

/** A command through a traced repository and store, inside a request span; what it stored, and its trace id. */
const commandTrace = async () => {
  const store = tracedStore(memoryStore(), t.options)
  const accounts = tracedRepository(deciderRepository({ decider: account, topics, store }), { ...t.options, name: 'account' })
  const tracer = t.tracerProvider.getTracer('test')
  const traceIds = await tracer.startActiveSpan('POST /accounts', async (request) => {
    await accounts.handle('acc-1', { type: 'Open', owner: 'Ada' })()
    await accounts.handle('acc-1', { type: 'Deposit', amount: 5 })()
    request.end()
    return request.spanContext().traceId
  })
  return { store, accounts, traceId: traceIds }
}

describe('trace context across a commit and a subscription hop', () => {
  it('a hand-written getFrom loop as the hop: the batch span links to the spans that wrote each commit', async () => {
    const { store, traceId: commandTraceId } = await commandTrace()
    const appends = t.named('commit memory')
    expect(appends).toHaveLength(2)

    const seen: Commit[][] = []
    const handler = tracedHandler(async (commits: readonly Commit[]) => {
      seen.push([...commits])
      // Work done by the handler is a child of the batch span.
      t.tracerProvider.getTracer('test').startSpan('projection write').end()
      return E.right(undefined)
    }, { ...t.options, name: 'balances' })

    // Outside the request's context, as a subscription runs.
    await context.with(ROOT_CONTEXT, async () => {
      const batch: Commit[] = []
      for await (const c of store.getFrom(0)) if (E.isRight(c)) batch.push(c.right)
      expect(E.isRight(await handler(batch))).toBe(true)
    })
    expect(seen[0]).toHaveLength(2)
    const span = t.span('process balances')
    expect(span.kind).toBe(SpanKind.CONSUMER)
    expect(span.spanContext().traceId).not.toBe(commandTraceId)
    expect(span.links.map((l) => l.context.traceId)).toEqual([commandTraceId, commandTraceId])
    expect(span.links.map((l) => l.context.spanId)).toEqual(appends.map((s) => s.spanContext().spanId))
    expect(span.links.map((l) => l.attributes?.['aett.checkpoint'])).toEqual(seen[0]?.map((c) => c.checkpointToken))
    expect(span.attributes).toMatchObject({
      'aett.subscription': 'balances',
      'messaging.operation.type': 'process',
      'messaging.batch.message_count': 2,
      'aett.events.read': 2,
      'aett.batch.first_checkpoint': seen[0]?.[0]?.checkpointToken,
      'aett.batch.last_checkpoint': seen[0]?.[1]?.checkpointToken,
    })
    expect(t.span('projection write').parentSpanContext?.spanId).toBe(span.spanContext().spanId)
  })

  it('a command sent by the handler is a child of the batch, its commit linking the chain on', async () => {
    const { store, accounts, traceId: first } = await commandTrace()
    const handler = tracedHandler(async (commits: readonly Commit[]) => {
      for (const c of commits) if (c.streamId === 'acc-1' && c.commitSequence === 2) await accounts.handle('acc-2', { type: 'Open', owner: 'Bo' })()
      return E.right(undefined)
    }, t.options)
    const batch: Commit[] = []
    for await (const c of store.getFrom(0)) if (E.isRight(c)) batch.push(c.right)
    await context.with(ROOT_CONTEXT, () => handler(batch))
    const processSpan = t.span('process')
    const reaction = t.named('handle account').find((s) => s.attributes['aett.stream.id'] === 'acc-2')
    expect(reaction?.parentSpanContext?.spanId).toBe(processSpan.spanContext().spanId)
    const [written] = E.getOrElse((): Commit[] => [])(await (await import('aett')).toArray(store.get('default', 'acc-2')))
    expect(commitContext(written as Commit)?.traceId).toBe(processSpan.spanContext().traceId)
    expect(processSpan.links.every((l) => l.context.traceId === first)).toBe(true)
  })

  it('a failing batch: Left is ERROR with its tag; a throw is recorded and thrown again', async () => {
    const failing = tracedHandler(async () => E.left({ _tag: 'ProjectionDown' }), { ...t.options, name: 'p' })
    expect(E.isLeft(await failing([]))).toBe(true)
    expect(t.span('process p').status).toEqual({ code: SpanStatusCode.ERROR, message: 'ProjectionDown' })
    t.reset()
    const throwing = tracedHandler(async (): Promise<E.Either<never, void>> => {
      throw new Error('boom')
    }, { ...t.options, name: 'p' })
    await expect(throwing([])).rejects.toThrow('boom')
    const span = t.span('process p')
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' })
    expect(span.events.map((e) => e.name)).toEqual(['exception'])
  })

  it('through aett/subscriptions: subscribe with a traced handler links each batch to the commands', async () => {
    const subscriptions = await import('aett/subscriptions')
    const { store, traceId: commandTraceId } = await commandTrace()
    const handled: number[] = []
    const lag = subscriptionLag({ meterProvider: t.meterProvider })
    const started = subscriptions.subscribe({
      name: 'balances',
      store,
      handler: tracedHandler(async (commits) => {
        handled.push(...commits.map((c) => c.checkpointToken))
        return E.right(undefined)
      }, t.options),
    })
    if (E.isLeft(started)) throw new Error(started.left.message)
    const subscription = started.right
    lag.watch(subscription)
    try {
      expect(E.isRight(await subscription.caughtUp())).toBe(true)
      expect(handled).toHaveLength(2)
      const batches = t.named('process balances')
      expect(batches.length).toBeGreaterThanOrEqual(1)
      expect(batches.flatMap((s) => s.links.map((l) => l.context.traceId))).toEqual([commandTraceId, commandTraceId])
      expect(batches.every((s) => s.attributes['aett.subscription'] === 'balances')).toBe(true)
      const points = await t.points('aett.subscription.lag')
      expect(points).toEqual([{ attributes: { 'aett.subscription': 'balances' }, value: 0 }])
    } finally {
      await subscription.stop()
      lag.close()
    }
  })
})

describe('subscriptionLag', () => {
  it('reports recorded lags per subscription, in commits and seconds, until forgotten', async () => {
    t = telemetry('delta')
    const lag = subscriptionLag({ meterProvider: t.meterProvider })
    lag.record({ subscription: 'a', commits: 12, ms: 1500 })
    lag.record({ subscription: 'b', commits: 3 })
    lag.record({ subscription: 'a', commits: 10, ms: 1000 })
    expect(await t.points('aett.subscription.lag')).toEqual([
      { attributes: { 'aett.subscription': 'a' }, value: 10 },
      { attributes: { 'aett.subscription': 'b' }, value: 3 },
    ])
    expect(await t.points('aett.subscription.lag.time')).toEqual([{ attributes: { 'aett.subscription': 'a' }, value: 1 }])
    lag.forget('b')
    const stop = lag.watch({ status: async () => ({ _tag: 'Right', right: { name: 'c', lag: { commits: 4, ms: 0 } } }) })
    expect((await t.points('aett.subscription.lag')).map((p) => [p.attributes['aett.subscription'], p.value])).toEqual([
      ['a', 10],
      ['c', 4],
    ])
    stop()
    lag.close()
    expect(await t.points('aett.subscription.lag')).toEqual([])
  })
})
