import { context, type Attributes } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { AggregationTemporality, DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import type { EventStore } from 'aett'

/** A metric reader collected by hand. */
class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/**
 * An SDK of its own for a test: spans to an in-memory exporter, metrics to a reader collected on demand. The
 * providers are passed to the decorators (no global provider); the context manager is global (the API has only
 * that one) and is registered once per test file by `useContextManager`. With `delta`, each collection reports
 * only what was measured (or observed) since the previous one.
 */
export const telemetry = (temporality: 'cumulative' | 'delta' = 'cumulative') => {
  const exporter = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const reader = new CollectingReader(
    temporality === 'delta' ? { aggregationTemporalitySelector: () => AggregationTemporality.DELTA } : {},
  )
  const meterProvider = new MeterProvider({ readers: [reader] })
  const metrics = async (): Promise<MetricData[]> => {
    const { resourceMetrics } = await reader.collect()
    return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)
  }
  return {
    tracerProvider,
    meterProvider,
    options: { tracerProvider, meterProvider },
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
    span: (name: string): ReadableSpan => {
      const found = exporter.getFinishedSpans().filter((s) => s.name === name)
      if (found.length !== 1) throw new Error(`expected one span ${name}, found ${found.length}: ${exporter.getFinishedSpans().map((s) => s.name).join(', ')}`)
      return found[0] as ReadableSpan
    },
    named: (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.name === name),
    reset: () => exporter.reset(),
    metrics,
    /** The data points of one metric: value (sum, last value, or histogram count and sum) with attributes. */
    points: async (name: string): Promise<{ attributes: Attributes; value: number; sum?: number | undefined }[]> => {
      const metric = (await metrics()).find((m) => m.descriptor.name === name)
      if (metric === undefined) return []
      if (metric.dataPointType === DataPointType.HISTOGRAM) {
        return metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value.count, sum: p.value.sum }))
      }
      if (metric.dataPointType === DataPointType.SUM || metric.dataPointType === DataPointType.GAUGE) {
        return metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value as number }))
      }
      return []
    },
  }
}

export type Telemetry = ReturnType<typeof telemetry>

/** Registers an AsyncLocalStorage context manager for the file's tests; returns the call that removes it. */
export const useContextManager = (): (() => void) => {
  const manager = new AsyncLocalStorageContextManager().enable()
  context.setGlobalContextManager(manager)
  return () => {
    manager.disable()
    context.disable()
  }
}

/** The sum of a counter's points whose attributes include `where`. */
export const total = (points: readonly { attributes: Attributes; value: number }[], where: Attributes = {}): number =>
  points.filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v)).reduce((n, p) => n + p.value, 0)

/**
 * A store whose first `commit` lets another writer in first: `before` runs (e.g. another repository's command on
 * the inner store), then the attempt goes on and meets that writer's commit.
 */
export const racing = <S extends EventStore>(store: S, before: () => Promise<unknown>, times = 1): S => {
  let left = times
  return {
    ...store,
    commit: async (attempt) => {
      if (left > 0) {
        left -= 1
        await before()
      }
      return store.commit(attempt)
    },
  }
}
