import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import * as E from 'fp-ts/lib/Either.js'
import { deciderRepository } from '../../../src/domain/deciderRepository.js'
import { tracedRepository, tracedStore } from '../../../src/otel/index.js'
import { sqliteStore } from '../../../src/sqlite/index.js'
import { orThrow } from '../aett/contenders.js'
import { accountDecider, TENANT, topics } from '../domain.js'
import { message, now, rotate } from './common.js'
import { telemetryVariants, type TelemetryResult, type TelemetryVariant } from './types.js'

export interface TelemetryOptions {
  readonly commands: number
  readonly streams: number
  readonly rounds: number
  readonly warmup: number
  readonly log: (line: string) => void
}

type ExportCallback = Parameters<SpanExporter['export']>[1]
const SUCCESS = { code: 0 } as Parameters<ExportCallback>[0]

/** An exporter that drops everything at once: the SDK does all its work, nothing leaves the process. */
const nullSpans: SpanExporter = {
  export: (_spans, done) => done(SUCCESS),
  shutdown: async () => undefined,
}

const nullMetrics: PushMetricExporter = {
  export: (_metrics, done) => done(SUCCESS),
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
}

/**
 * An SDK as an application would set one up (batched span export, periodic metric export), with exporters that do
 * nothing. Its providers are handed to the decorators, never registered globally, so that the variants can be
 * interleaved; the one global piece, the context manager, is registered only while the SDK variant runs.
 */
const sdk = () => {
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(nullSpans)] })
  const meterProvider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter: nullMetrics, exportIntervalMillis: 1000 })],
  })
  return {
    options: { tracerProvider, meterProvider },
    shutdown: async () => {
      await tracerProvider.shutdown()
      await meterProvider.shutdown()
    },
  }
}

/** Runs `f` with an AsyncLocalStorage context manager registered, as the Node SDK would have it, then removes it. */
const withContextManager = async <A>(f: () => Promise<A>): Promise<A> => {
  const cm = new AsyncLocalStorageContextManager().enable()
  if (!context.setGlobalContextManager(cm)) throw new Error('a global context manager is registered already')
  try {
    return await f()
  } finally {
    context.disable()
  }
}

/**
 * Commands (`deciderRepository.handle`) on one SQLite `:memory:` store, three ways in paired, rotated rounds:
 * without decorators; through `tracedStore` + `tracedRepository` with no SDK (the API's no-op); and the same with
 * an SDK whose exporters do nothing. Each variant's round goes to streams of its own, so every round does the same
 * work; the paired overhead of a round is its variant's time over the plain variant's time in the same round.
 */
export const telemetry = async (options: TelemetryOptions): Promise<TelemetryResult> => {
  const micros: Record<TelemetryVariant, number[]> = { plain: [], 'decorated-no-sdk': [], 'decorated-sdk': [] }
  const base = { commands: options.commands, micros }
  const store = sqliteStore({ filename: ':memory:' })
  const withSdk = sdk()
  try {
    orThrow('initialize sqlite :memory:', await store.initialize())
    const repo = (s: typeof store) => deciderRepository({ decider: accountDecider, topics, store: s, tenantId: TENANT })
    const repos: Record<TelemetryVariant, ReturnType<typeof repo>> = {
      plain: repo(store),
      'decorated-no-sdk': tracedRepository(repo(tracedStore(store)), { name: 'account' }),
      'decorated-sdk': tracedRepository(repo(tracedStore(store, withSdk.options)), { name: 'account', ...withSdk.options }),
    }
    const pass = async (variant: TelemetryVariant, round: number): Promise<number> => {
      const r = repos[variant]
      const t0 = now()
      for (let i = 0; i < options.commands; i++) {
        const out = await r.handle(`${variant}-${round}-${i % options.streams}`, { type: 'Deposit', amount: 1 })()
        if (E.isLeft(out) || out.right._tag !== 'Appended') throw new Error(`${variant} handle: ${JSON.stringify(out)}`)
      }
      return ((now() - t0) * 1000) / options.commands
    }
    for (let round = 0; round < options.warmup + options.rounds; round++) {
      for (const variant of rotate(telemetryVariants, round)) {
        const us = variant === 'decorated-sdk' ? await withContextManager(() => pass(variant, round)) : await pass(variant, round)
        if (round >= options.warmup) micros[variant].push(us)
      }
    }
    return {
      ...base,
      notes: [
        'SQLite `:memory:` store (better-sqlite3), one store under all three variants; ' +
          `${options.commands} commands per variant per round over ${options.streams} streams of its own.`,
        'SDK: `BasicTracerProvider` with a `BatchSpanProcessor` and a `MeterProvider` with a `PeriodicExportingMetricReader` ' +
          '(1 s), both exporting to exporters that drop everything; passed to the decorators as `tracerProvider`/`meterProvider` ' +
          '(nothing registered globally), with an AsyncLocalStorage context manager registered only during the SDK rounds.',
      ],
    }
  } catch (e) {
    options.log(`  telemetry: FAILED ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
    return { ...base, error: message(e), notes: [] }
  } finally {
    await withSdk.shutdown().catch(() => undefined)
    await store.close()
  }
}
