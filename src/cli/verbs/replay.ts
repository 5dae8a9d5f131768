import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { invalidAttempt, storageError } from '../../eventstore/errors.js'
import type { EventStore } from '../../eventstore/ports.js'
import { print, storeUrl, timeOption, withStore, type StoreOptions } from '../common.js'
import { requireConfig, type Loadable, type LoadedConfig } from '../config.js'
import { toPlain, diffLines } from '../diff.js'
import { failure, storeFailure, usage } from '../errors.js'
import type { OpenedStore } from '../open.js'
import { firstCommit } from './read.js'

/** Where to replay to: a version (a revision of the stream) or a time. */
type At = { readonly version: number } | { readonly time: Date } | { readonly head: true }

const atOf = (name: string, value: string | undefined): At => {
  if (value === undefined) return { head: true }
  if (/^\d+$/.test(value)) return { version: Number(value) }
  return { time: timeOption(name, value) }
}

const describeAt = (at: At): string => ('version' in at ? `version ${at.version}` : 'time' in at ? at.time.toISOString() : 'the head')

interface StateAt {
  readonly state: unknown
  readonly version: number
  readonly commitSequence?: number
}

/**
 * The store as a repository sees it in `replay`: every read, and no write (a commit or a snapshot is refused
 * before it reaches the store). Without snapshots, `getSnapshot` finds none, so the state is folded from events.
 */
const readOnlyView = (opened: OpenedStore, snapshots: boolean): EventStore => {
  const s = opened.store
  return {
    get: (t, id, r) => s.get(t, id, r),
    getTo: (t, id, time) => s.getTo(t, id, time),
    getAllTo: (t, time) => s.getAllTo(t, time),
    getFrom: (c, t) => s.getFrom(c, t),
    getFromTo: (a, b, t) => s.getFromTo(a, b, t),
    streamsToSnapshot: (t, n) => s.streamsToSnapshot(t, n),
    getSnapshot: snapshots ? (t, id, max) => s.getSnapshot(t, id, max) : async () => E.right(O.none),
    commit: async (a) => E.left(invalidAttempt(a.tenantId, a.streamId, 'aett replay writes nothing')),
    addSnapshot: async () => E.left(storageError('addSnapshot', new Error('aett replay writes nothing'))),
  }
}

const repositoryOf = async (config: LoadedConfig, name: string | undefined, view: EventStore, tenantId: string): Promise<Loadable> => {
  const entries = Object.entries(config.repositories ?? {})
  if (entries.length === 0) throw usage(`${config.path} exports no \`repositories\`: replay needs one to load the stream with`)
  let entry
  if (name === undefined) {
    if (entries.length > 1) throw usage(`${config.path} has several repositories (${entries.map(([k]) => k).join(', ')}): pick one with --repository <name>`)
    entry = entries[0]?.[1]
  } else {
    entry = config.repositories?.[name]
    if (entry === undefined) throw usage(`no repository ${JSON.stringify(name)} in ${config.path} (it has ${entries.map(([k]) => k).join(', ')})`)
  }
  if (typeof entry === 'function') return entry(view, { tenantId })
  if (typeof entry === 'object' && entry !== null && 'decider' in entry) {
    const topics = entry.topics ?? config.topics
    if (topics === undefined) throw usage(`${config.path}: a { decider } repository needs \`topics\` (exported, or on the entry)`)
    const { deciderRepository } = await import('../../domain/deciderRepository.js')
    return deciderRepository({
      decider: entry.decider,
      topics,
      store: view,
      tenantId,
      ...(entry.stateCodec === undefined ? {} : { stateCodec: entry.stateCodec }),
    })
  }
  throw usage(`${config.path}: repository ${JSON.stringify(name)} must be { decider } or a function (store, { tenantId }) => repository`)
}

const describeError = (e: unknown): string => {
  if (typeof e === 'object' && e !== null) {
    const r = e as { _tag?: unknown; message?: unknown; reason?: unknown }
    const text = typeof r.message === 'string' ? r.message : typeof r.reason === 'string' ? r.reason : JSON.stringify(toPlain(e))
    return typeof r._tag === 'string' ? `${r._tag}: ${text}` : text
  }
  return String(e)
}

/** Runs a repository's load: a TaskEither (a function), a promise of an Either, or a promise of the state itself. */
const run = async (opened: OpenedStore, loadable: Loadable, id: string, at: At): Promise<StateAt> => {
  let r: unknown
  try {
    if ('time' in at) {
      if (typeof loadable.loadAt !== 'function') throw usage('this repository has no loadAt(id, time): give --to a version')
      r = loadable.loadAt(id, at.time)
    } else r = 'version' in at ? loadable.load(id, at.version) : loadable.load(id)
    if (typeof r === 'function') r = (r as () => unknown)()
    r = await r
  } catch (e) {
    if (e instanceof Error && e.name === 'CliError') throw e
    throw failure(`loading ${JSON.stringify(id)} at ${describeAt(at)} threw: ${e instanceof Error ? e.message : String(e)}`)
  }
  if (typeof r === 'object' && r !== null && (r as { _tag?: unknown })._tag === 'Left') {
    const left = (r as { left: unknown }).left
    if (typeof left === 'object' && left !== null && (left as { _tag?: unknown })._tag === 'StorageError') throw storeFailure(opened.kind, opened.label, left as never)
    throw failure(`loading ${JSON.stringify(id)} at ${describeAt(at)} failed: ${describeError(left)}`)
  }
  const value = typeof r === 'object' && r !== null && (r as { _tag?: unknown })._tag === 'Right' ? (r as { right: unknown }).right : r
  if (typeof value !== 'object' || value === null || !('state' in value) || typeof (value as { version?: unknown }).version !== 'number') {
    throw failure('the repository answered no { state, version }')
  }
  return value as StateAt
}

/**
 * `aett replay <stream>`: the state a repository of the configuration loads at a version (or time), and with
 * `--diff` what changed between two versions. It reads only: the repository gets a view of the store that
 * refuses every write.
 */
export const replay = (
  streamId: string,
  options: StoreOptions & {
    readonly to?: string
    readonly diff?: string | boolean
    readonly repository?: string
    readonly tenant: string
    readonly json?: boolean
    readonly snapshots: boolean
  },
) =>
  (async () => {
    const config = await requireConfig(options.config, 'replay')
    await storeUrl(options, config)
    const to = atOf('--to', options.to)
    return withStore(
      options,
      'read',
      async (opened) => {
        if ((await firstCommit(opened, options.tenant, streamId)) === undefined) {
          throw failure(`no stream ${JSON.stringify(streamId)} in tenant ${JSON.stringify(options.tenant)} of ${opened.label}`)
        }
        const repository = await repositoryOf(config, options.repository, readOnlyView(opened, options.snapshots), options.tenant)
        const head = await run(opened, repository, streamId, { head: true })
        const after = await run(opened, repository, streamId, to)
        if (options.diff === undefined || options.diff === false) {
          if (options.json === true) {
            await print(JSON.stringify({ streamId, tenantId: options.tenant, version: after.version, headVersion: head.version, state: toPlain(after.state) }))
            return
          }
          await print(`stream ${streamId} (tenant ${options.tenant}) at version ${after.version} of ${head.version}:`)
          await print(JSON.stringify(toPlain(after.state), null, 2))
          return
        }
        const from: At =
          options.diff === true ? { version: Math.max(0, after.version - 1) } : atOf('--diff', options.diff)
        const before = await run(opened, repository, streamId, from)
        const lines = diffLines(toPlain(before.state), toPlain(after.state))
        if (options.json === true) {
          await print(JSON.stringify({ streamId, tenantId: options.tenant, from: before.version, to: after.version, changes: lines }))
          return
        }
        await print(`stream ${streamId} (tenant ${options.tenant}), version ${before.version} -> ${after.version}:`)
        for (const l of lines.length === 0 ? ['  (no change)'] : lines) await print(l)
      },
      config,
    )
  })()
