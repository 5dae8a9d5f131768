import * as t from 'io-ts'
import { replaySaga, runSaga, type SagaDefinition } from 'aett/decider'
import { defineEvent, type EventOf } from 'aett/eventstore'
import type { AccountCommand } from './deciders.js'
import { Deposited, Withdrawn } from './events.js'

// ----- a transfer between two accounts, as a process manager -----

export const TransferRequested = defineEvent('TransferRequested', { from: t.string, to: t.string, amount: t.number })
export type TransferRequested = EventOf<typeof TransferRequested>

/** What the saga follows: the request, and the account events tagged with the transfer's correlation id. */
export type TransferEvent = TransferRequested | Withdrawn | Deposited

/** Commands for the account decider, addressed to one account. */
export interface Addressed {
  readonly accountId: string
  readonly command: AccountCommand
}

export interface Transfer {
  readonly step: 'idle' | 'debiting' | 'crediting' | 'completed'
  readonly from: string
  readonly to: string
  readonly amount: number
}

export const transfer: SagaDefinition<Transfer, TransferEvent, Addressed> = {
  initialState: { step: 'idle', from: '', to: '', amount: 0 },
  evolve: (s, e) => {
    switch (e.type) {
      case 'TransferRequested':
        return { step: 'debiting', from: e.from, to: e.to, amount: e.amount }
      case 'Withdrawn':
        return s.step === 'debiting' ? { ...s, step: 'crediting' } : s
      case 'Deposited':
        return s.step === 'crediting' ? { ...s, step: 'completed' } : s
    }
  },
  // react sees the state after the event, so the amount and accounts are known here
  react: (s, e) => {
    switch (e.type) {
      case 'TransferRequested':
        return [{ accountId: s.from, command: { kind: 'withdraw', amount: s.amount, at: e.timestamp } }]
      case 'Withdrawn':
        return s.step === 'crediting' ? [{ accountId: s.to, command: { kind: 'deposit', amount: s.amount, at: e.timestamp } }] : []
      case 'Deposited':
        return []
    }
  },
}

export async function main() {
  const timestamp = new Date('2026-03-02T10:00:00.000Z')
  const meta = { version: 1, timestamp, correlationId: 'transfer-7' }
  const requested = TransferRequested.create({ ...meta, id: 'transfer-7', from: 'acc-1', to: 'acc-2', amount: 25 })
  const debited = Withdrawn.create({ ...meta, id: 'acc-1', amount: 25 })
  const credited = Deposited.create({ ...meta, id: 'acc-2', amount: 25 })

  // Step by step: each event may trigger commands.
  const first = runSaga(transfer, transfer.initialState, [requested])
  const second = runSaga(transfer, first.state, [debited])
  const third = runSaga(transfer, second.state, [credited])

  // After a restart: rebuild the state from history without sending anything again.
  const rebuilt = replaySaga(transfer, [requested, debited, credited])

  return {
    afterRequest: first.commands,
    afterDebit: second.commands,
    afterCredit: third.commands,
    finalStep: third.state.step,
    rebuiltStep: rebuilt.step,
  }
}
