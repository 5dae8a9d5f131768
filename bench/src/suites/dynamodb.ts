import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { ChildProcess } from 'node:child_process'
import { dynamoDbStore } from '../../../src/dynamodb/index.js'
import { metered, type Meter } from '../../../src/dynamodb/metering.js'
import type { Persistence } from '../../../src/eventstore/ports.js'
import { appendSingles, orThrow, seedStream } from '../aett/contenders.js'
import { aettRepository } from '../aett/repository.js'
import type { Suite } from '../harness/types.js'
import { createRawDynamo } from '../raw/dynamodb.js'
import { count, type Sizes } from '../sizes.js'
import { scenario, uniqueName } from './common.js'
import { startDynalite } from '../dynaliteProcess.js'


/** A meter's counts per operation, as a note says them. */
const perOperation = (m: Meter, operations: number): string =>
  `${(m.requests / operations).toFixed(1)} requests, ${(m.roundTrips / operations).toFixed(1)} round trips in a row, ` +
  `${(m.readUnits / operations).toFixed(1)} RCU + ${(m.writeUnits / operations).toFixed(1)} WCU`

/** Loads of the stream per run in the loads scenario. */
const loadsPerRun = (sizes: Sizes): number => (sizes.name === 'full' ? 50 : 5)

export const dynamodbSuite = (sizes: Sizes): Suite => {
  let child: ChildProcess | undefined
  let client: DynamoDBClient | undefined
  let aett: Persistence | undefined
  const notes = [
    '**An emulator, not DynamoDB**: dynalite 4 (in memory, in a child process on this machine). The numbers compare aett with ' +
      'the SDK doing the same puts and queries on the same emulator; they say nothing about latency or throughput on AWS.',
    'aett: `aett/dynamodb` (@aws-sdk/client-dynamodb 3.1169.0). raw: the same SDK client, one conditional `PutItem` per ' +
      'append and a `Query` per load, without the global checkpoint that aett allocates per commit.',
  ]
  return {
    id: 'dynamodb',
    title: 'DynamoDB emulator (dynalite)',
    notes,
    open: async () => {
      const started = await startDynalite()
      child = started.child
      client = new DynamoDBClient({ endpoint: started.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } })
      const prefix = `${uniqueName('bench')}_`
      // Meters what aett sends (requests, round trips in a row, capacity units as the emulator reports them), so
      // that the report can say what an append and a load cost; the raw baseline is metered the same way.
      const meter = metered(client)
      const store = dynamoDbStore({ client: meter.client, tables: { prefix }, pageSize: sizes.pageSize })
      aett = store
      orThrow('initialize aett dynamodb', await store.initialize())
      const probeRepo = aettRepository(aett)
      meter.reset()
      await seedStream(aett, 'probe', 5, 1)
      const append = perOperation(meter.counts(), 5)
      meter.reset()
      await probeRepo.load('probe', 5).run(0)
      const load = perOperation(meter.counts(), 1)
      const rawMeter = metered(client)
      const rawProbe = await createRawDynamo(rawMeter.client as DynamoDBClient, `${prefix}rawprobe`)
      rawMeter.reset()
      await rawProbe.seedStream('probe', 5, 1)
      const rawAppend = perOperation(rawMeter.counts(), 5)
      rawMeter.reset()
      await rawProbe.loads('probe', 1, 5).run(0)
      const rawLoad = perOperation(rawMeter.counts(), 1)
      notes.push(
        `Per single-event append (mean of 5 to a new stream): aett ${append}; raw ${rawAppend}. ` +
          `Per load of a 5-commit stream without a snapshot: aett ${load}; raw ${rawLoad}. ` +
          '(Capacity units as dynalite reports them, table and indexes.)',
      )
      const raw = await createRawDynamo(client, `${prefix}raw`)
      const repo = aettRepository(aett)
      const a = aett
      const loads = loadsPerRun(sizes)
      const streamEvents = sizes.foldEvents / 100
      const perCommit = Math.max(1, streamEvents / 10)
      // Every request to the emulator costs milliseconds: a tenth of the SQL suites' counts keeps the run short.
      const appends = Math.max(10, sizes.appends / 10)
      const commands = Math.max(10, sizes.commands / 10)
      const label = 'DynamoDB emulator (dynalite)'
      return {
        scenarios: [
          scenario(
            { id: 'dynamodb/append-single', title: `${count(appends)} single-event appends to one stream, ${label}`, unit: 'ops', operations: appends },
            { aett: appendSingles(a, appends, 'single'), emmett: 'Emmett has no DynamoDB store', raw: raw.appendSingles(appends, 'single') },
          ),
          scenario(
            {
              id: 'dynamodb/loads',
              title: `${loads} loads of a ${streamEvents}-event stream (${streamEvents / perCommit} appends), ${label}`,
              unit: 'ops',
              operations: loads,
              setup: async () => {
                await seedStream(a, 'load', streamEvents, perCommit)
                await raw.seedStream('load', streamEvents, perCommit)
              },
            },
            {
              aett: {
                library: 'aett',
                via: 'deciderRepository.load',
                run: async (round) => {
                  const one = repo.load('load', streamEvents)
                  for (let i = 0; i < loads; i++) await one.run(round)
                },
              },
              emmett: 'Emmett has no DynamoDB store',
              raw: raw.loads('load', loads, streamEvents),
            },
          ),
          scenario(
            {
              id: 'dynamodb/commands',
              title: `${count(commands)} commands over ${sizes.commandStreams} streams (load, decide, append), ${label}`,
              unit: 'ops',
              operations: commands,
            },
            { aett: repo.commands(commands, sizes.commandStreams, 'cmd'), emmett: 'Emmett has no DynamoDB store', raw: raw.commands(commands, sizes.commandStreams, 'cmd') },
          ),
          ...(['fresh', 'stale'] as const).map((mode) =>
            scenario(
              {
                id: `dynamodb/commands-cache-${mode}`,
                title: `the same commands, aett with a state cache (${mode === 'fresh' ? 'fresh' : 'allow stale'}), ${label}`,
                unit: 'ops',
                operations: commands,
              },
              {
                aett: repo.cachedCommands(mode, commands, sizes.commandStreams, `cmd-${mode}`),
                emmett: 'Emmett has no DynamoDB store',
                raw: raw.commands(commands, sizes.commandStreams, `cmd-${mode}`),
              },
            ),
          ),
        ],
      }
    },
    close: async () => {
      if (aett !== undefined) await aett.drop()
      await aett?.close()
      client?.destroy()
      child?.kill()
    },
  }
}
