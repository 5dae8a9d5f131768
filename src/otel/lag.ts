import { metrics, ValueType, type BatchObservableResult, type Meter, type MeterProvider, type ObservableGauge } from '@opentelemetry/api'
import { ATTR, INSTRUMENTATION_SCOPE, METRIC, type TelemetryOptions } from './telemetry.js'

/** How far a subscription is behind the head of its feed. */
export interface LagReading {
  readonly subscription: string
  /** Commits between the subscription's checkpoint and the head. */
  readonly commits: number
  /** How long ago the oldest commit not handled yet was stamped, in milliseconds, when known. */
  readonly ms?: number
}

/**
 * What the gauge needs of a running subscription (`subscribe(...)` of `aett/subscriptions` returns one): a
 * `status()` answering an `Either` whose `Right` has the name and the lag.
 */
export interface StatusSource {
  readonly status: () => Promise<
    | { readonly _tag: 'Left' }
    | { readonly _tag: 'Right'; readonly right: { readonly name: string; readonly lag: { readonly commits: number; readonly ms: number } } }
  >
}

export type SubscriptionLagOptions = TelemetryOptions

/** The lag gauges: fed by `record` (a hook a runtime calls), or by the `status()` of watched subscriptions. */
export interface SubscriptionLag {
  /** Keeps the latest lag of a subscription; the gauges report it at each collection until `forget`. */
  readonly record: (reading: LagReading) => void
  /** Asks `subscription.status()` at each collection; returns the call that stops it. */
  readonly watch: (subscription: StatusSource) => () => void
  /** Stops reporting a recorded subscription. */
  readonly forget: (subscription: string) => void
  /** Unregisters the gauges' callback. */
  readonly close: () => void
}

/**
 * Observable gauges `aett.subscription.lag` ({commit}) and `aett.subscription.lag.time` (s), one series per
 * subscription (attribute `aett.subscription`).
 *
 * @example
 * const lag = subscriptionLag()
 * const stopWatching = lag.watch(subscription) // reads subscription.status() when metrics are collected
 */
export const subscriptionLag = (options: SubscriptionLagOptions = {}): SubscriptionLag => {
  const recorded = new Map<string, LagReading>()
  const watched = new Set<StatusSource>()
  let gauges: { readonly meter: Meter; readonly commits: ObservableGauge; readonly time: ObservableGauge } | undefined
  let provider: MeterProvider | undefined

  const observe = async (result: BatchObservableResult): Promise<void> => {
    if (gauges === undefined) return
    const readings = new Map(recorded)
    const statuses = await Promise.all([...watched].map((s) => s.status().catch(() => ({ _tag: 'Left' as const }))))
    for (const s of statuses) {
      if (s._tag === 'Right') readings.set(s.right.name, { subscription: s.right.name, commits: s.right.lag.commits, ms: s.right.lag.ms })
    }
    for (const r of readings.values()) {
      const attributes = { [ATTR.subscription]: r.subscription }
      result.observe(gauges.commits, r.commits, attributes)
      if (r.ms !== undefined) result.observe(gauges.time, r.ms / 1000, attributes)
    }
  }

  const detach = (): void => {
    if (gauges === undefined) return
    gauges.meter.removeBatchObservableCallback(observe, [gauges.commits, gauges.time])
    gauges = undefined
  }
  /** Registers on the current provider, and again when another one was registered since (there is no proxy meter). */
  const attach = (): void => {
    const current = options.meterProvider ?? metrics.getMeterProvider()
    if (current === provider && gauges !== undefined) return
    detach()
    provider = current
    const meter = current.getMeter(INSTRUMENTATION_SCOPE)
    const commits = meter.createObservableGauge(METRIC.subscriptionLag, {
      unit: '{commit}',
      valueType: ValueType.INT,
      description: 'Commits between a subscription checkpoint and the head of its feed',
    })
    const time = meter.createObservableGauge(`${METRIC.subscriptionLag}.time`, {
      unit: 's',
      valueType: ValueType.DOUBLE,
      description: 'How long ago the oldest commit a subscription has not handled yet was stamped',
    })
    gauges = { meter, commits, time }
    meter.addBatchObservableCallback(observe, [commits, time])
  }
  attach()

  return {
    record: (reading) => {
      attach()
      recorded.set(reading.subscription, reading)
    },
    watch: (subscription) => {
      attach()
      watched.add(subscription)
      return () => void watched.delete(subscription)
    },
    forget: (subscription) => void recorded.delete(subscription),
    close: () => {
      detach()
      recorded.clear()
      watched.clear()
    },
  }
}
