import { describe } from 'vitest'
import { storeProperties } from 'aett/testing/contract'
import { dynaliteForFile, dynaliteHarness } from './server.js'

// Random histories (appends, stale appends, reused commit ids, gaps, reads) compared with a model of SEMANTICS 1-7.
// A few runs only: each one creates and drops its own tables.
const db = dynaliteForFile()
const harness = dynaliteHarness(db)

describe('dynamodb (dynalite): model check', () => {
  storeProperties(harness, { model: 5, roundTrip: 5, maxOperations: 30, timeout: 120_000 })
})
