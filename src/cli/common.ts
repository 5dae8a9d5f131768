import type { Commit } from '../eventstore/Commit.js'
import { findConfig, loadConfig, type LoadedConfig } from './config.js'
import { usage } from './errors.js'
import { openStore, type OpenedStore, type OpenMode } from './open.js'
import { parseStoreUrl } from './url.js'
import { writeTo } from './write.js'

/** Options every verb that opens a store takes. */
export interface StoreOptions {
  readonly store?: string
  readonly config?: string
}

/** The store URL: `--store`, else `AETT_STORE`, else the configuration's `store`. */
export const storeUrl = async (options: StoreOptions, config?: LoadedConfig): Promise<string> => {
  if (options.store !== undefined) return options.store
  const env = process.env['AETT_STORE']
  if (env !== undefined && env.length > 0) return env
  const c = config ?? (findConfig(options.config) === undefined ? undefined : await loadConfig(findConfig(options.config) as string))
  if (c?.store !== undefined) return c.store
  throw usage('no store given: pass --store <url> (or set AETT_STORE, or export `store` from aett.config)')
}

/** Opens the store, runs `f`, and closes the store whatever happens. */
export const withStore = async <A>(options: StoreOptions, mode: OpenMode, f: (opened: OpenedStore) => Promise<A>, config?: LoadedConfig): Promise<A> => {
  const spec = parseStoreUrl(await storeUrl(options, config))
  const opened = await openStore(spec, mode)
  try {
    return await f(opened)
  } finally {
    await opened.close()
  }
}

// -------------------------------------------------------------------------------------
// output
// -------------------------------------------------------------------------------------

export const print = (line = ''): Promise<void> => writeTo(process.stdout, `${line}\n`)

/** stderr, for summaries that must not mix with data on stdout. */
export const note = (line: string): void => void process.stderr.write(`${line}\n`)

/**
 * A table printed as rows arrive: the column widths are taken from the first `sample` rows (held until then), and
 * later rows use them (a longer cell pushes its line out rather than the whole table being held).
 */
export const streamingTable = (header: readonly string[], sample = 200) => {
  const held: (readonly string[])[] = []
  let widths: number[] | undefined
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd((widths as number[])[i] ?? 0)))
      .join('  ')
      .trimEnd()
  const flush = async () => {
    widths = header.map((h, i) => Math.max(h.length, ...held.map((r) => (r[i] ?? '').length)))
    await print(line(header))
    for (const r of held) await print(line(r))
    held.length = 0
  }
  return {
    row: async (cells: readonly string[]) => {
      if (widths !== undefined) return print(line(cells))
      held.push(cells)
      if (held.length >= sample) await flush()
    },
    end: async () => {
      if (widths === undefined) await flush()
    },
  }
}

/** A stored event's type (its body's `type`). */
export const typeOf = (body: unknown): string => {
  const t = typeof body === 'object' && body !== null ? (body as { type?: unknown }).type : undefined
  return typeof t === 'string' ? t : '?'
}

/** One line for a commit, as `tail` shows it. */
export const commitSummary = (c: Commit): string => {
  const types = c.events.map((m) => typeOf(m.body))
  const first = c.streamRevision - c.events.length + 1
  const rev = first === c.streamRevision ? `${c.streamRevision}` : `${first}-${c.streamRevision}`
  return `${c.checkpointToken}  ${c.commitStamp.toISOString()}  ${c.tenantId}/${c.streamId}  seq ${c.commitSequence}  rev ${rev}  ${types.join(', ')}`
}

/** A positive integer option (`--from 12`), or a usage error naming the option. */
export const wholeNumber = (name: string, value: string | undefined, min = 0): number | undefined => {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min) {
    throw usage(`${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, got ${JSON.stringify(value)}`)
  }
  return Number(value)
}

/** A time option (ISO-8601), or a usage error. */
export const timeOption = (name: string, value: string): Date => {
  const d = new Date(value)
  if (Number.isNaN(d.getTime()) || !/\d{4}-\d{2}-\d{2}/.test(value)) throw usage(`${name} must be a version number or an ISO-8601 time, got ${JSON.stringify(value)}`)
  return d
}

/** Aborts on the first Ctrl-C (or SIGTERM), so a long verb can stop cleanly; a second Ctrl-C exits at once. */
export const interruptSignal = (): { readonly signal: AbortSignal; readonly dispose: () => void } => {
  const controller = new AbortController()
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130)
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    },
  }
}
