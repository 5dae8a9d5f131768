import * as E from 'fp-ts/lib/Either.js'
import type { TopicMap } from '../../eventstore/codec/TopicMap.js'
import type { DomainEvent } from '../../eventstore/codec/defineEvent.js'
import type { StreamError } from '../../eventstore/errors.js'
import type { Json } from '../../eventstore/Json.js'
import type { Headers } from '../../eventstore/Json.js'
import type { Snapshot } from '../../eventstore/Snapshot.js'
import type { EventStore } from '../../eventstore/ports.js'
import { loadThrough, type CacheableModel } from '../core/cache.js'
import { context, type Context, type RepositoryOptions } from '../core/Context.js'
import { load, loadAt } from '../core/load.js'
import { stampDomainEvent, type Model } from '../core/Model.js'
import { storeSnapshot } from '../core/snapshot.js'
import type { RepositoryError } from '../errors.js'
import type { Memento } from '../Memento.js'
import { internals, type AggregateInternals } from './internals.js'
import { unwrap, type SaveOptions, type SaveResult } from './results.js'
import { loadedInstance, saveInstance, type ToHead } from './saveInstance.js'

/** What the repository needs of an aggregate instance (every `Aggregate` subclass is one). */
export interface AggregateRoot {
  readonly id: string
  readonly version: number
  readonly commitSequence: number
  getMemento(): Memento<unknown>
  readonly [internals]: AggregateInternals
}

/** An aggregate class: constructed from its id. */
export type AggregateType<A extends AggregateRoot> = new (id: string) => A

/**
 * The repository machinery's view of an aggregate class: the state is the instance itself. A cache keeps its
 * memento payload (cloned, so that later changes to the instance never reach it) and restores a new instance from
 * it each time, as a snapshot would: the memento must picture the aggregate whole.
 */
export const aggregateModel = <A extends AggregateRoot, Ev extends DomainEvent>(type: AggregateType<A>): CacheableModel<A, Ev> => ({
  initial: (id) => new type(id),
  evolve: (aggregate, event) => {
    aggregate[internals].replay(event)
    return aggregate
  },
  handles: (aggregate, event) => aggregate[internals].handles(event),
  restore: (snapshot) => {
    const aggregate = new type(snapshot.streamId)
    const memento = { id: snapshot.streamId, version: snapshot.streamRevision, payload: snapshot.payload }
    return E.map(() => aggregate)(aggregate[internals].restore(memento, snapshot.commitSequence))
  },
  // Memento payloads are stored as they are: keep them plain JSON.
  capture: (aggregate) => aggregate.getMemento().payload as Json,
  stamp: stampDomainEvent,
  keeping: {
    owner: type,
    history: false,
    picture: (aggregate) => ({ kept: structuredClone(aggregate.getMemento().payload) }),
    give: (kept, stream) => {
      const aggregate = new type(stream.streamId)
      const memento = { id: stream.streamId, version: stream.streamRevision, payload: structuredClone(kept) }
      return E.map(() => aggregate)(aggregate[internals].restore(memento, stream.commitSequence))
    },
  },
})

/** The class face's operations with failures as values; `AggregateRepository` throws them instead. */
export interface AggregateOperations {
  get<A extends AggregateRoot>(type: AggregateType<A>, id: string, maxVersion?: number): Promise<E.Either<StreamError, A>>
  getTo<A extends AggregateRoot>(type: AggregateType<A>, id: string, time: Date): Promise<E.Either<StreamError, A>>
  save(aggregate: AggregateRoot, options?: SaveOptions): Promise<E.Either<RepositoryError, SaveResult>>
  snapshot<A extends AggregateRoot>(type: AggregateType<A>, id: string, version?: number, headers?: Headers): Promise<E.Either<StreamError, Snapshot>>
  snapshotAt<A extends AggregateRoot>(type: AggregateType<A>, id: string, time: Date, headers?: Headers): Promise<E.Either<StreamError, Snapshot>>
}

/**
 * After `AlreadyCommitted`: the aggregate takes the state stored at the stream's head, through its memento from a
 * fresh load (from the newest snapshot), whatever its pending events were. The commit id says that change is
 * stored already, so they are dropped; keeping them would store the change a second time on the next save.
 */
const restoreToHead =
  <Ev extends DomainEvent>(ctx: Context<Ev>, model: Model<AggregateRoot, Ev>): ToHead<AggregateRoot> =>
  async (aggregate) => {
    const fresh = await load(ctx, model, aggregate.id)
    if (E.isLeft(fresh)) return fresh
    const { state, stream } = fresh.right
    const memento = { ...state.getMemento(), id: aggregate.id, version: stream.streamRevision }
    return aggregate[internals].restore(memento, stream.commitSequence)
  }

const operations = <Ev extends DomainEvent>(ctx: Context<Ev>): AggregateOperations => {
  return {
    // A load at an explicit version never goes through the cache.
    get: async (type, id, maxVersion) =>
      loadedInstance(maxVersion !== undefined && maxVersion > 0 ? await load(ctx, aggregateModel(type), id, maxVersion) : await loadThrough(ctx, aggregateModel(type), id)),
    getTo: async (type, id, time) => loadedInstance(await loadAt(ctx, aggregateModel(type), id, time)),
    save: async (aggregate, options = {}) => {
      const model = aggregateModel<AggregateRoot, Ev>(aggregate.constructor as AggregateType<AggregateRoot>)
      const request = { headers: options.headers ?? {}, commitId: options.commitId, expectedVersion: options.expectedVersion }
      return saveInstance(ctx, model, aggregate, request, { snapshot: true, toHead: restoreToHead(ctx, model) })
    },
    snapshot: async (type, id, version, headers) => {
      const model = aggregateModel<AggregateRoot, Ev>(type)
      const loaded = await load(ctx, model, id, version)
      return E.isLeft(loaded) ? loaded : storeSnapshot(ctx, model, loaded.right, headers)
    },
    snapshotAt: async (type, id, time, headers) => {
      const model = aggregateModel<AggregateRoot, Ev>(type)
      const loaded = await loadAt(ctx, model, id, time)
      return E.isLeft(loaded) ? loaded : storeSnapshot(ctx, model, loaded.right, headers)
    },
  }
}

/**
 * Loads and saves `Aggregate` subclasses (the class face). Methods return Promises and throw a `DomainFailure`
 * carrying the tagged error; `either` offers the same operations with failures as values. Both run on the same
 * machinery as `deciderRepository`.
 *
 * @example
 * const repository = new AggregateRepository(store, topics)
 * const a = await repository.get(ExampleAggregate, 'a-1')
 * a.setValue(42)
 * await repository.save(a)
 */
export class AggregateRepository<Ev extends DomainEvent> {
  /** The same operations, returning `Either` instead of throwing. */
  readonly either: AggregateOperations

  constructor(store: EventStore, topics: TopicMap<Ev>, options: RepositoryOptions<Ev> = {}) {
    this.either = operations(context(store, topics, options))
  }

  /** The aggregate at `maxVersion` (the head when absent), from the newest snapshot at or below it. */
  async get<A extends AggregateRoot>(type: AggregateType<A>, id: string, maxVersion?: number): Promise<A> {
    return unwrap(await this.either.get(type, id, maxVersion))
  }

  /** The aggregate as it was at `time`. */
  async getTo<A extends AggregateRoot>(type: AggregateType<A>, id: string, time: Date): Promise<A> {
    return unwrap(await this.either.getTo(type, id, time))
  }

  /**
   * Stores the aggregate's pending events in one commit; afterwards its version and commit sequence have
   * advanced, so it can be changed and saved again. After `AlreadyCommitted` it stands at the stream's head as
   * stored, its pending events dropped. Throws `DomainFailure` (e.g. `ConflictDetected` or `WrongExpectedVersion`,
   * with the pending events kept on the instance).
   */
  async save(aggregate: AggregateRoot, options: SaveOptions = {}): Promise<SaveResult> {
    return unwrap(await this.either.save(aggregate, options))
  }

  /** Stores a snapshot (the aggregate's memento) at `version`, the head when absent. */
  async snapshot<A extends AggregateRoot>(type: AggregateType<A>, id: string, version?: number, headers?: Headers): Promise<Snapshot> {
    return unwrap(await this.either.snapshot(type, id, version, headers))
  }

  /** Stores a snapshot of the aggregate as it was at `time`. */
  async snapshotAt<A extends AggregateRoot>(type: AggregateType<A>, id: string, time: Date, headers?: Headers): Promise<Snapshot> {
    return unwrap(await this.either.snapshotAt(type, id, time, headers))
  }
}

