import { it } from 'vitest'
import type { StoreHarness } from './harness.js'
import { storeModelCheck, storeRoundTripCheck } from './modelCheck.js'

export interface PropertyRuns {
  /** Random histories compared with the model. */
  readonly model: number
  /** Random commits written and read back. */
  readonly roundTrip: number
  /** The longest history tried. */
  readonly maxOperations: number
  /** Per test: every run creates (and disposes) a store of its own. */
  readonly timeout: number
}

/**
 * The two property checks of `modelCheck.ts` as vitest tests, for a store's spec file next to `storeContract`.
 * Run counts are per store: a server round trip costs far more than a call into memory.
 */
export const storeProperties = (harness: StoreHarness, runs: PropertyRuns): void => {
  it('SEMANTICS 1-7: random histories agree with the model', async () => {
    await storeModelCheck(harness, { numRuns: runs.model, maxOperations: runs.maxOperations })
  }, runs.timeout)

  it('SEMANTICS 14: random commits round-trip exactly', async () => {
    await storeRoundTripCheck(harness, { numRuns: runs.roundTrip })
  }, runs.timeout)
}
