import * as t from 'io-ts'
import type { SagaDefinition } from 'aett/decider'
import { defineEvent, topicMap, type EventOf } from 'aett/eventstore'
import { Deposited, Withdrawn, type AccountCommand } from './account.js'

/** A transfer was asked for (by an API, say); its `id` is the transfer id. */
export const TransferRequested = defineEvent('TransferRequested', { from: t.string, to: t.string, amount: t.number })
export type TransferRequested = EventOf<typeof TransferRequested>

/** The events the saga follows: the request, then the moves it caused on the two accounts. */
export type TransferEvent = TransferRequested | EventOf<typeof Withdrawn> | EventOf<typeof Deposited>
export const transferTopics = topicMap(TransferRequested, Withdrawn, Deposited)

export interface TransferState {
  readonly status: 'new' | 'withdrawing' | 'depositing' | 'done'
  readonly request: { readonly transferId: string; readonly from: string; readonly to: string; readonly amount: number } | null
}

/** The saga's stream id for a transfer. */
export const transferSagaId = (transferId: string): string => `transfer-${transferId}`

/**
 * The transfer as a process manager: withdraw from the payer first, and only once that is stored deposit to the
 * payee, so that a refused withdrawal never creates money. `react` sees the state after the event.
 */
export const transferSaga: SagaDefinition<TransferState, TransferEvent, AccountCommand> = {
  initialState: { status: 'new', request: null },
  evolve: (s, e) => {
    switch (e.type) {
      case 'TransferRequested':
        return { status: 'withdrawing', request: { transferId: e.id, from: e.from, to: e.to, amount: e.amount } }
      case 'Withdrawn':
        return { ...s, status: 'depositing' }
      case 'Deposited':
        return { ...s, status: 'done' }
    }
  },
  react: (s, e) => {
    const r = s.request
    if (r === null) return []
    const at = e.timestamp.toISOString()
    switch (e.type) {
      case 'TransferRequested':
        return [{ kind: 'withdraw', accountId: r.from, amount: r.amount, at, transferId: r.transferId }]
      case 'Withdrawn':
        return [{ kind: 'deposit', accountId: r.to, amount: r.amount, at, transferId: r.transferId }]
      case 'Deposited':
        return []
    }
  },
}
