import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import type { Decider } from '../../src/decider/index.js'
import { conflictDetector } from '../../src/domain/index.js'
import { defineEvent, topicMap, toArray, type EventOf, type Persistence } from '../../src/eventstore/index.js'

// A counter domain for the cache tests: every event records the count it was decided on (`from`), so a stored
// stream shows whether any decision was taken on a state that missed a commit stored before it.

export const Added = defineEvent('Added', { n: t.number, from: t.number })
export const Reset = defineEvent('Reset', { to: t.number, from: t.number })
export type Added = EventOf<typeof Added>
export type Reset = EventOf<typeof Reset>
export type CounterEvent = Added | Reset
export const topics = topicMap(Added, Reset)

const meta = { id: '', version: 0, timestamp: new Date('2026-12-01T00:00:00.000Z') }

export const LIMIT = 10

export type CounterCommand =
  | { readonly type: 'Add'; readonly n: number; readonly commandId?: string | undefined }
  | { readonly type: 'Reset'; readonly to: number; readonly commandId?: string | undefined }

export interface CounterState {
  readonly count: number
  readonly events: number
}

export type CounterError = { readonly _tag: 'OverLimit'; readonly count: number }

/** Add refuses to pass `LIMIT`; adding 0 is nothing to do; Reset to the current count is nothing to do. */
export const counter: Decider<CounterCommand, CounterState, CounterEvent, CounterError> = {
  initialState: { count: 0, events: 0 },
  evolve: (s, e) => ({ count: e.type === 'Added' ? s.count + e.n : e.to, events: s.events + 1 }),
  decide: (c, s) => {
    switch (c.type) {
      case 'Add':
        if (s.count + c.n > LIMIT) return E.left({ _tag: 'OverLimit', count: s.count })
        return E.right(c.n === 0 ? [] : [Added.create({ ...meta, n: c.n, from: s.count })])
      case 'Reset':
        return E.right(c.to === s.count ? [] : [Reset.create({ ...meta, to: c.to, from: s.count })])
    }
  },
}

/** Every pair of events conflicts, so nothing is ever rebased: each stored event was decided on its exact prefix. */
export const strict = conflictDetector<CounterEvent>()
  .register('Added', 'Reset', () => true)
  .register('Reset', 'Added', () => true)

/** The calls a wrapped store received, by method (`readLatest`: a full load in one call, on stores that have it). */
export type Calls = Record<'get' | 'commit' | 'getSnapshot' | 'addSnapshot' | 'readLatest', number>

/** Full loads: a snapshot look-up, or the one call that answers snapshot and commits together. */
export const fullLoads = (calls: Calls): number => calls.getSnapshot + calls.readLatest

/** A store that counts its calls (reads, commits, snapshot look-ups), every other method as it is. */
export const counted = <S extends Persistence>(store: S): { readonly store: S; readonly calls: Calls; readonly reset: () => void } => {
  const calls: Calls = { get: 0, commit: 0, getSnapshot: 0, addSnapshot: 0, readLatest: 0 }
  const wrapped = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown
      if (typeof value !== 'function') return value
      if (prop in calls) {
        return (...args: unknown[]) => {
          calls[prop as keyof Calls] += 1
          return (value as (...a: unknown[]) => unknown).apply(target, args)
        }
      }
      return (value as (...a: unknown[]) => unknown).bind(target)
    },
  })
  return {
    store: wrapped,
    calls,
    reset: () => {
      for (const k of Object.keys(calls) as (keyof Calls)[]) calls[k] = 0
    },
  }
}

/** The events of a stream as stored, with the revision each commit ends at. */
export const storedOf = async (store: Persistence, tenantId: string, streamId: string) => {
  const r = await toArray(store.get(tenantId, streamId))
  if (E.isLeft(r)) throw new Error(r.left._tag)
  return r.right.map((c) => ({ revision: c.streamRevision, sequence: c.commitSequence, events: c.events.map((m) => m.body) }))
}

/** Whether every stored event was decided on the count its prefix folds to (`from`); the first offender otherwise. */
export const decidedOnPrefix = (commits: readonly { readonly events: readonly unknown[] }[]): string | undefined => {
  let count = 0
  let i = 0
  for (const c of commits) {
    for (const body of c.events) {
      i += 1
      const e = body as { type: string; n?: number; to?: number; from: number }
      if (e.from !== count) return `event ${i} (${e.type}) was decided on ${e.from}, the stream stood at ${count}`
      count = e.type === 'Added' ? count + (e.n ?? 0) : (e.to ?? 0)
    }
  }
  return undefined
}
