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
import { machine } from '../harness/machine.js'
import { parseFlags, positive, sizeFlag, suitesFlag, writeBetweenMarkers } from './cli.js'
import { extrasMarkdown, extrasSizes, runExtras } from './index.js'

const values = parseFlags('bench:extras', {
  size: { type: 'string', default: 'full' },
  commits: { type: 'string' },
  rounds: { type: 'string' },
  warmup: { type: 'string', default: '1' },
  suites: { type: 'string' },
  'no-write': { type: 'boolean', default: false },
  'no-emmett': { type: 'boolean', default: false },
})

const size = sizeFlag(values.size)
const sizes = extrasSizes[size]
const commits = positive('commits', values.commits, sizes.commits)
const rounds = positive('rounds', values.rounds, size === 'tiny' ? 1 : 5)
const warmup = positive('warmup', values.warmup, 1, 0)
const suites = suitesFlag(values.suites)
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

if (!values['no-write'])
  writeBetweenMarkers(
    'extras',
    report,
    (current, block) =>
      `${current.trimEnd()}\n\n## Subscriptions and telemetry\n\n` +
      'Written by `cd bench && npm run bench:extras` (`bench/src/extras/`): subscription catch-up and live latency (issue 13) ' +
      'and the cost of the OpenTelemetry decorators (issue 22), each against its baseline in the same run.\n\n' +
      block,
  )
