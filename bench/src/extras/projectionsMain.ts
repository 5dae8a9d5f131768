/**
 * `npm run bench:projections` (in bench/): the projection figures of issue 15, each in the same run as its
 * baseline. Prints Markdown tables and writes them into docs/benchmarks.md between the `projections:start` /
 * `projections:end` markers (adding them, under "## Projections", after the extras' section when absent).
 *
 *   --commits N     single-event commits the catch-up projects (default 100000; tiny: 200)
 *   --rounds N      timed catch-up rounds per contender (default 3; tiny: 1); the inline cost runs 3 × N rounds
 *   --warmup N      untimed rounds first (default 1)
 *   --suites a,b    sqlite,postgres,mysql (default all; the catch-up runs on sqlite and postgres only)
 *   --size tiny     the test suite's smoke size
 *   --note TEXT     a line for the report about the machine (say so when other work shared it)
 *   --no-write      print only; leave docs/benchmarks.md alone
 */
import { machine } from '../harness/machine.js'
import { parseFlags, positive, sizeFlag, suitesFlag, writeBetweenMarkers } from './cli.js'
import { projectionSizes, runProjections } from './projections.js'
import { projectionsMarkdown } from './projectionsReport.js'

const values = parseFlags('bench:projections', {
  size: { type: 'string', default: 'full' },
  commits: { type: 'string' },
  rounds: { type: 'string' },
  warmup: { type: 'string', default: '1' },
  suites: { type: 'string' },
  note: { type: 'string' },
  'no-write': { type: 'boolean', default: false },
})

const size = sizeFlag(values.size)
const sizes = projectionSizes[size]
const commits = positive('commits', values.commits, sizes.commits)
const rounds = positive('rounds', values.rounds, size === 'tiny' ? 1 : 3)
const warmup = positive('warmup', values.warmup, 1, 0)
const suites = suitesFlag(values.suites)
const inlineRounds = rounds * 3

const started = Date.now()
const results = await runProjections({ sizes, commits, rounds, inlineRounds, warmup, suites, log: (line) => process.stderr.write(`${line}\n`) })

// The note is printed as its own paragraph; the command shows that one was given.
const argv = process.argv.slice(2)
const args = argv
  .map((a, i) => (argv[i - 1] === '--note' ? '…' : a.startsWith('--note=') ? '--note …' : a))
  .join(' ')
const report = projectionsMarkdown(
  {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    machine: machine(),
    command: `npm run bench:projections${args === '' ? '' : ` -- ${args}`}`,
    size,
    rounds,
    warmup,
    inlineRounds,
    ...(values.note === undefined ? {} : { machineNote: values.note }),
  },
  results,
)
process.stdout.write(`${report}\n`)
process.stderr.write(`projections ran in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)

if (!values['no-write'])
  writeBetweenMarkers('projections', report, (current, block) => {
    const section =
      '## Projections\n\n' +
      'Written by `cd bench && npm run bench:projections` (`bench/src/extras/projections.ts`): the catch-up of a transactional projection ' +
      'and the cost of an inline one (issue 15), each against its baseline in the same run.\n\n' +
      block
    // After the extras' section: at the next "## " heading after its end marker (so that its own subsections
    // stay with it), else at the end of the file.
    const extrasEnd = current.indexOf('<!-- extras:end -->')
    const heading = extrasEnd < 0 ? -1 : current.indexOf('\n## ', extrasEnd)
    return heading < 0 ? `${current.trimEnd()}\n\n${section}` : `${current.slice(0, heading).trimEnd()}\n\n${section}\n${current.slice(heading + 1)}`
  })
