import type { ReportHeader } from '../harness/report.js'
import { summarize } from '../harness/stats.js'
import { count } from '../sizes.js'
import { median } from './common.js'
import type { InlineCostResult, ProjectionCatchupResult, ProjectionsResult } from './projectionTypes.js'
import { speedRatio } from './report.js'
import type { Timed } from './types.js'

const fmt = (n: number): string =>
  !Number.isFinite(n) ? '–' : Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2)

const escape = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ')

const cell = (t: Timed | { readonly missing: string }, unit: string): string => {
  if ('missing' in t) return `– (${t.missing})`
  if (t.failed !== undefined) return `**failed** (${t.failed})`
  if (t.millis.length === 0) return '–'
  const s = summarize(t.millis)
  return `**${fmt(s.median)}**${unit} (${fmt(s.min)}–${fmt(s.max)})`
}

const ratioCell = (x: number | undefined, target: string): string => (x === undefined ? '–' : `${x.toFixed(2)}× (target ${target})`)

const blankRow = (text: string, columns: number): string => `| ${escape(text)} |${' |'.repeat(columns - 1)}`

export const catchupTable = (rows: readonly ProjectionCatchupResult[]): string => {
  const cols = 7
  const lines = [
    '| store | aett `startProjection` until caught up | raw driver loop | Emmett 0.42 projection | aett/raw | aett/Emmett | events, batch |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const r of rows) {
    if (r.skipped !== undefined) lines.push(blankRow(`**${r.title}: skipped: ${r.skipped}**`, cols))
    else if (r.error !== undefined) lines.push(blankRow(`${r.title}: **failed** (${r.error})`, cols))
    else
      lines.push(
        `| ${escape(r.title)} | ${escape(cell(r.aett, ' ms'))} | ${escape(cell(r.raw, ' ms'))} | ${escape(cell(r.emmett, ' ms'))} | ` +
          `${ratioCell(speedRatio(r.aett, r.raw), '≥ 0.8×')} | ${'missing' in r.emmett ? '–' : ratioCell(speedRatio(r.aett, r.emmett), '≥ 2×')} | ` +
          `${count(r.commits)}, ${r.batchSize} |`,
      )
  }
  return lines.join('\n')
}

/** Per round, the inline append's time over the plain one's of the same round. */
export const pairedRatios = (r: InlineCostResult): number[] =>
  r.inline.millis.map((v, i) => v / (r.plain.millis[i] as number)).filter(Number.isFinite)

/** Inline over plain, as medians: above 1× the inline upsert costs. */
export const inlineRatio = (r: InlineCostResult): number | undefined =>
  r.plain.failed !== undefined || r.inline.failed !== undefined || r.plain.millis.length === 0 || r.inline.millis.length === 0
    ? undefined
    : median(r.inline.millis) / median(r.plain.millis)

const inlineTargets: Readonly<Record<InlineCostResult['backend'], string>> = { sqlite: '≤ 1.3×', postgres: '≤ 2×', mysql: '≤ 2×' }

export const inlineTable = (rows: readonly InlineCostResult[]): string => {
  const cols = 6
  const lines = [
    '| store | plain append | append + inline upsert | inline/plain (medians) | paired rounds: median (min–max) | appends per round |',
    '| --- | --- | --- | --- | --- | --- |',
  ]
  for (const r of rows) {
    if (r.skipped !== undefined) lines.push(blankRow(`**${r.title}: skipped: ${r.skipped}**`, cols))
    else if (r.error !== undefined) lines.push(blankRow(`${r.title}: **failed** (${r.error})`, cols))
    else if (r.unavailable !== undefined) lines.push(`| ${escape(r.title)} | – | – (${escape(r.unavailable)}) | – | – | ${count(r.appends)} |`)
    else {
      const paired = pairedRatios(r)
      const s = summarize(paired)
      const x = inlineRatio(r)
      lines.push(
        `| ${escape(r.title)} | ${escape(cell(r.plain, ' µs'))} | ${escape(cell(r.inline, ' µs'))} | ` +
          `${x === undefined ? '–' : `${x.toFixed(2)}× (target ${inlineTargets[r.backend]})`} | ` +
          `${paired.length === 0 ? '–' : `${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})`} | ${count(r.appends)} |`,
      )
    }
  }
  return lines.join('\n')
}

export interface ProjectionsHeader extends ReportHeader {
  readonly inlineRounds: number
  /** Said in the notes: what else ran on the machine meanwhile, if anything. */
  readonly machineNote?: string
}

export const projectionsMarkdown = (h: ProjectionsHeader, r: ProjectionsResult): string => {
  const notes = (rows: readonly { readonly title: string; readonly notes: readonly string[] }[]) =>
    [...new Set(rows.flatMap((x) => x.notes.map((n) => `- ${x.title}: ${n}`)))]
  return [
    `Measured ${h.date} on ${h.machine}.`,
    `Command: \`${h.command}\` (size \`${h.size}\`; catch-up ${h.warmup} warm-up + ${h.rounds} timed rounds per contender, ` +
      `inline cost ${h.warmup} + ${h.inlineRounds} rounds; rounds interleaved and rotated).`,
    ...(h.machineNote === undefined ? [] : ['', h.machineNote]),
    '',
    '**Projection catch-up** (issue 15; targets aett/raw ≥ 0.8×, aett/Emmett ≥ 2×): a projection that upserts one row per event into a ' +
      'balances table of its own (`account` primary key, `total`, `events`), run from the beginning over a log of single-event commits ' +
      '(one `Deposited` event each, on account streams of 100 commits written by 8 concurrent writers: 1,000 streams at 100,000 commits), timed until the read model holds every event. ' +
      'Cells: **median** ms (min–max); ratios are medians as "aett\'s speed ÷ the other\'s".',
    '',
    catchupTable(r.catchup),
    '',
    '- aett: `startProjection(store, sqliteProjection | postgresProjection({ handlers: { Deposited } }))` with default options (so catch-up batches of ' +
      '`catchUpBatchSize`, 1,000 commits), a fresh projection name per round, timed from the call until `caughtUp()` resolves and the read model ' +
      'holds every event (one `sum(events)` query). Each batch is one transaction: the lease row fenced, the handler\'s upsert per event ' +
      '(decoded through the topic map), the checkpoint written. The handler\'s statement is the same parameterized upsert as the others\'.',
    '- raw driver loop: what a hand-written consumer does with the driver alone, reading **the kit\'s own commits table** (not `getFrom`): ' +
      '`SELECT token, events … WHERE token > $last ORDER BY token LIMIT 1000` (on PostgreSQL also `token < pg_snapshot_xmin(pg_current_snapshot())`, ' +
      'the gap-free horizon a correct reader needs, as Emmett\'s reader has), `JSON.parse`, then one transaction per batch (SQLite ' +
      '`BEGIN IMMEDIATE` on a better-sqlite3 connection of its own, PostgreSQL `BEGIN` on a pg client of its own) with the same upsert per ' +
      'event and one checkpoint-row `UPDATE`. No lease, no fence, no decoding or validation of the events: the floor, not an equivalent.',
    '- Emmett 0.42 projection: a fresh processor from the beginning on an Emmett store seeded with the same events (see the notes for the API ' +
      'used); same upsert, same batch size. Not measured where the column says why.',
    '- Each contender has its own table, emptied (untimed) before each pass; after each pass the table\'s `sum(events)` is checked to equal ' +
      'the number of events (untimed).',
    ...notes(r.catchup),
    '',
    '**Inline projection cost** (issue 15; targets inline/plain ≤ 1.3× on SQLite, ≤ 2× on PostgreSQL and MariaDB): single-event appends ' +
      'made one after the other through one store object, with an inline projection (`inlineProjection`) upserting one row per event into ' +
      'a balances table, or with none registered (plain); the same store object and tables for both, registered and unregistered untimed ' +
      'between rounds. Cells: **median** µs per append (min–max over rounds); paired: per round, inline over the plain rounds of the same round.',
    '',
    inlineTable(r.inline),
    '',
    ...notes(r.inline),
    `- Appends go round-robin to streams of their own per contender and round (50 at size \`full\`, so mostly updates of an existing row); the inline table's ` +
      '`sum(events)` is checked to equal the number of appends made with the projection registered.',
  ].join('\n')
}
