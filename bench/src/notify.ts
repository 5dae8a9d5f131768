/**
 * What the PostgreSQL store's `NOTIFY` costs appends (issue 13 item 3). PostgreSQL serialises the commits of
 * transactions that sent a notification on one global lock, so this measures the store's append throughput in its
 * three `notify` modes, in the same run: `off`, `coalesced` (`notify: true`, the default: at most one NOTIFY in
 * flight per store object, after the commit, in a transaction of its own) and `in-transaction` (every append's
 * statement sends it). `writers` concurrent writers, each on a stream of its own, single-event commits, for
 * `seconds` each round; the order of the variants turns round every other round (ABC CBA ...) so that drift (the
 * table growing, other load on the machine) falls on all alike. A listener LISTENs on the store's channel
 * throughout, as a subscription would, and counts what it hears (a check that the notifying rounds notified).
 *
 *   cd bench && ../node_modules/.bin/tsx src/notify.ts [--seconds 3] [--rounds 6] [--writers 8] [--sync on|off]
 *
 * `--sync off` runs the writers with `synchronous_commit=off`, where a commit does not wait for its WAL flush and
 * the lock's share of a commit is largest. Not part of `npm run bench` (it takes `2 × rounds × seconds`).
 */
import { parseArgs } from 'node:util'
import pg from 'pg'
import type { CommitAttempt } from '../../src/eventstore/index.js'
import { postgresStore, type PostgresStore } from '../../src/postgres/index.js'
import { machine } from './harness/machine.js'
import { summarize } from './harness/stats.js'
import { uniqueName } from './suites/common.js'
import { pgUrl } from './suites/postgres.js'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '6' },
    writers: { type: 'string', default: '8' },
    sync: { type: 'string', default: 'on' },
  },
})
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)
const writers = Number(values.writers)
const sync = values.sync === 'off' ? 'off' : 'on'

const schema = uniqueName('aett_notify')
const pools: pg.Pool[] = []
const pool = (): pg.Pool => {
  const p = new pg.Pool({ connectionString: pgUrl, max: writers, options: `-c synchronous_commit=${sync}` })
  p.on('error', () => undefined)
  pools.push(p)
  return p
}
type Variant = 'off' | 'coalesced' | 'in-transaction'
const names: readonly Variant[] = ['off', 'coalesced', 'in-transaction']
const variants: Record<Variant, PostgresStore> = {
  off: postgresStore({ pool: pool(), schema, notify: false }),
  coalesced: postgresStore({ pool: pool(), schema, notify: true }),
  'in-transaction': postgresStore({ pool: pool(), schema, notify: 'in-transaction' }),
}
const orThrow = <A>(what: string, r: { _tag: 'Left'; left: { readonly _tag: string } } | { _tag: 'Right'; right: A }): A => {
  if (r._tag === 'Left') throw new Error(`${what}: ${JSON.stringify(r.left)}`)
  return r.right
}
orThrow('initialize', await variants.off.initialize())

const listener = new pg.Client({ connectionString: pgUrl })
await listener.connect()
let heard = 0
listener.on('notification', () => void (heard += 1))
await listener.query(`LISTEN "aett/${schema}/commits"`)

let streams = 0
const attemptFor = (streamId: string, sequence: number): CommitAttempt => ({
  tenantId: 'bench',
  streamId,
  commitId: `${streamId}-${sequence}`,
  commitSequence: sequence,
  streamRevision: sequence,
  commitStamp: new Date(),
  headers: {},
  events: [{ body: { type: 'Ticked', n: sequence }, headers: {} }],
})

/** One round: every writer appends to its own fresh stream until the deadline; commits per second. */
const round = async (store: PostgresStore, ms: number): Promise<number> => {
  const started = performance.now()
  const until = started + ms
  const counts = await Promise.all(
    Array.from({ length: writers }, async () => {
      const streamId = `s${++streams}`
      let n = 0
      while (performance.now() < until) orThrow('commit', await store.commit(attemptFor(streamId, ++n)))
      return n
    }),
  )
  const total = counts.reduce((a, b) => a + b, 0)
  return total / ((performance.now() - started) / 1000)
}

const log = (line: string) => process.stderr.write(`${line}\n`)
log(`warming up (${writers} writers, synchronous_commit=${sync})`)
for (const v of names) await round(variants[v], 500)

const results: Record<Variant, number[]> = { off: [], coalesced: [], 'in-transaction': [] }
const heardIn: Record<Variant, number> = { off: 0, coalesced: 0, 'in-transaction': 0 }
for (let r = 0; r < rounds; r++) {
  for (const v of r % 2 === 0 ? names : [...names].reverse()) {
    const before = heard
    const rate = await round(variants[v], seconds * 1000)
    // notifications arrive after their commits: give the last ones a moment
    await new Promise((res) => setTimeout(res, 100))
    heardIn[v] += heard - before
    results[v].push(rate)
    log(`round ${r + 1} ${v.padEnd(14)} ${rate.toFixed(0)} commits/s`)
  }
}

const base = summarize(results.off).median
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ')
const lines = names.map((v) => {
  const s = summarize(results[v])
  // Paired: each round's rate against the `off` rate of the same round (they ran back to back), which cancels
  // the load that other work on the machine puts on some rounds and not others.
  const paired = summarize(results[v].map((x, i) => x / (results.off[i] ?? Number.NaN)))
  const cost =
    v === 'off'
      ? ''
      : `; cost ${((1 - s.median / base) * 100).toFixed(1)}% of the median (ratio ${(s.median / base).toFixed(3)}), ` +
        `paired by round ${((1 - paired.median) * 100).toFixed(1)}% (ratio ${paired.median.toFixed(3)}, q1 ${paired.q1.toFixed(3)}, q3 ${paired.q3.toFixed(3)})`
  return `${v.padEnd(14)} median ${s.median.toFixed(0)} commits/s (q1 ${s.q1.toFixed(0)}, q3 ${s.q3.toFixed(0)}; rounds ${fmt(results[v])}); notifications heard ${heardIn[v]}${cost}`
})
process.stdout.write(
  [
    `NOTIFY cost on appends: ${writers} writers, one stream each, single-event commits, ${rounds} rounds × ${seconds} s per variant, synchronous_commit=${sync}`,
    `machine: ${machine()}`,
    ...lines,
    '',
  ].join('\n'),
)

await listener.end()
orThrow('drop', await variants.off.drop())
for (const s of Object.values(variants)) await s.close()
for (const p of pools) await p.end()
