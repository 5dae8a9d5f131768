/**
 * The telemetry decorators' cost without an SDK, in instructions rather than seconds (issue 22: "indistinguishable
 * from none"). Timed rounds on a loaded 2-core machine spread by ±40%, wider than the effect; callgrind counts the
 * instructions a process runs, which another process's load does not change.
 *
 * One process per (variant, command count): it runs `--warmup` commands, then `--commands` more, through
 * `deciderRepository.handle` on SQLite `:memory:`, plain or through `tracedStore` + `tracedRepository` with no SDK
 * registered. The instructions of a command are the difference between a run with `--commands N` and one with
 * N/5 (startup, warm-up and exit cancel out), divided by the difference in commands.
 *
 *   cd bench && ../node_modules/.bin/tsx src/extras/otelInstructions.ts [--commands 2000] [--warmup 2000]
 *
 * Needs valgrind (Debian's package). Each of the four runs takes a minute or two under callgrind.
 */
import { spawnSync } from 'node:child_process'
import { parseArgs } from 'node:util'
import * as E from 'fp-ts/lib/Either.js'
import { deciderRepository } from '../../../src/domain/deciderRepository.js'
import { tracedRepository, tracedStore } from '../../../src/otel/index.js'
import { sqliteStore } from '../../../src/sqlite/index.js'
import { accountDecider, TENANT, topics } from '../domain.js'

const { values } = parseArgs({
  options: {
    commands: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '2000' },
    child: { type: 'string' },
  },
})
const commands = Number(values.commands)
const warmup = Number(values.warmup)
const streams = 100
/** The shorter run: long enough that both runs have left start-up behind, so that only the extra commands differ. */
const small = Math.floor(commands / 5)

/** The measured part: runs in the child, under callgrind. */
const child = async (variant: 'plain' | 'decorated-no-sdk', n: number) => {
  const store = sqliteStore({ filename: ':memory:' })
  if (E.isLeft(await store.initialize())) throw new Error('initialize')
  const plain = deciderRepository({ decider: accountDecider, topics, store, tenantId: TENANT })
  const repo =
    variant === 'plain'
      ? plain
      : tracedRepository(deciderRepository({ decider: accountDecider, topics, store: tracedStore(store), tenantId: TENANT }), { name: 'account' })
  // Both phases write to streams of the same lengths whatever n is, so that n commands cost the same in each run.
  const run = async (prefix: string, count: number) => {
    for (let i = 0; i < count; i++) {
      const out = await repo.handle(`${prefix}-${i % streams}`, { type: 'Deposit', amount: 1 })()
      if (E.isLeft(out)) throw new Error(JSON.stringify(out.left))
    }
  }
  await run('warm', warmup)
  await run('measured', n)
  await store.close()
}

/** Runs one child under callgrind and reads the instruction count it reports ("Collected : N"). */
const collected = (variant: string, n: number): number => {
  const args = [process.argv[1] as string, '--child', variant, '--commands', String(n), '--warmup', String(warmup)]
  // --single-threaded: V8 compiles and collects garbage on the main thread, so that background threads that run
  // more or less depending on timing do not add to the count.
  const node = [process.execPath, '--single-threaded', ...process.execArgv]
  const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', ...node, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
  const m = /Collected\s*:\s*(\d+)/.exec(r.stderr)
  if (r.status !== 0 || m === null) throw new Error(`callgrind run of ${variant} (${n}) failed (${r.status}): ${r.stderr.slice(-2000)}`)
  return Number(m[1])
}

if (values.child !== undefined) {
  await child(values.child as 'plain' | 'decorated-no-sdk', commands)
} else {
  const per: Record<string, number> = {}
  for (const variant of ['plain', 'decorated-no-sdk']) {
    const base = collected(variant, small)
    const full = collected(variant, commands)
    per[variant] = (full - base) / (commands - small)
    console.log(`${variant.padEnd(18)} ${Math.round(per[variant] as number).toLocaleString('en')} instructions per command (runs of ${small} and ${commands}: ${base} / ${full})`)
  }
  const overhead = ((per['decorated-no-sdk'] as number) / (per['plain'] as number) - 1) * 100
  console.log(`decorators without an SDK: ${overhead >= 0 ? '+' : ''}${overhead.toFixed(1)}% instructions per command (${commands} commands after ${warmup} warm-up)`)
}
