import { finished } from 'node:stream/promises'
import { interruptSignal, note, wholeNumber, withStore, type StoreOptions } from '../common.js'
import { CliError, failure, usage } from '../errors.js'
import { exportCommits, exportTarget, importFile } from '../ndjson.js'
import type { OpenedStore } from '../open.js'

export interface ProgressOption {
  /** commander's `--no-progress`. */
  readonly progress: boolean
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/** `aett export`: the log (or one tenant's part of it) as NDJSON, from a token, resumable. */
export const exportVerb = (
  options: StoreOptions & ProgressOption & { readonly out?: string; readonly from?: string; readonly tenant?: string; readonly resume?: boolean; readonly force?: boolean },
) =>
  withStore(options, 'read', async (opened) => {
    const given = wholeNumber('--from', options.from)
    if (given !== undefined && options.resume === true) throw usage('give either --from or --resume')
    const target = exportTarget(options.out, { resume: options.resume === true, force: options.force === true })
    const from = given ?? target.from ?? 0
    const { signal, dispose } = interruptSignal()
    let summary
    try {
      summary = await exportCommits(opened, target.out, { from, tenantId: options.tenant, progress: options.progress, signal })
    } finally {
      dispose()
      if (target.out !== process.stdout) target.out.end()
    }
    if (target.out !== process.stdout) {
      await finished(target.out).catch((e: unknown) => {
        throw failure(`cannot write the export: ${e instanceof Error ? e.message : String(e)}`)
      })
    }
    const where = options.out === undefined || options.out === '-' ? 'stdout' : options.out
    const what = `${plural(summary.commits, 'commit')} (${plural(summary.events, 'event')})`
    if (summary.interrupted) {
      note(`interrupted: exported ${what} to ${where}, up to token ${summary.lastToken}; continue with --from ${summary.lastToken}${where === 'stdout' ? '' : ' or --resume'}`)
      throw new CliError('export interrupted', 130)
    }
    note(`exported ${what} from ${opened.label}${from > 0 ? ` after token ${from}` : ''} to ${where}; last token ${summary.lastToken}`)
  })

/** `aett import [file]`: appends an export's commits to the store; commits it holds already are skipped. */
export const importVerb = (file: string | undefined, options: StoreOptions & ProgressOption & { readonly init?: boolean }) =>
  withStore(options, options.init === true ? 'create' : 'write', async (opened: OpenedStore) => {
    if (options.init === true) {
      const { initializeStore } = await import('./schema.js')
      await initializeStore(opened)
    }
    const { signal, dispose } = interruptSignal()
    let summary
    try {
      summary = await importFile(opened, file ?? '-', { progress: options.progress, signal })
    } finally {
      dispose()
    }
    const what = `${plural(summary.commits, 'commit')} (${plural(summary.events, 'event')})`
    const skipped = summary.present > 0 ? `; ${plural(summary.present, 'commit')} already present, skipped` : ''
    if (summary.interrupted) {
      note(`interrupted: imported ${what}${skipped}; run the same import again to continue`)
      throw new CliError('import interrupted', 130)
    }
    note(`imported ${what} into ${opened.label}${skipped}`)
  })
