/**
 * `npm run bench:extras` (in bench/): the subscription and telemetry figures of issues 13 and 22, in the same run
 * as their baselines. Prints Markdown tables and writes them into docs/benchmarks.md between the
 * `extras:start` / `extras:end` markers (adding them, under "## Subscriptions and telemetry", when absent).
 *
 *   --commits N     single-event commits the catch-up reads (default 100000; tiny: 200)
 *   --rounds N      timed catch-up rounds per contender (default 5; tiny: 1); telemetry runs 3 × N paired rounds
 *   --warmup N      untimed rounds first (default 1)
 *   --suites a,b    sqlite,postgres,mysql (default all); telemetry always runs (SQLite :memory:)
 *   --size tiny     the test suite's smoke size
 *   --no-write      print only; leave docs/benchmarks.md alone
 *   --no-emmett     leave Emmett's consumer out (its PostgreSQL pass takes minutes on the full log)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { machine } from '../harness/machine.js'
import { backendIds, extrasMarkdown, extrasSizes, runExtras, type BackendId } from './index.js'

const parse = () =>
  parseArgs({
    options: {
      size: { type: 'string', default: 'full' },
      commits: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string', default: '1' },
      suites: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      'no-emmett': { type: 'boolean', default: false },
    },
  })

let values: ReturnType<typeof parse>['values']
try {
  values = parse().values
} catch (e) {
  process.stderr.write(
    `${e instanceof Error ? e.message : String(e)}\nFlags must reach this script: \`cd bench && npm run bench:extras -- --size tiny --no-write\`.\n`,
  )
  process.exit(2)
}

const fail = (why: string): never => {
  process.stderr.write(`${why}\n`)
  process.exit(2)
}

const size = values.size === 'tiny' || values.size === 'full' ? values.size : fail(`--size must be tiny or full, got ${values.size}`)
const sizes = extrasSizes[size]
const positive = (flag: string, v: string | undefined, fallback: number, min = 1): number => {
  const n = Number(v ?? fallback)
  return Number.isSafeInteger(n) && n >= min ? n : fail(`--${flag} must be a whole number ≥ ${min}, got ${v}`)
}
const commits = positive('commits', values.commits, sizes.commits)
const rounds = positive('rounds', values.rounds, size === 'tiny' ? 1 : 5)
const warmup = positive('warmup', values.warmup, 1, 0)
const suites = (values.suites?.split(',').map((s) => s.trim()) ?? backendIds) as BackendId[]
for (const s of suites) if (!backendIds.includes(s)) fail(`unknown suite ${s}; choose from ${backendIds.join(', ')}`)
const telemetryRounds = rounds * 3

const started = Date.now()
const results = await runExtras({
  sizes,
  commits,
  rounds,
  warmup,
  telemetryRounds,
  suites,
  emmett: !values['no-emmett'],
  log: (line) => process.stderr.write(`${line}\n`),
})

const args = process.argv.slice(2).join(' ')
const report = extrasMarkdown(
  {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    machine: machine(),
    command: `npm run bench:extras${args === '' ? '' : ` -- ${args}`}`,
    size,
    rounds,
    warmup,
    telemetryRounds,
  },
  results,
)
process.stdout.write(`${report}\n`)
process.stderr.write(`extras ran in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)

if (!values['no-write']) {
  const target = fileURLToPath(new URL('../../../docs/benchmarks.md', import.meta.url))
  const start = '<!-- extras:start -->'
  const end = '<!-- extras:end -->'
  const current = existsSync(target) ? readFileSync(target, 'utf8') : '# Benchmarks\n'
  const from = current.indexOf(start)
  const to = current.indexOf(end)
  const next =
    from >= 0 && to > from
      ? `${current.slice(0, from + start.length)}\n${report}\n${current.slice(to)}`
      : `${current.trimEnd()}\n\n## Subscriptions and telemetry\n\n` +
        'Written by `cd bench && npm run bench:extras` (`bench/src/extras/`): subscription catch-up and live latency (issue 13) ' +
        'and the cost of the OpenTelemetry decorators (issue 22), each against its baseline in the same run.\n\n' +
        `${start}\n${report}\n${end}\n`
  writeFileSync(target, next)
  process.stderr.write(`wrote ${target}\n`)
}
