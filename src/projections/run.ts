import * as E from 'fp-ts/lib/Either.js'
import { invalidArgument, type InvalidArgument } from '../eventstore/errors.js'
import {
  type ConditionallyProjectable,
  type ConditionalProjectionStore,
  type Projectable,
  type ProjectionApplied,
  type ProjectionMode,
  type ProjectionDocuments,
  type ProjectionStore,
} from '../eventstore/projectionStore.js'
import { idProblem } from '../eventstore/adapter/ids.js'
import type { Json } from '../eventstore/Json.js'
import { applyDocumentsAsync, applyDocumentsSync, documentChanges, type DocumentProjection } from './documents.js'
import type { Lease, SubscriptionStore } from '../eventstore/subscriptionStore.js'
import type { BatchContext, CommonOptions, DecodedCommit, Source, SubscribableStore } from '../subscriptions/options.js'
import { positionOf, SHARD, shardOf } from '../subscriptions/positions.js'
import { subscribe, type Subscription } from '../subscriptions/subscribe.js'
import type { EventMeta, Projection } from './define.js'
import type { ProjectionBatchError, ProjectionRejected } from './errors.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A store that runs transactional projections whose handlers receive `Tx`. */
export type ProjectingStore<Tx, Mode extends ProjectionMode> = SubscribableStore & Projectable<Tx, Mode>

/** A store that runs document projections without transactions, one conditional write per document: DynamoDB. */
export type ConditionalProjectingStore = SubscribableStore & ConditionallyProjectable

/**
 * How a projection runs: every option of a subscription (docs/subscriptions.md) but its name (the projection's),
 * store, handler and decoding (the projection's topic map). `source.topics` is the topic map's.
 */
export interface ProjectionOptions extends Omit<CommonOptions, 'name' | 'store' | 'source'> {
  readonly source?: Omit<Source, 'topics'>
}

/** A running projection: the handle of the subscription that runs it (`caughtUp`, `status`, `stop`, `replayParked`). */
export type RunningProjection = Subscription<ProjectionBatchError>

// -------------------------------------------------------------------------------------
// applying
// -------------------------------------------------------------------------------------

const isThenable = (u: unknown): u is PromiseLike<unknown> =>
  (typeof u === 'object' || typeof u === 'function') && u !== null && typeof (u as { then?: unknown }).then === 'function'

const isLeft = (u: unknown): u is E.Left<unknown> => typeof u === 'object' && u !== null && (u as { _tag?: unknown })._tag === 'Left'

type AnyHandler = (tx: unknown, event: { readonly type: string }, meta: EventMeta) => unknown

interface Step {
  readonly handler: AnyHandler | undefined
  readonly event: { readonly type: string }
  readonly meta: EventMeta
}

const stepsOf = (handlers: Readonly<Record<string, unknown>>, commit: DecodedCommit<{ readonly type: string }>): Step[] => {
  const { events, ...metadata } = commit
  return events.map(({ event, headers }, index) => {
    const h = Object.hasOwn(handlers, event.type) ? handlers[event.type] : undefined
    return { handler: typeof h === 'function' ? (h as AnyHandler) : undefined, event, meta: { commit: metadata, headers, index } }
  })
}

const rejection = (name: string, step: Step, error: ProjectionRejected['error']): E.Either<ProjectionRejected, never> =>
  E.left({
    _tag: 'ProjectionRejected',
    name,
    checkpointToken: step.meta.commit.checkpointToken,
    tenantId: step.meta.commit.tenantId,
    streamId: step.meta.commit.streamId,
    eventType: step.event.type,
    index: step.meta.index,
    error,
  })

/** What an answer of a handler means: applied, or refused with why. */
const judge = (name: string, step: Step, answer: unknown): E.Either<ProjectionRejected, void> =>
  isLeft(answer) ? rejection(name, step, { _tag: 'Left', left: answer.left }) : E.right(undefined)

const noHandler = (step: Step): ProjectionRejected['error'] => ({ _tag: 'Threw', thrown: new TypeError(`the projection has no handler for ${JSON.stringify(step.event.type)}`) })

/** Applies one commit's events in order on a synchronous store; the first refusal stops it. Never throws. */
export const applySync =
  (name: string, handlers: Readonly<Record<string, unknown>>) =>
  (tx: unknown, commit: DecodedCommit<{ readonly type: string }>): E.Either<ProjectionRejected, void> => {
    for (const step of stepsOf(handlers, commit)) {
      if (step.handler === undefined) return rejection(name, step, noHandler(step))
      let answer: unknown
      try {
        answer = step.handler(tx, step.event, step.meta)
      } catch (thrown) {
        return rejection(name, step, { _tag: 'Threw', thrown })
      }
      if (isThenable(answer)) {
        // Whatever it does after its first `await` would run outside the transaction: refused, and rolled back.
        return rejection(name, step, { _tag: 'Threw', thrown: new TypeError('a handler of a synchronous (SQLite) projection answered a promise') })
      }
      const judged = judge(name, step, answer)
      if (E.isLeft(judged)) return judged
    }
    return E.right(undefined)
  }

/** Applies one commit's events in order on an asynchronous store; the first refusal stops it. Never rejects. */
export const applyAsync =
  (name: string, handlers: Readonly<Record<string, unknown>>) =>
  async (tx: unknown, commit: DecodedCommit<{ readonly type: string }>): Promise<E.Either<ProjectionRejected, void>> => {
    for (const step of stepsOf(handlers, commit)) {
      if (step.handler === undefined) return rejection(name, step, noHandler(step))
      let answer: unknown
      try {
        answer = await step.handler(tx, step.event, step.meta)
      } catch (thrown) {
        return rejection(name, step, { _tag: 'Threw', thrown })
      }
      const judged = judge(name, step, answer)
      if (E.isLeft(judged)) return judged
    }
    return E.right(undefined)
  }

/**
 * The subscription store a projection runs its subscription on: the store's own, except that a checkpoint write
 * of the runtime (moving over commits the projection does not select, or storing the start) goes through the
 * projection's own checkpoint write (`save`) too, so that it never moves back below what the projection stored.
 */
const projectionSubscriptions = (
  ss: SubscriptionStore,
  save: (lease: Lease, position: number) => ReturnType<SubscriptionStore['saveCheckpoint']>,
  shard: string = SHARD,
): SubscriptionStore => ({
  acquire: (...a) => ss.acquire(...a),
  renew: (...a) => ss.renew(...a),
  release: (...a) => ss.release(...a),
  lease: (...a) => ss.lease(...a),
  checkpoint: (...a) => ss.checkpoint(...a),
  saveCheckpoint: (lease, checkpoint) => save(lease, positionOf(checkpoint, shard)),
  resetCheckpoint: (...a) => ss.resetCheckpoint(...a),
  park: (...a) => ss.park(...a),
  parked: (...a) => ss.parked(...a),
  unpark: (...a) => ss.unpark(...a),
  watch: (...a) => ss.watch(...a),
})

/** A transaction of the projection that applies nothing: only its checkpoint write. */
const transactionalSave =
  <Tx, Mode extends ProjectionMode>(port: ProjectionStore<Tx, Mode>) =>
  (lease: Lease, position: number) =>
    port.transact(lease, position, [], () => (port.mode === 'sync' ? E.right(undefined) : Promise.resolve(E.right(undefined))) as ProjectionApplied<Mode, never>)

/** The store as the projection's subscription sees it: the same, with `subscriptions` replaced. */
const withSubscriptions = <S extends object>(store: S, subscriptions: SubscriptionStore): S =>
  new Proxy(store, {
    get: (target, property) => {
      if (property === 'subscriptions') return subscriptions
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
    },
  })

// -------------------------------------------------------------------------------------
// start
// -------------------------------------------------------------------------------------

const isProjectable = (u: unknown): u is Projectable<unknown, ProjectionMode> => {
  const p = (u as { projections?: { transact?: unknown; mode?: unknown } } | null)?.projections
  return typeof p?.transact === 'function' && (p.mode === 'sync' || p.mode === 'async')
}

const isConditional = (u: unknown): u is ConditionallyProjectable => {
  const p = (u as { projections?: { applyDocuments?: unknown; mode?: unknown } } | null)?.projections
  return typeof p?.applyDocuments === 'function' && p.mode === 'conditional'
}

/** Why a projection or its options cannot run, whatever the store: an `InvalidArgument`, or `undefined`. */
const argumentProblem = (projection: unknown, options: unknown): InvalidArgument | undefined => {
  const kind = (projection as { kind?: unknown } | null)?.kind
  if (typeof projection !== 'object' || projection === null || (kind !== 'transactional' && kind !== 'documents'))
    return invalidArgument('startProjection', 'projection must be made by a projection constructor')
  const nameProblem = idProblem('tenantId', (projection as { name?: unknown }).name)
  if (nameProblem !== undefined) return invalidArgument('startProjection', nameProblem.replace('tenantId', 'name'))
  if (typeof options !== 'object' || options === null) return invalidArgument('startProjection', 'options must be an object')
  const source = (options as ProjectionOptions).source
  if (source !== undefined && (typeof source !== 'object' || source === null || 'topics' in source))
    return invalidArgument('startProjection', 'source must be an object without topics (the topic map names them)')
  return undefined
}

/** Why a transactional projection does not run on a store without transactions. */
export const NO_TRANSACTIONS =
  'transactional projections need one database transaction for their handlers and their checkpoint, and this store (DynamoDB) writes without transactions (its emulator dynalite implements no TransactWriteItems): use a document projection, whose every document write is conditional on the last commit applied to it'

/**
 * A document projection on a store without transactions (DynamoDB): every batch goes to `applyDocuments`, which
 * writes each document a commit changes with one conditional write on the token of the last commit applied to it,
 * then moves the checkpoint (fenced). Exactly once in effect per document; see docs/projections.md.
 */
const startConditional = <Ev extends { readonly type: string }>(
  store: ConditionalProjectingStore,
  projection: DocumentProjection<Ev, Json>,
  options: ProjectionOptions,
): E.Either<InvalidArgument, RunningProjection> => {
  const port: ConditionalProjectionStore = store.projections
  const name = projection.name
  const changes = documentChanges(projection as unknown as DocumentProjection<{ readonly type: string }, Json>)
  const onFailure = options.onFailure ?? 'stop'
  return subscribe<Ev, ProjectionBatchError>({
    ...options,
    name,
    store: withSubscriptions(
      store,
      projectionSubscriptions(store.subscriptions, (lease, position) => port.applyDocuments(lease, position, [], () => E.right([])), shardOf(store)),
    ),
    source: { ...options.source, topics: projection.topics.topics },
    decode: { topics: projection.topics, onError: onFailure === 'park' ? 'park' : 'stop' },
    handler: (batch: readonly DecodedCommit<Ev>[], context: BatchContext) => {
      const last = batch[batch.length - 1]?.checkpointToken ?? 0
      return port.applyDocuments({ name, holder: context.holder, epoch: context.epoch }, last, batch, changes)
    },
  })
}

/**
 * Runs a transactional projection on a store: a subscription named after the projection (its lease, its fenced
 * checkpoint, its catch-up, live wake-ups, retries and parking), whose every batch is applied in ONE database
 * transaction together with the checkpoint write, so that each commit's effect is applied exactly once, also
 * across crashes and takeovers. On a store without transactions (DynamoDB) only document projections run, each
 * document written by one conditional write on the token it last applied: exactly once in effect per document
 * (a transactional projection is an `InvalidArgument` there). A bad option is an `InvalidArgument`; everything
 * else is reported by the handle.
 */
export function startProjection<Tx, Mode extends ProjectionMode, Ev extends { readonly type: string }>(
  store: ProjectingStore<Tx, Mode>,
  projection: Projection<Tx, Mode, Ev>,
  options?: ProjectionOptions,
): E.Either<InvalidArgument, RunningProjection>
export function startProjection<Tx, Mode extends ProjectionMode, Ev extends { readonly type: string }, D extends Json>(
  store: ProjectingStore<Tx, Mode>,
  projection: DocumentProjection<Ev, D>,
  options?: ProjectionOptions,
): E.Either<InvalidArgument, RunningProjection>
export function startProjection<Ev extends { readonly type: string }, D extends Json>(
  store: ConditionalProjectingStore,
  projection: DocumentProjection<Ev, D>,
  options?: ProjectionOptions,
): E.Either<InvalidArgument, RunningProjection>
export function startProjection<Tx, Mode extends ProjectionMode, Ev extends { readonly type: string }>(
  store: ProjectingStore<Tx, Mode> | ConditionalProjectingStore,
  projection: Projection<Tx, Mode, Ev> | DocumentProjection<Ev, Json>,
  options: ProjectionOptions = {},
): E.Either<InvalidArgument, RunningProjection> {
  if (isConditional(store)) {
    const problem = argumentProblem(projection, options)
    if (problem !== undefined) return E.left(problem)
    if (projection.kind !== 'documents') return E.left(invalidArgument('startProjection', NO_TRANSACTIONS))
    return startConditional(store, projection, options)
  }
  if (!isProjectable(store)) return E.left(invalidArgument('startProjection', 'store must keep projections (a `projections` property: SQLite, PostgreSQL, MySQL, DynamoDB)'))
  const problem = argumentProblem(projection, options)
  if (problem !== undefined) return E.left(problem)
  const port = store.projections
  if (projection.kind === 'transactional' && port.mode !== projection.mode)
    return E.left(invalidArgument('startProjection', `a ${projection.mode} projection cannot run on a store whose projections are ${port.mode}`))
  const name = projection.name
  const asDocuments = projection as unknown as DocumentProjection<{ readonly type: string }, Json>
  const handlers = (projection.kind === 'transactional' ? projection.handlers : {}) as Readonly<Record<string, unknown>>
  const apply = (
    projection.kind === 'documents'
      ? port.mode === 'sync'
        ? applyDocumentsSync(asDocuments, port.documents as ProjectionDocuments<unknown, 'sync'>)
        : applyDocumentsAsync(asDocuments, port.documents as ProjectionDocuments<unknown, 'async'>)
      : port.mode === 'sync'
        ? applySync(name, handlers)
        : applyAsync(name, handlers)
  ) as unknown as (
    tx: Tx,
    commit: DecodedCommit<Ev>,
  ) => ProjectionApplied<Mode, ProjectionRejected>
  const onFailure = options.onFailure ?? 'stop'
  return subscribe<Ev, ProjectionBatchError>({
    ...options,
    name,
    store: withSubscriptions(store, projectionSubscriptions(store.subscriptions, transactionalSave(port))),
    source: { ...options.source, topics: projection.topics.topics },
    decode: { topics: projection.topics, onError: onFailure === 'park' ? 'park' : 'stop' },
    handler: (batch: readonly DecodedCommit<Ev>[], context: BatchContext) => {
      const last = batch[batch.length - 1]?.checkpointToken ?? 0
      return port.transact({ name, holder: context.holder, epoch: context.epoch }, last, batch, apply)
    },
  })
}
