/**
 * What the extras' command-line scripts (`bench:extras`, `bench:projections`) share: flag parsing that explains
 * where flags go, the checks of their common flags, and writing a report between markers in docs/benchmarks.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { backendIds, type BackendId } from './backends.js'

/** Ends the script with `why` on stderr (exit code 2: a usage error). */
export const fail = (why: string): never => {
  process.stderr.write(`${why}\n`)
  process.exit(2)
}

/** Parses the flags; a bad flag ends the script with a hint that flags must reach `npm run <script> -- ...`. */
export const parseFlags = <O extends NonNullable<ParseArgsConfig['options']>>(script: string, options: O) => {
  try {
    return parseArgs({ options }).values
  } catch (e) {
    return fail(`${e instanceof Error ? e.message : String(e)}\nFlags must reach this script: \`cd bench && npm run ${script} -- --size tiny --no-write\`.`)
  }
}

export const sizeFlag = (value: string | undefined): 'tiny' | 'full' =>
  value === 'tiny' || value === 'full' ? value : fail(`--size must be tiny or full, got ${value}`)

/** A whole number ≥ `min` from a flag, `fallback` when absent. */
export const positive = (flag: string, v: string | undefined, fallback: number, min = 1): number => {
  const n = Number(v ?? fallback)
  return Number.isSafeInteger(n) && n >= min ? n : fail(`--${flag} must be a whole number ≥ ${min}, got ${v}`)
}

/** The backends of `--suites a,b` (all when absent). */
export const suitesFlag = (value: string | undefined): BackendId[] => {
  const suites = (value?.split(',').map((s) => s.trim()) ?? backendIds) as BackendId[]
  for (const s of suites) if (!backendIds.includes(s)) fail(`unknown suite ${s}; choose from ${backendIds.join(', ')}`)
  return suites
}

/**
 * Writes `report` into docs/benchmarks.md between `<!-- name:start -->` and `<!-- name:end -->`; when the markers
 * are absent, `place(current, block)` puts the block (the markers around the report) into the file.
 */
export const writeBetweenMarkers = (name: string, report: string, place: (current: string, block: string) => string): void => {
  const target = fileURLToPath(new URL('../../../docs/benchmarks.md', import.meta.url))
  const start = `<!-- ${name}:start -->`
  const end = `<!-- ${name}:end -->`
  const current = existsSync(target) ? readFileSync(target, 'utf8') : '# Benchmarks\n'
  const from = current.indexOf(start)
  const to = current.indexOf(end)
  const next =
    from >= 0 && to > from ? `${current.slice(0, from + start.length)}\n${report}\n${current.slice(to)}` : place(current, `${start}\n${report}\n${end}\n`)
  writeFileSync(target, next)
  process.stderr.write(`wrote ${target}\n`)
}
