import * as E from 'fp-ts/lib/Either.js'
import type { TopicMap } from '../../eventstore/codec/TopicMap.js'
import type { DomainEvent } from '../../eventstore/codec/defineEvent.js'
import { decodeError, type StreamError } from '../../eventstore/errors.js'
import type { Json } from '../../eventstore/Json.js'
import type { EventStore } from '../../eventstore/ports.js'
import { loadThrough, type CacheableModel } from '../core/cache.js'
import { context, type Context, type RepositoryOptions } from '../core/Context.js'
import { keepEvent } from '../core/Model.js'
import type { RepositoryError } from '../errors.js'
import { undispatchedHeaders } from '../sagaHeaders.js'
import { internals, type SagaInternals } from './internals.js'
import { unwrap, type SaveOptions, type SaveResult } from './results.js'
import { loadedInstance, replayToHead, saveInstance } from './saveInstance.js'

/** What the repository needs of a saga instance (every `Saga` subclass is one). */
export interface SagaRoot {
  readonly id: string
  readonly version: number
  readonly commitSequence: number
  readonly [internals]: SagaInternals
}

/** A saga class: constructed from its id. */
export type SagaType<S extends SagaRoot> = new (id: string) => S

/**
 * The repository machinery's view of a saga class. Replaying drops dispatched commands (see `Saga`). A saga has
 * no memento, so a cache keeps its events and replays them into a new instance each time (no read, no decode).
 */
export const sagaModel = <S extends SagaRoot, Ev extends DomainEvent>(type: SagaType<S>): CacheableModel<S, Ev> => ({
  initial: (id) => new type(id),
  evolve: (saga, event) => {
    saga[internals].replay(event)
    return saga
  },
  handles: (saga, event) => saga[internals].handles(event),
  // Sagas are rebuilt from their events; a snapshot of one is refused rather than misread.
  restore: (snapshot) => E.left(decodeError('Saga', [{ path: 'Saga', expected: 'no snapshot', actual: snapshot.streamRevision }])),
  capture: () => null,
  stamp: keepEvent,
  keeping: {
    owner: type,
    history: true,
    picture: (_saga, before, events) => ({ kept: [...((before as readonly Ev[] | undefined) ?? []), ...events] }),
    give: (kept, stream) => {
      const saga = new type(stream.streamId)
      const inner = saga[internals]
      for (const e of kept as readonly Ev[]) inner.replay(e)
      inner.committed(stream.streamRevision, stream.commitSequence)
      return E.right(saga)
    },
  },
})

/** The class face's operations with failures as values; `SagaRepository` throws them instead. */
export interface SagaOperations {
  get<S extends SagaRoot>(type: SagaType<S>, id: string): Promise<E.Either<StreamError, S>>
  save(saga: SagaRoot, options?: SaveOptions): Promise<E.Either<RepositoryError, SaveResult>>
}

const operations = <Ev extends DomainEvent>(ctx: Context<Ev>): SagaOperations => ({
  get: async (type, id) => {
    // Sagas are never snapshotted by this repository, so `load` replays from the first event.
    return loadedInstance(await loadThrough(ctx, sagaModel(type), id))
  },
  save: async (saga, options = {}) => {
    const model = sagaModel<SagaRoot, Ev>(saga.constructor as SagaType<SagaRoot>)
    const inner = saga[internals]
    // Commands travel with the commit that produced them (SEMANTICS 21); saving clears them.
    const headers = { ...inner.headers, ...options.headers, ...undispatchedHeaders(inner.commands as readonly Json[]) }
    const request = { headers, commitId: options.commitId, expectedVersion: options.expectedVersion }
    // After `AlreadyCommitted` the saga replays what it had not seen (sagas are never snapshotted, see `sagaModel`).
    return saveInstance(ctx, model, saga, request, { snapshot: false, toHead: replayToHead(ctx, model) })
  },
})

/**
 * Loads and saves `Saga` subclasses. A saga's queued commands are stored as `UndispatchedMessage.<n>` headers
 * of its commit; loading replays its events without queuing them again.
 */
export class SagaRepository<Ev extends DomainEvent> {
  readonly either: SagaOperations

  constructor(store: EventStore, topics: TopicMap<Ev>, options: RepositoryOptions<Ev> = {}) {
    this.either = operations(context(store, topics, options))
  }

  async get<S extends SagaRoot>(type: SagaType<S>, id: string): Promise<S> {
    return unwrap(await this.either.get(type, id))
  }

  async save(saga: SagaRoot, options: SaveOptions = {}): Promise<SaveResult> {
    return unwrap(await this.either.save(saga, options))
  }
}
