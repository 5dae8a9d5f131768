import { storeContract } from '../contract/storeContract.js'
import { dynaliteForFile, dynaliteHarness } from './server.js'

// The shared event store contract (SEMANTICS 1-15) against DynamoDB, emulated in process by dynalite.
const db = dynaliteForFile()
storeContract(dynaliteHarness(db))
