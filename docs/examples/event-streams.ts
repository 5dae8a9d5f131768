import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { addEvent, commitStream, emptyStream, EventStream, setHeader } from 'aett/eventstore'
import { MemoryStore } from 'aett/memory'

export async function main() {
  const store = new MemoryStore()
  const at = new Date('2026-03-01T09:00:00.000Z')
  const options = { clock: () => at }

  // ----- the class shell: create, add events, set headers, commit -----
  const order = EventStream.create(store, 'default', 'order-1', options)
  order.add({ type: 'OrderPlaced', total: 30 }, { 'trace.id': 't-1' }).setHeader('user.id', 'ann')
  const placed = await order.commitChanges()
  const first = E.isRight(placed) && O.isSome(placed.right) ? placed.right.value : undefined

  // ----- two writers on the same head: the second catches up and commits again -----
  const alice = await EventStream.open(store, 'default', 'order-1', {}, options)
  const bob = await EventStream.open(store, 'default', 'order-1', {}, options)
  if (E.isLeft(alice) || E.isLeft(bob)) return { error: 'could not open' }
  await alice.right.add({ type: 'ItemAdded', sku: 'A' }).commitChanges()
  const conflict = await bob.right.add({ type: 'ItemAdded', sku: 'B' }).commitChanges()
  const bobCaughtUp = { revision: bob.right.streamRevision, pending: bob.right.uncommittedEvents.length }
  const retried = await bob.right.commitChanges()

  // ----- a max revision inside a commit gives a partial stream, which refuses to commit -----
  const upTo1 = await EventStream.open(store, 'default', 'order-1', { maxRevision: 1 })
  const twoAtOnce = EventStream.create(store, 'default', 'order-2')
  await twoAtOnce.add({ type: 'OrderPlaced', total: 5 }).add({ type: 'ItemAdded', sku: 'C' }).commitChanges()
  const cut = await EventStream.open(store, 'default', 'order-2', { maxRevision: 1 })
  const refused = E.isRight(cut) ? await cut.right.add({ type: 'ItemAdded', sku: 'D' }).commitChanges() : cut

  // ----- opening above revision 0 where nothing is: StreamNotFound -----
  const missing = await EventStream.open(store, 'default', 'order-404', { minRevision: 1 })

  // ----- the functional core: immutable states and plain functions -----
  const state = setHeader(addEvent(emptyStream('default', 'order-3'), { type: 'OrderPlaced', total: 1 }), 'user.id', 'bo')
  const step = await commitStream(store, state, 'commit-order-3', options)

  return {
    first: first && { revision: first.streamRevision, sequence: first.commitSequence, headers: first.headers },
    conflict: E.isLeft(conflict) ? conflict.left._tag : 'none',
    bobCaughtUp,
    retried: E.isRight(retried) && O.isSome(retried.right) ? retried.right.value.streamRevision : 0,
    upTo1Partial: E.isRight(upTo1) && upTo1.right.isPartial,
    refused: E.isLeft(refused) ? refused.left._tag : 'committed',
    missing: E.isLeft(missing) ? missing.left._tag : 'found',
    functional: { revision: step.state.streamRevision, pendingBefore: state.pendingEvents.length, ok: E.isRight(step.result) },
  }
}
