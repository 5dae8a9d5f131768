import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { main } from '../../docs/examples/versioning.js'
import { docsPage, exampleCode } from './pages.js'

describe('docs/versioning.md example', () => {
  it('reads every stored version in the current shape, writes blue/green, and checks the history', async () => {
    const r = await main()
    expect(r.state).toEqual(
      E.right({
        products: [
          { sku: 'tea', price: 5, currency: 'EUR' },
          { sku: 'cake', price: 6, currency: 'CHF' },
        ],
        street: 'Main St 1',
        city: 'Zurich',
      }),
    )
    expect(r.blue).toEqual({
      body: { type: 'PriceChanged', id: 'shop-1', version: 6, timestamp: '2026-01-01T09:00:00.000Z', sku: 'tea', price: 7 },
      headers: {},
    })
    expect(E.isRight(r.readByRelease1) && r.readByRelease1.right).toMatchObject({ type: 'PriceChanged', sku: 'tea', price: 7 })
    expect(r.history).toEqual(
      E.right({
        events: 5,
        failed: 0,
        versions: { ItemListed: ['1'], AddressChanged: ['1'], PriceChanged: ['1'], ProductListed: ['2'], CityChanged: ['1'] },
      }),
    )
  })

  it('is shown whole in docs/versioning.md, so the page cannot drift from the code that runs', () => {
    expect(docsPage('versioning.md')).toContain(exampleCode('versioning.ts'))
  })
})
