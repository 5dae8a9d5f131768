import { subscriptionContract } from 'aett/testing/contract'
import type { DynamoDbStore } from '../../src/dynamodb/index.js'
import { disposeStore, dynaliteForFile, freshStore, reopenStore } from './server.js'

// The shared subscription contract (the SubscriptionStore port and the runtime on it) against DynamoDB, on
// dynalite. The second and third instances of the multi-instance cases run on another store object (another
// client's view of the same tables), as another process would.
const db = dynaliteForFile()
subscriptionContract({
  name: 'dynamodb (dynalite)',
  create: () => freshStore(db()),
  dispose: disposeStore,
  reopen: async (store) => reopenStore(db(), store as DynamoDbStore),
  // dynalite appends about 50 commits a second here: a backlog of 800 (8 batches) keeps the flat-memory case to
  // about 15 s instead of 40.
  scale: { backlog: 800 },
  onFigure: (figure, value, unit) => console.log(`figure: ${figure} = ${value} ${unit}`),
})
