import { describe, expect, it } from 'vitest'
import { replaySaga, runSaga, type SagaDefinition } from '../../src/decider/index.js'

// A transfer between two accounts: debit the source, then credit the target, then finish.
type TransferEvent =
  | { readonly type: 'TransferRequested'; readonly transferId: string; readonly from: string; readonly to: string; readonly amount: number }
  | { readonly type: 'SourceDebited'; readonly transferId: string }
  | { readonly type: 'TargetCredited'; readonly transferId: string }
  | { readonly type: 'DebitRefused'; readonly transferId: string }

type BankCommand =
  | { readonly kind: 'debit'; readonly account: string; readonly amount: number }
  | { readonly kind: 'credit'; readonly account: string; readonly amount: number }
  | { readonly kind: 'notify'; readonly text: string }

interface TransferState {
  readonly step: 'idle' | 'debiting' | 'crediting' | 'done' | 'failed'
  readonly to: string
  readonly amount: number
}

const transfer: SagaDefinition<TransferState, TransferEvent, BankCommand> = {
  initialState: { step: 'idle', to: '', amount: 0 },
  evolve: (s, e) => {
    switch (e.type) {
      case 'TransferRequested':
        return { step: 'debiting', to: e.to, amount: e.amount }
      case 'SourceDebited':
        return { ...s, step: 'crediting' }
      case 'TargetCredited':
        return { ...s, step: 'done' }
      case 'DebitRefused':
        return { ...s, step: 'failed' }
    }
  },
  // react sees the state after the event: the amount and target are already known here
  react: (s, e) => {
    switch (e.type) {
      case 'TransferRequested':
        return [{ kind: 'debit', account: e.from, amount: e.amount }]
      case 'SourceDebited':
        return [{ kind: 'credit', account: s.to, amount: s.amount }]
      case 'TargetCredited':
        return [{ kind: 'notify', text: `transfer ${e.transferId} done` }]
      case 'DebitRefused':
        return []
    }
  },
}

const requested: TransferEvent = { type: 'TransferRequested', transferId: 't-1', from: 'acc-a', to: 'acc-b', amount: 25 }

describe('runSaga', () => {
  it('applies each event and collects the commands it triggers, in order', () => {
    const { state, commands } = runSaga(transfer, transfer.initialState, [
      requested,
      { type: 'SourceDebited', transferId: 't-1' },
      { type: 'TargetCredited', transferId: 't-1' },
    ])
    expect(state.step).toBe('done')
    expect(commands).toEqual([
      { kind: 'debit', account: 'acc-a', amount: 25 },
      { kind: 'credit', account: 'acc-b', amount: 25 },
      { kind: 'notify', text: 'transfer t-1 done' },
    ])
  })

  it('continues from a given state, issuing only the new commands', () => {
    const halfway = replaySaga(transfer, [requested])
    const { state, commands } = runSaga(transfer, halfway, [{ type: 'SourceDebited', transferId: 't-1' }])
    expect(state.step).toBe('crediting')
    expect(commands).toEqual([{ kind: 'credit', account: 'acc-b', amount: 25 }])
  })

  it('with no events leaves the state and sends nothing', () => {
    expect(runSaga(transfer, transfer.initialState, [])).toEqual({ state: transfer.initialState, commands: [] })
  })
})

describe('replaySaga', () => {
  it('rebuilds the state without re-issuing commands', () => {
    let reactions = 0
    const counting: SagaDefinition<TransferState, TransferEvent, BankCommand> = {
      ...transfer,
      react: (s, e) => {
        reactions += 1
        return transfer.react(s, e)
      },
    }
    const state = replaySaga(counting, [requested, { type: 'DebitRefused', transferId: 't-1' }])
    expect(state).toEqual({ step: 'failed', to: 'acc-b', amount: 25 })
    expect(reactions).toBe(0)
  })

  it('reaches the same state as runSaga', () => {
    const events: TransferEvent[] = [requested, { type: 'SourceDebited', transferId: 't-1' }]
    expect(replaySaga(transfer, events)).toEqual(runSaga(transfer, transfer.initialState, events).state)
  })
})
