import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { dynamoDbStore } from 'aett/dynamodb'
import { toArray, type Commit } from 'aett/eventstore'
import { attemptAfter, deposit, tenantId } from './support.js'

/** `endpoint` points at dynalite or DynamoDB Local; leave it out (and the dummy credentials) for real DynamoDB. */
export async function main(endpoint: string) {
  // The store creates its own client from this configuration and destroys it on close(). On AWS, region and
  // credentials come from the default provider chain (environment, profile, SSO, instance or task role).
  // Nothing is loaded or sent yet: the SDK and the client come with the first call.
  const store = dynamoDbStore({
    clientConfig: { endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } },
    tables: { prefix: 'bank_' }, // bank_commits and bank_snapshots
    billing: { mode: 'PAY_PER_REQUEST' },
  })
  // Creates the tables and their indexes if missing and waits until they are ACTIVE; safe on every start. A bad
  // option is answered here (and by every other call) as a StorageError.
  const ready = await store.initialize()
  if (E.isLeft(ready)) return ready

  const first = await store.commit(attemptAfter(undefined, 'acc-1', [deposit('acc-1', 1, 100)]))
  if (E.isLeft(first)) return first
  const second = await store.commit(attemptAfter(first.right, 'acc-1', [deposit('acc-1', 2, 5)]))
  if (E.isLeft(second)) return second

  // A writer that still believes the head is the first commit loses the conditional put: a conflict that
  // carries what it missed, so it can retry after it.
  const conflict = await store.commit(attemptAfter(first.right, 'acc-1', [deposit('acc-1', 2, 50)]))
  const missed = E.isLeft(conflict) && conflict.left._tag === 'ConcurrencyConflict' ? conflict.left.missed : []
  const retried = await store.commit(attemptAfter(missed[missed.length - 1], 'acc-1', [deposit('acc-1', 3, 50)]))
  await store.addSnapshot({ tenantId, streamId: 'acc-1', streamRevision: 3, commitSequence: 3, payload: { balance: 155 }, headers: {} })

  // A projection reads the global order from its last checkpoint; it never skips a commit still in flight.
  const afterFirst = E.map((cs: Commit[]) => cs.map((c) => c.streamRevision))(await toArray(store.getFrom(first.right.checkpointToken)))
  const revisions = E.map((cs: Commit[]) => cs.map((c) => c.streamRevision))(await toArray(store.get(tenantId, 'acc-1')))
  const snapshot = E.map(O.map((s: { readonly streamRevision: number }) => s.streamRevision))(await store.getSnapshot(tenantId, 'acc-1'))

  await store.drop() // an example cleans up after itself; an application keeps its tables
  await store.close()
  return E.right({
    conflict: E.isLeft(conflict) ? conflict.left._tag : 'none',
    missed: missed.map((c) => c.streamRevision),
    retried: E.isRight(retried) ? retried.right.streamRevision : 'failed',
    revisions,
    afterFirst,
    snapshot,
  })
}
