import { context, metrics, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { deciderRepository, defineEvent, topicMap, type Decider, type EventOf } from 'aett'
import { memoryStore } from 'aett/memory'
import { subscriptionLag, tracedHandler, tracedRepository, tracedStore } from 'aett/otel'
import { subscribe } from 'aett/subscriptions'

// ----- a small account, as a decider -----

const Deposited = defineEvent('Deposited', { amount: t.number })
const Withdrawn = defineEvent('Withdrawn', { amount: t.number })
type AccountEvent = EventOf<typeof Deposited> | EventOf<typeof Withdrawn>
const topics = topicMap(Deposited, Withdrawn)

type Command = { readonly type: 'Deposit' | 'Withdraw'; readonly amount: number }
type Refusal = { readonly _tag: 'InsufficientFunds'; readonly balance: number }
const at = new Date('2026-03-01T09:00:00.000Z')

const account: Decider<Command, number, AccountEvent, Refusal> = {
  initialState: 0,
  evolve: (balance, e) => (e.type === 'Deposited' ? balance + e.amount : balance - e.amount),
  decide: (c, balance) => {
    const meta = { id: '', version: 0, timestamp: at, amount: c.amount }
    if (c.type === 'Deposit') return E.right([Deposited.create(meta)])
    return c.amount > balance ? E.left({ _tag: 'InsufficientFunds', balance }) : E.right([Withdrawn.create(meta)])
  },
}

// ----- the SDK, once at start-up: in production an OTLP exporter and a batch processor take these places -----

export const startTelemetry = () => {
  const spans = new InMemorySpanExporter() // or new ConsoleSpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
  const measurements = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE) // or new ConsoleMetricExporter()
  const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: measurements, exportIntervalMillis: 60_000 })] })
  // The context manager carries the active span across `await`: without it spans do not nest.
  const contextManager = new AsyncLocalStorageContextManager().enable()
  context.setGlobalContextManager(contextManager)
  trace.setGlobalTracerProvider(tracerProvider)
  metrics.setGlobalMeterProvider(meterProvider)
  const shutdown = async () => {
    await meterProvider.forceFlush()
    await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()])
    trace.disable()
    metrics.disable()
    context.disable()
  }
  return { spans, measurements, tracerProvider, meterProvider, shutdown }
}

export async function main() {
  const telemetry = startTelemetry()

  // ----- wrap the store, then the repository built on it: both keep their types -----
  const store = tracedStore(memoryStore())
  const accounts = tracedRepository(deciderRepository({ decider: account, topics, store }), { name: 'account' })

  // ----- commands, inside the span of the request that sent them -----
  const tracer = trace.getTracer('bank-api')
  const requestTrace = await tracer.startActiveSpan('POST /accounts/acc-1/operations', async (request) => {
    await accounts.handle('acc-1', { type: 'Deposit', amount: 100 })()
    await accounts.handle('acc-1', { type: 'Withdraw', amount: 500 })() // refused: a span with status ERROR
    request.end()
    return request.spanContext().traceId
  })

  // ----- a subscription: each batch is a span linked to the commands that wrote its commits -----
  const lag = subscriptionLag()
  const balances = new Map<string, number>()
  const subscription = subscribe({
    name: 'balances',
    store,
    handler: tracedHandler(async (commits) => {
      for (const c of commits) balances.set(c.streamId, (balances.get(c.streamId) ?? 0) + c.events.length)
      return E.right(undefined)
    }),
  })
  if (E.isLeft(subscription)) return E.left(subscription.left)
  const stopWatching = lag.watch(subscription.right) // the lag gauge reads status() at each collection
  await subscription.right.caughtUp()
  await telemetry.meterProvider.forceFlush()
  stopWatching()
  await subscription.right.stop()

  // ----- what the exporters received -----
  const finished = telemetry.spans.getFinishedSpans()
  const refused = finished.find((s) => s.name === 'handle account' && s.attributes['aett.command.type'] === 'Withdraw')
  const batch = finished.find((s) => s.name === 'process balances')
  const metricNames = telemetry.measurements
    .getMetrics()
    .flatMap((r) => r.scopeMetrics.filter((s) => s.scope.name === 'aett').flatMap((s) => s.metrics.map((m) => m.descriptor.name)))
  await telemetry.shutdown()

  return E.right({
    spans: [...new Set(finished.map((s) => s.name))].sort(),
    refused: { status: refused?.status, rejection: refused?.attributes['aett.rejection'] },
    linksToRequest: batch?.links.every((l) => l.context.traceId === requestTrace) === true && batch.links.length === 1,
    metrics: [...new Set(metricNames)].sort(),
  })
}
