import type { StoreHarness } from './harness.js'
import { checkpointsContract } from './checkpoints.js'
import { concurrencyContract } from './concurrency.js'
import { errorsContract } from './errors.js'
import { isolationContract } from './isolation.js'
import { managementContract } from './management.js'
import { numbersContract } from './numbers.js'
import { payloadsContract } from './payloads.js'
import { readsContract } from './reads.js'
import { snapshotsContract } from './snapshots.js'

/**
 * The event store contract (SEMANTICS 1-15) as vitest suites. A store's spec file is a harness and one call:
 *
 *   storeContract({ name: 'sqlite', create: ..., dispose: ... })
 *
 * Every test name starts with the rule it proves, so a failure reads as the rule that was broken. Each topic
 * gets stores of its own from the harness, and each test works in fresh tenants and streams.
 */
export const storeContract = (harness: StoreHarness): void => {
  numbersContract(harness)
  readsContract(harness)
  checkpointsContract(harness)
  snapshotsContract(harness)
  managementContract(harness)
  isolationContract(harness)
  payloadsContract(harness)
  errorsContract(harness)
  concurrencyContract(harness)
}

export type { StoreHarness } from './harness.js'
