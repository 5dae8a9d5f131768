import * as E from 'fp-ts/lib/Either.js'
import { byCorrelationId, dispatchCommands, routeEvents, sagaFeed, type Dispatcher, type Router } from 'aett/sagas'
import type { InvalidArgument } from 'aett/eventstore'
import type { SubscribableStore } from 'aett/subscriptions'
import { AccountCommand } from './account.js'
import { transferSagaId, transferTopics } from './transfer.js'
import type { Bank } from './wiring.js'

/** One thing the dispatcher or the router did, for the transcript: where it came from and what it gave. */
export interface Step {
  readonly kind: 'command' | 'event'
  /** The checkpoint token of the commit that carried the command or the event, and its place in that commit. */
  readonly token: number
  readonly index: number
  readonly what: string
  readonly outcome: { readonly _tag: string; readonly revision?: number; readonly checkpoint?: number; readonly commands?: readonly AccountCommand[] }
}

/** The two subscriptions, running. */
export interface Running {
  readonly dispatcher: Dispatcher<unknown>
  readonly router: Router<unknown>
}

/**
 * The bank's saga plumbing, two subscriptions on the store's log:
 * - the dispatcher hands each command a transfer saga stored in its commit to the account command handler, under
 *   the commit id its key gives, so that a redelivery is `AlreadyCommitted`;
 * - the router feeds the moves those commands caused (tagged with the transfer's id as `correlationId`) back to
 *   that transfer's saga, under a commit id derived from the event, so that a redelivery is `AlreadyCommitted`.
 */
export const delivery = (
  { accounts, transfers }: Bank,
  store: SubscribableStore,
  from: number,
  report: (step: Step) => void,
): E.Either<InvalidArgument, Running> => {
  const common = { store, start: { token: from }, pollMs: 50 } as const
  const dispatcher = dispatchCommands({
    ...common,
    name: 'bank-dispatcher',
    commands: AccountCommand,
    handler: async ({ command, commitId, commit, index }) => {
      const handled = await accounts.handle(command.accountId, command, { commitId })()
      // A refusal is an answer of the domain, not a failed delivery: the command is delivered.
      if (E.isLeft(handled) && handled.left._tag !== 'Rejected') return handled
      const outcome = E.isRight(handled) ? handled.right : handled.left
      const what = `${command.kind} ${command.kind === 'open' ? command.owner : command.amount} to ${command.accountId}`
      report({ kind: 'command', token: commit.checkpointToken, index, what, outcome })
      return E.right(undefined)
    },
  })
  const feed = sagaFeed(transfers)
  const router = routeEvents({
    ...common,
    name: 'bank-router',
    topics: transferTopics,
    to: byCorrelationId(transferSagaId),
    feed: async (sagaId, routed, context) => {
      const fed = await feed(sagaId, routed, context)
      if (E.isRight(fed)) {
        const what = `${routed.event.type} ${routed.commit.streamId} r${routed.revision} to ${sagaId}`
        report({ kind: 'event', token: routed.commit.checkpointToken, index: routed.revision, what, outcome: fed.right })
      }
      return fed
    },
  })
  if (E.isLeft(dispatcher)) return dispatcher
  if (E.isLeft(router)) {
    void dispatcher.right.stop()
    return router
  }
  return E.right({ dispatcher: dispatcher.right, router: router.right })
}
