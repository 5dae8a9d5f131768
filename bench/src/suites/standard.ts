import type { Persistence } from '../../../src/eventstore/ports.js'
import { appendBatch, appendSingles, readLog, seedLog, seedStream } from '../aett/contenders.js'
import { aettRepository } from '../aett/repository.js'
import type { Contender, Scenario } from '../harness/types.js'
import { count, type Sizes } from '../sizes.js'
import { scenario } from './common.js'

/** What a raw-driver baseline offers; every SQL suite's baseline has the same shape. */
export interface RawContenders {
  readonly appendSingles: (n: number, prefix: string) => Contender
  readonly appendBatch: (n: number, prefix: string) => Contender
  readonly commands: (n: number, streams: number, prefix: string) => Contender
  readonly fold: (streamId: string, events: number) => Contender
  readonly seedStream: (streamId: string, events: number, perCommit: number) => Promise<void> | void
  readonly seedLog: (prefix: string, commits: number, perCommit: number) => Promise<void> | void
  readonly readLog: (events: number, pageSize: number) => Contender
}

/** Emmett's side, on any of its stores. */
export interface EmmettSide {
  readonly appendSingles: (n: number, prefix: string) => Contender
  readonly appendBatch: (n: number, prefix: string) => Contender
  readonly commands: (n: number, streams: number, prefix: string) => Contender
  readonly fold: (streamId: string, events: number) => Contender
  readonly seedStream: (streamId: string, events: number, perCommit: number) => Promise<void>
  readonly seedLog: (prefix: string, commits: number, perCommit: number) => Promise<void>
  readonly readLog: (events: number, batchSize: number) => Contender
}

export interface StandardOptions {
  readonly id: string
  /** Where, with its durability mode, for the write scenarios: `SQLite (WAL, synchronous=FULL)`. */
  readonly label: string
  /** Where, for the read scenarios (durability does not matter to them): `SQLite`. */
  readonly shortLabel: string
  readonly sizes: Sizes
  readonly aett: Persistence
  /** Emmett's side, or why it is missing. */
  readonly emmett: EmmettSide | string
  /** The raw driver's side, or why it is missing. */
  readonly raw: RawContenders | string
  readonly reads: boolean
}

/**
 * The scenarios for one backend. The global read runs first, on a fresh store, so that the log holds
 * exactly what it seeded; the writes then run on a store that already has history, as in production.
 */
export const standardScenarios = (o: StandardOptions): Scenario[] => {
  const { sizes, aett, emmett: e, raw: r } = o
  const em = <A>(f: (m: EmmettSide) => A): A | string => (typeof e === 'string' ? e : f(e))
  const rw = <A>(f: (m: RawContenders) => A): A | string => (typeof r === 'string' ? r : f(r))
  const repo = aettRepository(aett)
  const scenarios: Scenario[] = []
  if (o.reads) {
    const logCommits = sizes.logEvents / sizes.logCommit
    const snapAt = sizes.foldEvents - sizes.foldCommit
    scenarios.push(
      scenario(
        {
          id: `${o.id}/global-read`,
          title: `read ${count(sizes.logEvents)} events from the global log (${count(logCommits)} appends of ${sizes.logCommit}), ${o.shortLabel}`,
          unit: 'time',
          operations: sizes.logEvents,
          setup: async () => {
            await seedLog(aett, 'log', logCommits, sizes.logCommit)
            if (typeof e !== 'string') await e.seedLog('log', logCommits, sizes.logCommit)
            if (typeof r !== 'string') await r.seedLog('log', logCommits, sizes.logCommit)
          },
        },
        {
          aett: readLog(aett, sizes.logEvents),
          // The same number of events per round trip for everyone: Emmett pages by event, the others by commit.
          emmett: em((m) => m.readLog(sizes.logEvents, sizes.pageSize * sizes.logCommit)),
          raw: rw((m) => m.readLog(sizes.logEvents, sizes.pageSize)),
        },
      ),
      scenario(
        {
          id: `${o.id}/fold`,
          title: `read and fold a ${count(sizes.foldEvents)}-event stream (${sizes.foldEvents / sizes.foldCommit} appends of ${sizes.foldCommit}), ${o.shortLabel}`,
          unit: 'time',
          operations: sizes.foldEvents,
          setup: async () => {
            await seedStream(aett, 'fold', sizes.foldEvents, sizes.foldCommit)
            if (typeof e !== 'string') await e.seedStream('fold', sizes.foldEvents, sizes.foldCommit)
            if (typeof r !== 'string') await r.seedStream('fold', sizes.foldEvents, sizes.foldCommit)
          },
        },
        {
          aett: repo.load('fold', sizes.foldEvents),
          emmett: em((m) => m.fold('fold', sizes.foldEvents)),
          raw: rw((m) => m.fold('fold', sizes.foldEvents)),
        },
      ),
      scenario(
        {
          id: `${o.id}/fold-snapshot`,
          title: `the same load from a snapshot at ${count(snapAt)} (then ${sizes.foldCommit} events), ${o.shortLabel}`,
          unit: 'time',
          operations: sizes.foldEvents,
          setup: async () => {
            await seedStream(aett, 'snap', sizes.foldEvents, sizes.foldCommit)
            await repo.snapshot('snap', snapAt)
          },
        },
        {
          aett: repo.load('snap', sizes.foldEvents, 'deciderRepository.load (snapshot)'),
          emmett: typeof e === 'string' ? e : 'no snapshots in Emmett',
          raw: 'not measured',
        },
      ),
    )
  }
  scenarios.push(
    scenario(
      { id: `${o.id}/append-single`, title: `${count(sizes.appends)} single-event appends to one stream, ${o.label}`, unit: 'ops', operations: sizes.appends },
      {
        aett: appendSingles(aett, sizes.appends, 'single'),
        emmett: em((m) => m.appendSingles(sizes.appends, 'single')),
        raw: rw((m) => m.appendSingles(sizes.appends, 'single')),
      },
    ),
    scenario(
      { id: `${o.id}/append-batch`, title: `one append of ${count(sizes.batch)} events, ${o.label}`, unit: 'ops', operations: sizes.batch },
      {
        aett: appendBatch(aett, sizes.batch, 'batch'),
        emmett: em((m) => m.appendBatch(sizes.batch, 'batch')),
        raw: rw((m) => m.appendBatch(sizes.batch, 'batch')),
      },
    ),
    scenario(
      {
        id: `${o.id}/commands`,
        title: `${count(sizes.commands)} commands over ${sizes.commandStreams} streams (load, decide, append), ${o.label}`,
        unit: 'ops',
        operations: sizes.commands,
      },
      {
        aett: repo.commands(sizes.commands, sizes.commandStreams, 'cmd'),
        emmett: em((m) => m.commands(sizes.commands, sizes.commandStreams, 'cmd')),
        raw: rw((m) => m.commands(sizes.commands, sizes.commandStreams, 'cmd')),
      },
    ),
    ...(['fresh', 'stale'] as const).map((mode) =>
      scenario(
        {
          id: `${o.id}/commands-cache-${mode}`,
          title: `the same commands, aett with a state cache (${mode === 'fresh' ? 'fresh' : 'allow stale'}), ${o.label}`,
          unit: 'ops',
          operations: sizes.commands,
        },
        {
          aett: repo.cachedCommands(mode, sizes.commands, sizes.commandStreams, `cmd-${mode}`),
          emmett: 'Emmett has no state cache (its row: commands)',
          raw: rw((m) => m.commands(sizes.commands, sizes.commandStreams, `cmd-${mode}`)),
        },
      ),
    ),
  )
  return scenarios
}
