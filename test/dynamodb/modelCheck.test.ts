import { describe, it } from 'vitest'
import { storeModelCheck, storeRoundTripCheck } from '../contract/modelCheck.js'
import { dynaliteForFile, dynaliteHarness } from './server.js'

// Random histories (appends, stale appends, reused commit ids, gaps, reads) compared with a model of SEMANTICS 1-7.
// A few runs only: each one creates and drops its own tables.
const db = dynaliteForFile()
const harness = dynaliteHarness(db)

describe('dynamodb (dynalite): model check', () => {
  it('agrees with the model of SEMANTICS 1-7 on random histories', async () => {
    await storeModelCheck(harness, { numRuns: 5, maxOperations: 30 })
  }, 120_000)

  it('round-trips random commit contents through stream and tenant reads', async () => {
    await storeRoundTripCheck(harness, { numRuns: 5 })
  }, 120_000)
})
