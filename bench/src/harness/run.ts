import { summarize } from './stats.js'
import type { Contender, Library, Sample, Scenario, ScenarioResult, Suite, SuiteResult } from './types.js'

export interface RunOptions {
  /** Untimed rounds before the timed ones: JIT, prepared statements, page cache. */
  readonly warmup: number
  readonly rounds: number
  /** Progress lines (stderr in the CLI, silent in tests). */
  readonly log: (line: string) => void
  /** Only scenarios whose id contains this text (for a quick look at one number). */
  readonly filter?: string
  /** Only these libraries' contenders (to profile one of them alone). */
  readonly libraries?: readonly Library[]
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6

const describe = (e: unknown): string => (e instanceof Error ? (e.stack ?? e.message) : String(e))

/**
 * Rounds are interleaved (A, B, C, then B, C, A, then C, A, B ...): a slow spell of the shared machine, a
 * checkpoint of the WAL or the database's autovacuum then lands on every contender alike instead of on
 * whichever happened to run during it, and no contender always runs first.
 */
const order = (contenders: readonly Contender[], round: number): Contender[] => {
  const n = contenders.length
  return contenders.map((_, i) => contenders[(i + round) % n] as Contender)
}

export const runScenario = async (suite: string, scenario: Scenario, options: RunOptions): Promise<ScenarioResult> => {
  const timings = new Map<Contender, number[]>(scenario.contenders.map((c) => [c, []]))
  const failed: Partial<Record<Library, string>> = {}
  const base = {
    suite,
    id: scenario.id,
    title: scenario.title,
    unit: scenario.unit,
    operations: scenario.operations,
    missing: scenario.missing ?? {},
    failed,
  }
  const samples = (): Sample[] =>
    scenario.contenders.map((c) => ({
      library: c.library,
      ...(c.via === undefined ? {} : { via: c.via }),
      millis: timings.get(c) ?? [],
    }))
  try {
    if (scenario.setup !== undefined) {
      const t0 = now()
      await scenario.setup()
      options.log(`  ${scenario.id}: seeded in ${(now() - t0).toFixed(0)} ms`)
    }
    const total = options.warmup + options.rounds
    for (let round = 0; round < total; round++) {
      for (const c of order(scenario.contenders, round)) {
        if (failed[c.library] !== undefined) continue
        const t0 = now()
        try {
          await c.run(round)
        } catch (e) {
          // One library failing (a bug, a busy database) must not hide the others' numbers: it is reported.
          failed[c.library] = `round ${round + 1}: ${e instanceof Error ? e.message : String(e)}`
          options.log(`  ${scenario.id}: ${c.library} FAILED ${describe(e)}`)
          continue
        }
        const elapsed = now() - t0
        if (round >= options.warmup) timings.get(c)?.push(elapsed)
      }
    }
    options.log(
      `  ${scenario.id}: ` +
        scenario.contenders
          .map((c) => `${c.library} ${summarize(timings.get(c) ?? []).median.toFixed(1)} ms`)
          .join(', '),
    )
    return { ...base, samples: samples() }
  } catch (e) {
    options.log(`  ${scenario.id}: FAILED ${describe(e)}`)
    return { ...base, samples: samples(), error: e instanceof Error ? e.message : String(e) }
  }
}

/** Opens a suite, runs its scenarios one after the other, and always closes it (dropping what it created). */
export const runSuite = async (suite: Suite, options: RunOptions): Promise<SuiteResult> => {
  const head = { id: suite.id, title: suite.title, notes: suite.notes }
  options.log(`# ${suite.title}`)
  let opened: Awaited<ReturnType<Suite['open']>>
  try {
    opened = await suite.open()
  } catch (e) {
    await suite.close().catch(() => undefined)
    return { ...head, skipped: `failed to open: ${e instanceof Error ? e.message : String(e)}`, scenarios: [] }
  }
  if ('skipped' in opened) {
    banner(options.log, `SKIPPING ${suite.title}: ${opened.skipped}`)
    await suite.close().catch(() => undefined)
    return { ...head, skipped: opened.skipped, scenarios: [] }
  }
  const results: ScenarioResult[] = []
  try {
    for (const scenario of opened.scenarios) {
      if (options.filter !== undefined && !scenario.id.includes(options.filter)) continue
      const only = options.libraries
      const chosen = only === undefined ? scenario : { ...scenario, contenders: scenario.contenders.filter((c) => only.includes(c.library)) }
      results.push(await runScenario(suite.id, chosen, options))
    }
  } finally {
    await suite.close()
  }
  return { ...head, scenarios: results }
}

/** A message nobody can miss in a scrolling log. */
export const banner = (log: (line: string) => void, message: string): void => {
  const line = '!'.repeat(100)
  log(`${line}\n!! ${message}\n${line}`)
}
