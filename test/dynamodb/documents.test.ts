import type { DocStore } from '../projections/documentsSuite.js'
import { documentSuite } from '../projections/documentsSuite.js'
import { dynaliteForFile, freshStore } from './server.js'

// The document projection suite on DynamoDB (dynalite): one conditional write per document and commit, no
// transaction (dynalite implements none). Few fuzz runs: each builds a store and projects twice at ~150 writes/s.

const db = dynaliteForFile()

documentSuite('DynamoDB (dynalite)', async () => (await freshStore(db())) as unknown as DocStore, 10, 'conditional')
