import { storeContract } from 'aett/testing/contract'
import { dynaliteForFile, dynaliteHarness } from './server.js'

// The shared event store contract (SEMANTICS 1-15) against DynamoDB, emulated in process by dynalite.
const db = dynaliteForFile()
storeContract(dynaliteHarness(db))
