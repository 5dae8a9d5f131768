import * as E from 'fp-ts/lib/Either.js'
import {
  AggregateRepository,
  commitIdFrom,
  conflictDetector,
  deciderRepository,
  sagaRepository,
  type EventStore,
  type HandleOutcome,
  type Rejected,
  type RepositoryError,
} from 'aett/domain'
import { decodeError, toIssues, type DecodeError, type Json } from 'aett/eventstore'
import { account, AccountCommand, accountTopics, type AccountEvent, type AccountRefusal, type AccountState } from './account.js'
import { transferSaga, transferSagaId, transferTopics } from './transfer.js'

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

/** What delivering one command did; a refusal is an answer of the domain, not a failure of the delivery. */
export interface Delivery {
  readonly command: AccountCommand
  readonly result: HandleOutcome<AccountState, AccountEvent> | Rejected<AccountRefusal>
}

/**
 * Delivers a command read from a commit header to the account command handler, then feeds the moves it caused
 * (events carrying a transfer id) back to that transfer's saga, under derived commit ids so that a repeat is a no-op.
 */
export const deliverTo =
  ({ accounts, transfers }: Bank) =>
  async (message: Json, commitId: string): Promise<E.Either<DecodeError | RepositoryError, Delivery>> => {
    const decoded = AccountCommand.decode(message)
    if (E.isLeft(decoded)) return E.left(decodeError('AccountCommand', toIssues(decoded.left)))
    const command = decoded.right
    const handled = await accounts.handle(command.accountId, command, { commitId })()
    if (E.isLeft(handled)) return handled.left._tag === 'Rejected' ? E.right({ command, result: handled.left }) : E.left(handled.left)
    for (const [n, event] of (handled.right._tag === 'Appended' ? handled.right.events : []).entries()) {
      if (event.type === 'AccountOpened' || event.correlationId === undefined) continue
      const fed = await transfers.handle(transferSagaId(event.correlationId), event, { commitId: commitIdFrom(`${commitId}/${n}`) })()
      if (E.isLeft(fed)) return fed
    }
    return E.right({ command, result: handled.right })
  }
