/**
 * DynamoDB feed shards under a throttling model (issue 19): appends/s with 1, 4 and 16 feed shards when every
 * partition (table and indexes) takes at most `--wps` writes a second, as DynamoDB's per-partition limit does, set
 * well below the emulator's own speed so that the model, not dynalite, is the bottleneck; global indexes show a write
 * after a random delay of up to `--lag` ms. The rate counts the commits acknowledged within the window of `--seconds`
 * (writers start no commit after it; the attempts in flight then finish, back-off and all, and are checked too). dynalite runs in a child process (its work on the other core). Each round
 * runs every shard count on fresh tables, in turn; every run is checked: each shard's reader saw every acknowledged
 * commit of its shard once, in token order, and each stream holds its commits once (a failed check ends the script).
 *
 * Standalone, not part of `npm run bench`:
 *   cd bench && ../node_modules/.bin/tsx src/extras/feedShards.ts [--shards 1,4,16] [--writers 128] [--seconds 6]
 *     [--wps 5] [--lag 200] [--rounds 3]
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { startDynalite } from '../dynaliteProcess.js'
import { runScaling, type ScalingRun } from '../../../test/dynamodb/scaling.js'
import { parseFlags, positive } from './cli.js'

const flags = parseFlags('feedShards', {
  shards: { type: 'string' },
  writers: { type: 'string' },
  seconds: { type: 'string' },
  wps: { type: 'string' },
  lag: { type: 'string' },
  rounds: { type: 'string' },
})
const shardCounts = (flags.shards ?? '1,4,16').split(',').map((s) => positive('shards', s, 1))
const writers = positive('writers', flags.writers, 128)
const seconds = positive('seconds', flags.seconds, 6)
const wps = positive('wps', flags.wps, 5)
const lag = positive('lag', flags.lag, 200, 0)
const rounds = positive('rounds', flags.rounds, 3)


const ids = (cs: readonly { readonly commitId: string; readonly checkpointToken: number }[]): string => cs.map((c) => `${c.commitId}@${c.checkpointToken}`).join(',')

/** Throws unless every shard reader saw exactly its shard's commits, in order, and every stream holds its own. */
const check = (run: ScalingRun): void => {
  for (let k = 0; k < run.shards; k++) {
    if (ids(run.seen[k] ?? []) !== ids(run.expected[k] ?? [])) throw new Error(`${run.shards} shards: shard ${k}'s reader did not see its commits once, in order`)
    const ofA = (run.expected[k] ?? []).filter((c) => c.tenantId === 'a')
    if (ids(run.seenOfA[k] ?? []) !== ids(ofA)) throw new Error(`${run.shards} shards: shard ${k}'s reader of tenant a did not see its commits once, in order`)
  }
  for (const s of run.streams) if (ids(s.stored) !== ids(s.written)) throw new Error(`${run.shards} shards: a stream does not hold its commits once`)
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

const main = async (): Promise<void> => {
  const { endpoint, child } = await startDynalite()
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } })
  const rates = new Map<number, number[]>(shardCounts.map((s) => [s, []]))
  const ratios = new Map<number, number[]>(shardCounts.map((s) => [s, []]))
  try {
    console.log(`feed shards under the throttling model: ${wps} writes/s a partition, index lag up to ${lag} ms, ${writers} writers, ${seconds} s a run, settleMs 1000`)
    for (let round = 1; round <= rounds; round++) {
      const base: Record<number, number> = {}
      for (const shards of shardCounts) {
        const run = await runScaling(client, { shards, writers, durationMs: seconds * 1000, writesPerSecond: wps, indexDelayMs: lag, settleMs: 1_000, pollMs: 200 })
        check(run)
        base[shards] = run.perSecond
        rates.get(shards)?.push(run.perSecond)
        const ratio = run.perSecond / (base[shardCounts[0] as number] as number)
        ratios.get(shards)?.push(ratio)
        console.log(
          `round ${round}: ${String(shards).padStart(2)} shard(s): ${run.perSecond.toFixed(1).padStart(6)} appends/s (${ratio.toFixed(2)}x), ` +
            `${run.commits} commits (the last after ${run.seconds.toFixed(1)} s), throttled ${run.throttled}, writes ${run.writes}, failed attempts ${run.failedAttempts}; checked`,
        )
      }
    }
    console.log('\n| feed shards | appends/s, median (min..max) | vs 1 shard, same round: median (min..max) |\n| ---: | ---: | ---: |')
    for (const shards of shardCounts) {
      const r = rates.get(shards) ?? []
      const q = ratios.get(shards) ?? []
      console.log(
        `| ${shards} | ${median(r).toFixed(1)} (${Math.min(...r).toFixed(1)}..${Math.max(...r).toFixed(1)}) | ${median(q).toFixed(2)}x (${Math.min(...q).toFixed(2)}..${Math.max(...q).toFixed(2)}) |`,
      )
    }
  } finally {
    client.destroy()
    child.kill()
  }
}

await main()
