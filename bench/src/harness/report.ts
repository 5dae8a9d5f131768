import { summarize } from './stats.js'
import type { Library, Sample, ScenarioResult, SuiteResult } from './types.js'

const fmt = (n: number): string =>
  !Number.isFinite(n) ? '–' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 10 ? n.toFixed(1) : n.toFixed(2)

/** A contender's speed per round: operations per second, or milliseconds per run. */
const values = (r: ScenarioResult, s: Sample): number[] =>
  r.unit === 'ops' ? s.millis.map((ms) => (r.operations * 1000) / ms) : [...s.millis]

/** Median and spread (min–max over the timed rounds) in the scenario's unit. */
export const cell = (r: ScenarioResult, lib: Library): string => {
  const s = r.samples.find((x) => x.library === lib)
  if (r.failed[lib] !== undefined) return `**failed** (${r.failed[lib]})`
  if (s === undefined || s.millis.length === 0) return r.missing[lib] === undefined ? '–' : `– (${r.missing[lib]})`
  const v = summarize(values(r, s))
  const unit = r.unit === 'ops' ? '/s' : ' ms'
  return `**${fmt(v.median)}**${unit} (${fmt(v.min)}–${fmt(v.max)})`
}

/** aett's speed divided by the other's, on medians: above 1 means aett is faster. */
export const ratio = (r: ScenarioResult, other: Library): number | undefined => {
  const a = r.samples.find((x) => x.library === 'aett')
  const o = r.samples.find((x) => x.library === other)
  if (a === undefined || o === undefined || a.millis.length === 0 || o.millis.length === 0) return undefined
  if (r.failed.aett !== undefined || r.failed[other] !== undefined) return undefined
  return summarize(o.millis).median / summarize(a.millis).median
}

const ratioCell = (r: ScenarioResult, other: Library): string => {
  const x = ratio(r, other)
  return x === undefined ? '–' : `${x.toFixed(2)}×`
}

const escape = (s: string): string => s.replaceAll('|', '\\|')

export interface ReportHeader {
  readonly date: string
  readonly machine: string
  readonly command: string
  readonly size: string
  readonly rounds: number
  readonly warmup: number
}

export const table = (suites: readonly SuiteResult[]): string => {
  const lines = [
    '| scenario | aett | Emmett | raw driver | aett/Emmett | aett/raw |',
    '| --- | --- | --- | --- | --- | --- |',
  ]
  for (const suite of suites) {
    if (suite.skipped !== undefined) {
      lines.push(`| **${escape(suite.title)}: skipped** (${escape(suite.skipped)}) | | | | | |`)
      continue
    }
    for (const r of suite.scenarios) {
      if (r.error !== undefined) {
        lines.push(`| ${escape(r.title)}: **failed** (${escape(r.error)}) | | | | | |`)
        continue
      }
      lines.push(
        `| ${escape(r.title)} | ${escape(cell(r, 'aett'))} | ${escape(cell(r, 'emmett'))} | ${escape(cell(r, 'raw'))} | ${ratioCell(r, 'emmett')} | ${ratioCell(r, 'raw')} |`,
      )
    }
  }
  return lines.join('\n')
}

export const markdown = (header: ReportHeader, suites: readonly SuiteResult[]): string => {
  const notes = suites.flatMap((s) => (s.skipped === undefined ? s.notes.map((n) => `- ${s.title}: ${n}`) : []))
  return [
    `Measured ${header.date} on ${header.machine}.`,
    `Command: \`${header.command}\` (size \`${header.size}\`, ${header.warmup} warm-up + ${header.rounds} timed rounds per contender, interleaved).`,
    '',
    'Each cell: **median** (min–max over the timed rounds). Appends and commands in operations per second (higher is better); ' +
      'reads in milliseconds per run (lower is better). Ratios compare medians as "aett\'s speed ÷ the other\'s": above 1× aett is faster.',
    '',
    table(suites),
    '',
    ...notes,
  ].join('\n')
}
