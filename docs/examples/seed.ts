// Each part imports what it uses, so that it can be read (and pasted) on its own; the README shows them in turn.
import * as t from 'io-ts'
import { defineEvent, topicMap, type EventOf } from 'aett/eventstore'

// The seed's event: its own field `value`, plus `id`, `version` and `timestamp` that every domain event has.
export const SampleEvent = defineEvent('SampleEvent', { value: t.number })
export type SampleEvent = EventOf<typeof SampleEvent>
export const topics = topicMap(SampleEvent)

// ----- the class face: the seed's ExampleAggregate and SampleSaga -----

import { Aggregate, Saga, type Handlers, type Memento } from 'aett/domain'

type ExampleMemento = { readonly key: number }

export class ExampleAggregate extends Aggregate<ExampleMemento, SampleEvent> {
  value = 0

  protected readonly handlers: Handlers<SampleEvent> = {
    SampleEvent: (e) => {
      this.value = e.value
    },
  }

  getMemento(): Memento<ExampleMemento> {
    return { id: this.id, version: this.version, payload: { key: this.value } }
  }

  // Reads back the `key` that getMemento wrote, so the round trip is exact (the seed restored the whole payload).
  applyMemento(memento: Memento<ExampleMemento>): void {
    this.value = memento.payload.key
  }

  setValue(value: number): void {
    this.raiseEvent(SampleEvent.create({ id: this.id, version: this.version + 1, timestamp: new Date(), value }))
  }
}

export class SampleSaga extends Saga<SampleEvent> {
  protected readonly handlers: Handlers<SampleEvent> = { SampleEvent: () => {} }
}

// ----- the functional face: the same domain as a decider -----

import * as E from 'fp-ts/lib/Either.js'
import type { Decider } from 'aett/decider'

export type SetValue = { readonly type: 'SetValue'; readonly value: number; readonly at: Date }

export const example: Decider<SetValue, { readonly value: number }, SampleEvent, never> = {
  initialState: { value: 0 },
  evolve: (_, e) => ({ value: e.value }),
  // `id` and `version` are stamped by the repository when the event is appended.
  decide: (c) => E.right([SampleEvent.create({ id: '', version: 0, timestamp: c.at, value: c.value })]),
}

// ----- both faces on the same repositories and store -----

import { AggregateRepository, deciderRepository, SagaRepository } from 'aett/domain'
import { MemoryStore } from 'aett/memory'

export async function main() {
  const store = new MemoryStore()

  // class face: set a value, save, reload, snapshot, reload from the snapshot
  const aggregates = new AggregateRepository(store, topics)
  const a = await aggregates.get(ExampleAggregate, 'example-1')
  a.setValue(42)
  await aggregates.save(a)
  const reloaded = await aggregates.get(ExampleAggregate, 'example-1')
  await aggregates.snapshot(ExampleAggregate, 'example-1')
  const fromSnapshot = await aggregates.get(ExampleAggregate, 'example-1')

  // a saga transitions on an event and dispatches a command that travels with its commit
  const sagas = new SagaRepository(store, topics)
  const saga = await sagas.get(SampleSaga, 'saga-1')
  saga.transition(SampleEvent.create({ id: 'example-1', version: 1, timestamp: new Date(), value: 42 }))
  saga.dispatch({ type: 'Notify', value: 42 })
  await sagas.save(saga)

  // functional face: the same change through a decider
  const values = deciderRepository({ decider: example, topics, store })
  const handled = await values.handle('example-2', { type: 'SetValue', value: 7, at: new Date() })()
  const loaded = await values.load('example-2')()

  return {
    reloaded: { value: reloaded.value, version: reloaded.version },
    fromSnapshot: { value: fromSnapshot.value, version: fromSnapshot.version, memento: fromSnapshot.getMemento() },
    saga: { version: saga.version, commitSequence: saga.commitSequence },
    decider: { outcome: E.isRight(handled) ? handled.right._tag : handled.left._tag, state: E.isRight(loaded) ? loaded.right.state : null },
  }
}
