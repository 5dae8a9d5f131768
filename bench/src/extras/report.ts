import type { ReportHeader } from '../harness/report.js'
import { summarize } from '../harness/stats.js'
import { count } from '../sizes.js'
import { quantile } from './common.js'
import type { CatchupResult, ExtrasResult, LatencyResult, TelemetryResult, TelemetryVariant, Timed } from './types.js'

const fmt = (n: number): string =>
  !Number.isFinite(n) ? '–' : Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2)

const escape = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ')

const spread = (values: readonly number[], unit: string): string => {
  const s = summarize(values)
  return `**${fmt(s.median)}**${unit} (${fmt(s.min)}–${fmt(s.max)})`
}

const timedCell = (t: Timed | { readonly missing: string }): string => {
  if ('missing' in t) return `– (${t.missing})`
  if (t.failed !== undefined) return `**failed** (${t.failed})`
  return t.millis.length === 0 ? '–' : spread(t.millis, ' ms')
}

/** The other's median time over aett's: aett's speed ÷ the other's, above 1× aett is faster. */
export const speedRatio = (aett: Timed, other: Timed): number | undefined =>
  aett.failed !== undefined || other.failed !== undefined || aett.millis.length === 0 || other.millis.length === 0
    ? undefined
    : summarize(other.millis).median / summarize(aett.millis).median

const ratioCell = (x: number | undefined): string => (x === undefined ? '–' : `${x.toFixed(2)}×`)

const skippedRow = (title: string, why: string, columns: number): string =>
  `| **${escape(title)}: skipped: ${escape(why)}** |${' |'.repeat(columns - 1)}`

const failedRow = (title: string, why: string, columns: number): string => `| ${escape(title)}: **failed** (${escape(why)}) |${' |'.repeat(columns - 1)}`

export const catchupTable = (rows: readonly CatchupResult[]): string => {
  const cols = 9
  const lines = [
    '| store | aett `subscribe` until `caughtUp()` | `getFrom` loop, no checkpoint | loop + checkpoint per batch | Emmett 0.42 consumer | aett/loop | aett/(loop + checkpoint) | aett/Emmett | commits, batch |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const r of rows) {
    if (r.skipped !== undefined) lines.push(skippedRow(r.title, r.skipped, cols))
    else if (r.error !== undefined) lines.push(failedRow(r.title, r.error, cols))
    else
      lines.push(
        `| ${escape(r.title)} | ${escape(timedCell(r.aett))} | ${escape(timedCell(r.loop))} | ${escape(timedCell(r.loopCheckpoint))} | ${escape(timedCell(r.emmett))} | ` +
          `${ratioCell(speedRatio(r.aett, r.loop))} | ${ratioCell(speedRatio(r.aett, r.loopCheckpoint))} | ` +
          `${'missing' in r.emmett ? '–' : ratioCell(speedRatio(r.aett, r.emmett))} | ${count(r.commits)}, ${r.batchSize} |`,
      )
  }
  return lines.join('\n')
}

export const latencyTable = (rows: readonly LatencyResult[]): string => {
  const cols = 7
  const lines = ['| store | wake-up | p50 | p99 | max | append call (median) | commits |', '| --- | --- | --- | --- | --- | --- | --- |']
  for (const r of rows) {
    if (r.skipped !== undefined) lines.push(skippedRow(r.title, r.skipped, cols))
    else if (r.error !== undefined) lines.push(failedRow(r.title, r.error, cols))
    else {
      const l = r.latencies
      lines.push(
        `| ${escape(r.title)} | ${escape(r.wake)} | **${fmt(quantile(l, 0.5))}** ms | ${fmt(quantile(l, 0.99))} ms | ${fmt(Math.max(...l))} ms | ` +
          `${fmt(quantile(r.appends, 0.5))} ms | ${count(l.length)} |`,
      )
    }
  }
  return lines.join('\n')
}

const variantTitles: Readonly<Record<TelemetryVariant, string>> = {
  plain: 'no decorators',
  'decorated-no-sdk': '`tracedStore` + `tracedRepository`, no SDK',
  'decorated-sdk': '`tracedStore` + `tracedRepository`, SDK with no-op exporters',
}

/** Per paired round, the variant's time over the plain variant's, minus one, in percent. */
export const pairedOverheads = (t: TelemetryResult, variant: TelemetryVariant): number[] =>
  t.micros[variant].map((v, i) => (v / (t.micros.plain[i] as number) - 1) * 100).filter(Number.isFinite)

export const telemetryTable = (t: TelemetryResult): string => {
  const lines = [
    '| commands (`deciderRepository.handle`, SQLite `:memory:`) | µs per command | overhead (paired rounds): median (min–max; IQR) |',
    '| --- | --- | --- |',
  ]
  if (t.error !== undefined) {
    lines.push(failedRow('telemetry', t.error, 3))
    return lines.join('\n')
  }
  for (const v of ['plain', 'decorated-no-sdk', 'decorated-sdk'] as const) {
    const o = pairedOverheads(t, v)
    const s = summarize(o)
    const sign = (n: number): string => `${n >= 0 ? '+' : ''}${n.toFixed(1)}%`
    const overhead = v === 'plain' ? 'baseline' : o.length === 0 ? '–' : `**${sign(s.median)}** (${sign(s.min)} to ${sign(s.max)}; ${sign(s.q1)} to ${sign(s.q3)})`
    lines.push(`| ${variantTitles[v]} | ${t.micros[v].length === 0 ? '–' : spread(t.micros[v], ' µs')} | ${overhead} |`)
  }
  return lines.join('\n')
}

export interface ExtrasHeader extends ReportHeader {
  readonly telemetryRounds: number
}

export const extrasMarkdown = (h: ExtrasHeader, r: ExtrasResult): string => {
  const notes = (rows: readonly { readonly title: string; readonly notes: readonly string[] }[]) =>
    [...new Set(rows.flatMap((x) => x.notes.map((n) => `- ${x.title}: ${n}`)))]
  return [
    `Measured ${h.date} on ${h.machine}.`,
    `Command: \`${h.command}\` (size \`${h.size}\`; catch-up ${h.warmup} warm-up + ${h.rounds} timed rounds per contender, ` +
      `telemetry ${h.warmup} + ${h.telemetryRounds} paired rounds; rounds interleaved and rotated).`,
    '',
    '**Subscription catch-up** from the beginning over single-event commits with a no-op handler (issue 13; target aett/loop ≥ 0.9×). ' +
      'Cells: **median** ms (min–max); ratios are medians as "aett\'s speed ÷ the other\'s".',
    '',
    catchupTable(r.catchup),
    '',
    '- aett: `subscribe` (`start: \'beginning\'`, default batch size, fresh name per round), timed from the call until `caughtUp()` resolves: ' +
      'it takes a lease, stores its start checkpoint, reads each batch (`getFromTo` window, then `getFrom`), calls the handler and stores a fenced checkpoint per batch.',
    '- loop: `for await (const r of store.getFrom(0))` handing batches of the same size to the same handler, keeping the last token; ' +
      '**it writes no checkpoint**, so it is the read-only limit, not an equivalent.',
    '- loop + checkpoint: the same loop plus one `saveCheckpoint` per batch through the store\'s own `store.subscriptions` under a lease ' +
      'taken once (`acquire`): the fair baseline.',
    '- Emmett 0.42 consumer (issue 13\'s target: aett ≥ 2×): a fresh processor from the beginning, on an Emmett store seeded with the same events; ' +
      'it stores its own checkpoint as it goes (see the notes). Not measured where the column says why.',
    ...notes(r.catchup),
    '',
    '**Commit-to-handler latency** of a live subscription (issue 13; target p50 < 20 ms on PostgreSQL and SQLite): a writer in the same ' +
      'process appends single-event commits one at a time after a random pause, so the subscription is idle when each lands; ' +
      'latency runs from the append call to the handler\'s call.',
    '',
    latencyTable(r.latency),
    '',
    ...notes(r.latency),
    '',
    '**Telemetry overhead** (issue 22; target: indistinguishable from none without an SDK). Cells: **median** µs per command (min–max over rounds); ' +
      'overhead per round against the undecorated commands of the same round.',
    '',
    telemetryTable(r.telemetry),
    '',
    ...r.telemetry.notes.map((n) => `- ${n}`),
  ].join('\n')
}
