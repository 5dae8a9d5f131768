import { AggregateRepository, conflictDetector, deciderRepository, sagaRepository, type EventStore } from 'aett/domain'
import { account, accountTopics, type AccountEvent } from './account.js'
import { transferSaga, transferTopics } from './transfer.js'

/**
 * Which concurrent changes may be rebased (SEMANTICS 17). Registered pairs answer with their predicate; an
 * unregistered pair conflicts only when both events share a topic (so a withdrawal after a concurrent deposit is fine).
 */
export const accountConflicts = conflictDetector<AccountEvent>()
  .register('Deposited', 'Deposited', () => false) // deposits commute
  .register('Deposited', 'Withdrawn', () => false) // a deposit never makes another's withdrawal wrong
  .register('Withdrawn', 'Withdrawn', () => true) // two withdrawals may overdraw together: ask the user

/** The bank's repositories over one store: the same account streams through both faces, and the transfer saga. */
export const bank = (store: EventStore) => ({
  accounts: deciderRepository({ decider: account, topics: accountTopics, store, conflictDetector: accountConflicts }),
  classes: new AggregateRepository(store, accountTopics, { conflictDetector: accountConflicts }),
  transfers: sagaRepository({ saga: transferSaga, topics: transferTopics, store }),
})
export type Bank = ReturnType<typeof bank>
