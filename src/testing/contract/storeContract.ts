import { describe, it } from 'vitest'
import type { FuzzOptions, StoreHarness } from './harness.js'
import { boundsContract } from './bounds.js'
import { catalogContract } from './catalog.js'
import { checkpointsContract } from './checkpoints.js'
import { closedContract } from './closed.js'
import { concurrencyContract } from './concurrency.js'
import { errorsContract } from './errors.js'
import { storeFuzz } from './fuzz.js'
import { idsContract } from './ids.js'
import { isolationContract } from './isolation.js'
import { latestContract } from './latest.js'
import { managementContract } from './management.js'
import { numbersContract } from './numbers.js'
import { payloadsContract } from './payloads.js'
import { readsContract } from './reads.js'
import { snapshotsContract } from './snapshots.js'
import { valuesContract } from './values.js'

export interface ContractOptions {
  /** Run counts of the fuzz case; the harness's `fuzz` when absent, else 20 runs of up to 12 operations. */
  readonly fuzz?: FuzzOptions
}

/**
 * The event store contract (SEMANTICS 1-15) as vitest suites. A store's spec file is a harness and one call:
 *
 *   storeContract({ name: 'sqlite', create: ..., dispose: ... })
 *
 * Every test name starts with the rule it proves, so a failure reads as the rule that was broken. Each topic
 * gets stores of its own from the harness, and each test works in fresh tenants and streams.
 */
export const storeContract = (harness: StoreHarness, options: ContractOptions = {}): void => {
  // A store of feed shards (`harness.feeds`) runs every topic too: each read of the log is made of every shard.
  numbersContract(harness)
  readsContract(harness)
  boundsContract(harness)
  checkpointsContract(harness)
  snapshotsContract(harness)
  // Optional in a store (`readLatest`): its cases report themselves skipped on a store without it.
  latestContract(harness)
  managementContract(harness)
  catalogContract(harness)
  isolationContract(harness)
  idsContract(harness)
  payloadsContract(harness)
  valuesContract(harness)
  errorsContract(harness)
  closedContract(harness)
  concurrencyContract(harness)
  fuzzContract(harness, options.fuzz ?? harness.fuzz ?? {})
}

/** The fuzz case of `storeFuzz`, as a vitest test. */
export const fuzzContract = (harness: StoreHarness, fuzz: FuzzOptions = {}): void => {
  describe(`${harness.name}: fuzz (SEMANTICS 13-15)`, () => {
    it(
      `SEMANTICS 13-15: arbitrary values, ids and bounds never throw, never read back different from their JSON image, and never reach another tenant or stream (${fuzz.numRuns ?? 20} runs)`,
      async () => {
        await storeFuzz(harness, fuzz)
      },
      fuzz.timeout ?? 120_000,
    )
  })
}

export type { FuzzOptions, StoreHarness } from './harness.js'
