/**
 * `npm run bench` (in bench/, or at the root): runs every suite, prints the table, and writes it into
 * docs/benchmarks.md between the `bench:start` / `bench:end` markers (the analysis around them is kept).
 *
 *   --size tiny|full     (AETT_BENCH_SIZE, default full)
 *   --rounds N           timed rounds per contender (AETT_BENCH_ROUNDS, default 5; tiny: 1)
 *   --warmup N           untimed rounds first (AETT_BENCH_WARMUP, default 1)
 *   --suites a,b         sqlite,postgres,mysql,dynamodb (AETT_BENCH_SUITES, default all)
 *   --only TEXT          only scenarios whose id contains TEXT
 *   --libraries a,b      only these contenders (aett,emmett,raw), e.g. to profile one alone
 *   --no-write           print only; leave docs/benchmarks.md alone
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { Library } from './harness/types.js'
import { machine, markdown, runBench, sizes, suiteNames, type SuiteName } from './index.js'

const parse = () =>
  parseArgs({
    options: {
      size: { type: 'string', default: process.env['AETT_BENCH_SIZE'] ?? 'full' },
      rounds: { type: 'string', default: process.env['AETT_BENCH_ROUNDS'] },
      warmup: { type: 'string', default: process.env['AETT_BENCH_WARMUP'] ?? '1' },
      suites: { type: 'string', default: process.env['AETT_BENCH_SUITES'] },
      only: { type: 'string' },
      libraries: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
    },
  })

let values: ReturnType<typeof parse>['values']
try {
  values = parse().values
} catch (e) {
  // npm eats `--flag value` pairs that are not forwarded with `--`, leaving only the values behind.
  process.stderr.write(
    `${e instanceof Error ? e.message : String(e)}\nFlags must reach this script: \`cd bench && npm run bench -- --size tiny\`, ` +
      'or use the environment variables (AETT_BENCH_SIZE, AETT_BENCH_ROUNDS, AETT_BENCH_WARMUP, AETT_BENCH_SUITES).\n',
  )
  process.exit(2)
}

const size = values.size === 'tiny' || values.size === 'full' ? values.size : undefined
if (size === undefined) throw new Error(`--size must be tiny or full, got ${values.size}`)
const rounds = Number(values.rounds ?? (size === 'tiny' ? 1 : 5))
const warmup = Number(values.warmup)
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer')
if (!Number.isInteger(warmup) || warmup < 0) throw new Error('--warmup must be a non-negative integer')
const chosen = (values.suites?.split(',').map((s) => s.trim()) ?? suiteNames) as SuiteName[]
for (const s of chosen) if (!suiteNames.includes(s)) throw new Error(`unknown suite ${s}; choose from ${suiteNames.join(', ')}`)

const results = await runBench({
  sizes: sizes[size],
  rounds,
  warmup,
  suites: chosen,
  log: (line) => process.stderr.write(`${line}\n`),
  ...(values.only === undefined ? {} : { filter: values.only }),
  ...(values.libraries === undefined ? {} : { libraries: values.libraries.split(',').map((l) => l.trim()) as Library[] }),
})

const args = process.argv.slice(2).join(' ')
const report = markdown(
  {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    machine: machine(),
    command: `npm run bench${args === '' ? '' : ` -- ${args}`}`,
    size,
    rounds,
    warmup,
  },
  results,
)
process.stdout.write(`${report}\n`)

if (!values['no-write']) {
  const target = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url))
  const start = '<!-- bench:start -->'
  const end = '<!-- bench:end -->'
  const current = existsSync(target) ? readFileSync(target, 'utf8') : `# Benchmarks\n\n${start}\n${end}\n`
  const from = current.indexOf(start)
  const to = current.indexOf(end)
  const next =
    from >= 0 && to > from
      ? `${current.slice(0, from + start.length)}\n${report}\n${current.slice(to)}`
      : `${current.trimEnd()}\n\n${start}\n${report}\n${end}\n`
  writeFileSync(target, next)
  process.stderr.write(`wrote ${target}\n`)
}
