import type { EmmettModules } from './types.js'

/**
 * Emmett lives in bench/node_modules only. Its adapters are imported through a computed specifier, so that
 * the kit's typecheck and test run (which import this harness) never need it; when it is missing, the
 * harness says so loudly and leaves the Emmett column empty.
 */
export const EMMETT_MISSING = 'Emmett not installed (run `npm ci` in bench/)'

let loaded: Promise<EmmettModules | { readonly missing: string }> | undefined

const importComputed = async <A>(file: string): Promise<A> => (await import(new URL(file, import.meta.url).href)) as A

export const loadEmmett = (): Promise<EmmettModules | { readonly missing: string }> =>
  (loaded ??= (async () => {
    try {
      const [sqlite, postgres] = await Promise.all([
        importComputed<EmmettModules['sqlite']>('./sqlite.js'),
        importComputed<EmmettModules['postgres']>('./postgres.js'),
      ])
      return { sqlite, postgres }
    } catch (e) {
      const code = (e as { code?: unknown }).code
      const missing =
        code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
          ? EMMETT_MISSING
          : `Emmett failed to load: ${e instanceof Error ? e.message : String(e)}`
      // Loud on purpose: a table without its Emmett column must never pass for a complete run.
      const line = '!'.repeat(100)
      console.warn(`${line}\n!! ${missing}: the Emmett column stays empty.\n${line}`)
      return { missing }
    }
  })())
