import * as E from 'fp-ts/lib/Either.js'
import { SpanStatusCode } from '@opentelemetry/api'
import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/observability.js'
import { docsPage, exampleCode } from './pages.js'

describe('docs/observability.md example', () => {
  it('traces commands, the store and a subscription batch linked to the request, and measures them', async () => {
    const r = await main()
    if (E.isLeft(r)) return expect.fail(`the example failed: ${JSON.stringify(r.left)}`)
    // The subscription's own reads of the feed (getFrom, getFromTo) depend on how it polls: not listed whole.
    expect(r.right.spans).toEqual(
      // The memory store loads in one read (readLatest), so a command is a `readLatest` span and a `commit` span.
      expect.arrayContaining(['POST /accounts/acc-1/operations', 'commit memory', 'readLatest memory', 'handle account', 'process balances']),
    )
    expect(r.right).toEqual({
      spans: r.right.spans,
      refused: { status: { code: SpanStatusCode.ERROR, message: 'Rejected' }, rejection: 'InsufficientFunds' },
      linksToRequest: true,
      metrics: ['aett.append.duration', 'aett.command.duration', 'aett.events.read', 'aett.subscription.lag', 'aett.subscription.lag.time'],
    })
  })

  it('is shown whole in docs/observability.md', () => {
    expect(docsPage('observability.md')).toContain(exampleCode('observability.ts'))
  })
})
