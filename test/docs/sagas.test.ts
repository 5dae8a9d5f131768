import { describe, expect, it } from 'vitest'
import { delivery, main } from '../../docs/examples/sagas.js'
import { docsPage, exampleCode } from './pages.js'

describe('docs/sagas.md example', () => {
  it('sends a debit, then a credit, and rebuilds without sending again', async () => {
    const at = new Date('2026-03-02T10:00:00.000Z')
    const r = await main()
    expect(r.afterRequest).toEqual([{ accountId: 'acc-1', command: { kind: 'withdraw', amount: 25, at } }])
    expect(r.afterDebit).toEqual([{ accountId: 'acc-2', command: { kind: 'deposit', amount: 25, at } }])
    expect(r.afterCredit).toEqual([])
    expect(r.finalStep).toBe('completed')
    expect(r.rebuiltStep).toBe('completed')
  })

  it('delivers the commands through a dispatcher and feeds the events back through a router, once each in effect', async () => {
    const r = await delivery()
    // then: the withdrawal and the deposit were delivered, and delivering both again wrote nothing
    expect(r.answers).toEqual(['Appended', 'Appended', 'AlreadyCommitted', 'AlreadyCommitted'])
    // and the saga saw both moves, the money moved once, and the dispatcher's checkpoint is at the log's head
    expect(r.step).toBe('completed')
    expect(r.balances).toEqual([75, 25])
    expect(r.position).toBe(8)
  })

  it('is shown whole in docs/sagas.md, so the page cannot drift from the code that runs', () => {
    expect(docsPage('sagas.md')).toContain(exampleCode('sagas.ts'))
  })
})
