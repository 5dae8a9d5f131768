import { existsSync } from 'node:fs'
import { extname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Decider } from '../decider/Decider.js'
import type { StateCodec } from '../domain/StateCodec.js'
import type { TopicMap } from '../eventstore/codec/TopicMap.js'
import type { EventStore } from '../eventstore/ports.js'
import { failure, usage } from './errors.js'

/**
 * What `aett.config.{js,mjs,ts}` may export (named exports, or one default export object with these keys). Every
 * key is optional; a verb that needs one says so when it is missing.
 *
 * - `store`: the store URL verbs use when neither `--store` nor `AETT_STORE` is given;
 * - `topics`: the topic map (`topicMap(...)`) that `check` decodes every stored event through, and that
 *   `{ decider }` repositories read with;
 * - `repositories`: by name, what `replay` loads a stream with: `{ decider, stateCodec? }`, or a function
 *   `(store, { tenantId }) => repository` returning anything with `load(id, maxVersion?)` and `loadAt(id, time)`
 *   (a `deciderRepository`, say);
 * - `subscriptions`: by name, what `subscriptions replay-parked` hands parked commits to: `{ handler, source?,
 *   decode? }` as given to `subscribe` (and the names `subscriptions status` lists by default).
 */
export interface AettConfig {
  readonly store?: string
  readonly topics?: TopicMap<{ readonly type: string }>
  readonly repositories?: Readonly<Record<string, RepositoryEntry>>
  readonly subscriptions?: Readonly<Record<string, SubscriptionEntry>>
}

/** What `replay` needs of a repository: the state at a version, or at a time. */
export interface Loadable {
  readonly load: (id: string, maxVersion?: number) => unknown
  readonly loadAt?: (id: string, time: Date) => unknown
}

export type RepositoryEntry =
  | { readonly decider: Decider<unknown, unknown, { readonly type: string }, unknown>; readonly stateCodec?: StateCodec<unknown>; readonly topics?: TopicMap<{ readonly type: string }> }
  | ((store: EventStore, options: { readonly tenantId: string }) => Loadable)

export interface SubscriptionEntry {
  readonly handler: (batch: readonly unknown[], context: unknown) => Promise<unknown>
  readonly source?: unknown
  readonly decode?: unknown
}

export interface LoadedConfig extends AettConfig {
  readonly path: string
}

const candidates = ['aett.config.ts', 'aett.config.mts', 'aett.config.mjs', 'aett.config.js', 'aett.config.cjs']

/** The configuration file `--config` names, or the first `aett.config.*` of the working directory. */
export const findConfig = (given: string | undefined): string | undefined => {
  if (given !== undefined) {
    const path = resolve(given)
    if (!existsSync(path)) throw usage(`${given}: no such configuration file`)
    return path
  }
  return candidates.map((c) => resolve(c)).find((p) => existsSync(p))
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null

/**
 * Imports the configuration module: JavaScript natively, TypeScript (`.ts`, `.mts`, `.cts`) through jiti, since
 * Node 20 cannot import TypeScript itself. A module that throws is reported in one line.
 */
export const loadConfig = async (path: string): Promise<LoadedConfig> => {
  const ext = extname(path)
  let mod: Record<string, unknown>
  try {
    if (ext === '.ts' || ext === '.mts' || ext === '.cts') {
      const { createJiti } = await import('jiti')
      const jiti = createJiti(import.meta.url, { moduleCache: false })
      mod = (await jiti.import(path)) as Record<string, unknown>
    } else {
      mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>
    }
  } catch (cause) {
    const why = cause instanceof Error ? cause.message.split('\n')[0] : String(cause)
    throw failure(`${path}: cannot load the configuration: ${why}`)
  }
  const named = ['store', 'topics', 'repositories', 'subscriptions'].some((k) => mod[k] !== undefined)
  const c = !named && isObject(mod['default']) ? mod['default'] : mod
  if (c['store'] !== undefined && typeof c['store'] !== 'string') throw failure(`${path}: \`store\` must be a store URL string`)
  if (c['topics'] !== undefined && !(isObject(c['topics']) && typeof c['topics']['decode'] === 'function'))
    throw failure(`${path}: \`topics\` must be a topic map (topicMap(...))`)
  for (const k of ['repositories', 'subscriptions']) {
    if (c[k] !== undefined && !isObject(c[k])) throw failure(`${path}: \`${k}\` must be an object keyed by name`)
  }
  return { ...(c as AettConfig), path }
}

/** The configuration, required: `what` says which verb needs it and why. */
export const requireConfig = async (given: string | undefined, what: string): Promise<LoadedConfig> => {
  const path = findConfig(given)
  if (path === undefined) throw usage(`${what} needs a configuration module: none of ${candidates.join(', ')} in ${process.cwd()}; pass --config <file>`)
  return loadConfig(path)
}
