import { runSuite, type RunOptions } from './harness/run.js'
import type { Suite, SuiteResult } from './harness/types.js'
import type { Sizes } from './sizes.js'
import { sqliteSuite } from './suites/sqlite.js'

export type SuiteName = 'sqlite' | 'postgres' | 'mysql' | 'dynamodb'

export const suiteNames: readonly SuiteName[] = ['sqlite', 'postgres', 'mysql', 'dynamodb']

export interface BenchOptions extends RunOptions {
  readonly sizes: Sizes
  readonly suites?: readonly SuiteName[]
}

const suitesFor = async (name: SuiteName, sizes: Sizes): Promise<Suite[]> => {
  switch (name) {
    case 'sqlite':
      return [sqliteSuite(sizes, 'FULL'), sqliteSuite(sizes, 'NORMAL')]
    case 'postgres':
      return [(await import('./suites/postgres.js')).postgresSuite(sizes)]
    case 'mysql':
      return [(await import('./suites/mysql.js')).mysqlSuite(sizes)]
    case 'dynamodb':
      return [(await import('./suites/dynamodb.js')).dynamodbSuite(sizes)]
  }
}

/** Runs the chosen suites one after the other (never in parallel: they would measure each other). */
export const runBench = async (options: BenchOptions): Promise<SuiteResult[]> => {
  const results: SuiteResult[] = []
  for (const name of options.suites ?? suiteNames) {
    for (const suite of await suitesFor(name, options.sizes)) results.push(await runSuite(suite, options))
  }
  return results
}

export { markdown, table } from './harness/report.js'
export { machine } from './harness/machine.js'
export { sizes } from './sizes.js'
export { EMMETT_MISSING } from './emmett/load.js'
export type { ScenarioResult, SuiteResult } from './harness/types.js'
