import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import type { Decider } from 'aett/decider'
import { deciderRepository, jsonState, withStateVersion, type StateAt } from 'aett/domain'
import { checkHistory, defineEvent, topicMap, type DomainEvent, type EventOf, type FieldsOf, type HistoryReport } from 'aett/eventstore'
import { memoryStore } from 'aett/memory'

// ----- release 1: the events as they were first shipped (their bodies are in the store for good) -----

export const ItemListedV1 = defineEvent('ItemListed', { sku: t.string, price: t.number })
export const AddressChanged = defineEvent('AddressChanged', { street: t.string, city: t.string })
export const PriceChangedV1 = defineEvent('PriceChanged', { sku: t.string, price: t.number })
export const release1 = topicMap(ItemListedV1, AddressChanged, PriceChangedV1)

// ----- 1. an optional field: no new version -----
// A body without `note` decodes with `note: undefined`, and readers that do not know `note` keep it.
const v1 = { sku: t.string, price: t.number, note: t.union([t.string, t.undefined]) }

// ----- 2. a required field with a default: version 2, with a typed step from version 1 -----
const v2 = { ...v1, currency: t.string }
const addCurrency = (e: DomainEvent<'ProductListed', FieldsOf<typeof v1>>): FieldsOf<typeof v2> => ({
  sku: e.sku,
  price: e.price,
  note: e.note,
  currency: 'EUR', // everything listed before version 2 was priced in euros
})

// ----- 4. a rename: the current topic, and the names it had before -----
export const ProductListed = defineEvent('ProductListed', v1).nextVersion(v2, addCurrency).renamedFrom('ItemListed')
export type ProductListed = EventOf<typeof ProductListed>

// ----- 3. a split: one old event becomes two new ones -----
// Stored events keep their count (a commit's revisions are fixed), so the old event stays readable as it is and is
// no longer written; `evolve` reads it as the two events that replace it.
export const StreetChanged = defineEvent('StreetChanged', { street: t.string })
export const CityChanged = defineEvent('CityChanged', { city: t.string })
export type AddressChanged = EventOf<typeof AddressChanged>
export type StreetChanged = EventOf<typeof StreetChanged>
export type CityChanged = EventOf<typeof CityChanged>
const split = ({ street, city, ...meta }: AddressChanged): readonly [StreetChanged, CityChanged] => [
  { ...meta, type: 'StreetChanged', street },
  { ...meta, type: 'CityChanged', city },
]

// ----- blue/green: version 2 of PriceChanged, written as version 1 while release-1 readers still run -----
const money = t.type({ amount: t.number, currency: t.string })
export const PriceChanged = defineEvent('PriceChanged', { sku: t.string, price: t.number }).nextVersion(
  { sku: t.string, price: money },
  (e) => ({ sku: e.sku, price: { amount: e.price, currency: 'EUR' } }),
)
export type PriceChanged = EventOf<typeof PriceChanged>
const PriceChangedForOldReaders = PriceChanged.writeVersion(1, (e) => ({ sku: e.sku, price: e.price.amount }))

// ----- release 2: one topic map reads every version of every event -----

export type ShopEvent = ProductListed | StreetChanged | CityChanged | AddressChanged | PriceChanged
export const release2 = topicMap(ProductListed, StreetChanged, CityChanged, AddressChanged, PriceChangedForOldReaders)

export interface Shop {
  readonly products: readonly { readonly sku: string; readonly price: number; readonly currency: string }[]
  readonly street: string
  readonly city: string
}

const evolve = (s: Shop, e: ShopEvent): Shop => {
  switch (e.type) {
    case 'ProductListed':
      return { ...s, products: [...s.products, { sku: e.sku, price: e.price, currency: e.currency }] }
    case 'PriceChanged':
      return { ...s, products: s.products.map((p) => (p.sku === e.sku ? { ...p, price: e.price.amount, currency: e.price.currency } : p)) }
    case 'StreetChanged':
      return { ...s, street: e.street }
    case 'CityChanged':
      return { ...s, city: e.city }
    case 'AddressChanged':
      return split(e).reduce(evolve, s)
  }
}

type Command = { readonly kind: 'list'; readonly sku: string; readonly price: number } | { readonly kind: 'move'; readonly city: string }

export const shop: Decider<Command, Shop, ShopEvent, never> = {
  initialState: { products: [], street: '', city: '' },
  evolve,
  decide: (c) => {
    const timestamp = new Date('2026-06-01T09:00:00.000Z')
    return E.right(
      c.kind === 'list'
        ? [ProductListed.create({ timestamp, sku: c.sku, price: c.price, note: undefined, currency: 'CHF' })]
        : [CityChanged.create({ timestamp, city: c.city })],
    )
  },
}

export async function main() {
  const store = memoryStore()
  const timestamp = new Date('2026-01-01T09:00:00.000Z')

  // Release 1 stored these (an old deployment's repository wrote them; no schema header: version 1).
  const old = [
    ItemListedV1.create({ id: 'shop-1', version: 1, timestamp, sku: 'tea', price: 4 }),
    AddressChanged.create({ id: 'shop-1', version: 2, timestamp, street: 'Main St 1', city: 'Basel' }),
    PriceChangedV1.create({ id: 'shop-1', version: 3, timestamp, sku: 'tea', price: 5 }),
  ]
  await store.commit({
    tenantId: 'default',
    streamId: 'shop-1',
    streamRevision: 3,
    commitId: crypto.randomUUID(),
    commitSequence: 1,
    commitStamp: timestamp,
    headers: {},
    events: old.map((e) => release1.encodeMessage(e)),
  })

  // Release 2 reads them in their current shapes, and writes current events beside them.
  const stateCodec = withStateVersion(2, jsonState<Shop>()) // the state's shape changed too: old snapshots are ignored
  const shops = deciderRepository({ decider: shop, topics: release2, store, stateCodec })
  await shops.handle('shop-1', { kind: 'list', sku: 'cake', price: 6 })()
  await shops.handle('shop-1', { kind: 'move', city: 'Zurich' })()
  const loaded = await shops.load('shop-1')()

  // Price changes are still written as version 1 (blue/green): release-1 readers can read them.
  const blue = release2.encodeMessage(PriceChanged.create({ id: 'shop-1', version: 6, timestamp, sku: 'tea', price: { amount: 7, currency: 'EUR' } }))
  const readByRelease1 = release1.decodeMessage(JSON.parse(JSON.stringify(blue)))

  // Before deploying, check that every stored event decodes through the new topic map.
  const report = await checkHistory(store, release2)
  const history = E.map((r: HistoryReport) => ({
    events: r.events,
    failed: r.failed,
    versions: Object.fromEntries(Object.values(r.topics).map((topic) => [topic.topic, Object.keys(topic.versions)])),
  }))(report)

  return { state: E.map((s: StateAt<Shop>) => s.state)(loaded), blue, readByRelease1, history }
}
