import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { invalidArgument, storageError, type InvalidArgument, type StorageError } from '../eventstore/errors.js'
import type { ProjectionApplied, ProjectionMode } from '../eventstore/projectionStore.js'
import type { LeaseLost } from '../eventstore/subscriptionStore.js'
import { leaseHeld, type LeaseHeld } from '../subscriptions/errors.js'
import { oneOffHolder } from '../subscriptions/options.js'
import type { Projection, ProjectionHandler } from './define.js'
import { NO_TRANSACTIONS, type ProjectingStore } from './run.js'

/** Why a reset's hook refused (its `Left`, or what it threw): nothing was changed. */
export interface ResetRefused {
  readonly _tag: 'ResetRefused'
  readonly name: string
  readonly error: { readonly _tag: 'Left'; readonly left: unknown } | { readonly _tag: 'Threw'; readonly thrown: unknown }
}

export type ResetProjectionError = InvalidArgument | StorageError | LeaseHeld | LeaseLost | ResetRefused

/** The hook of a reset: on the driver's transaction, like a handler (synchronous on SQLite). */
export type ResetHook<Tx, Mode extends ProjectionMode> = (tx: Tx) => ReturnType<ProjectionHandler<Tx, Mode, never>>

const isLeft = (u: unknown): u is E.Left<unknown> => typeof u === 'object' && u !== null && (u as { _tag?: unknown })._tag === 'Left'

/**
 * A fenced reset of a transactional projection, for a rebuild over your own tables: it takes the projection's lease
 * (so that no instance may run: `LeaseHeld` otherwise, and every former holder is fenced off), then in ONE
 * transaction runs `hook(tx)` (clear, recreate or swap your tables) and moves the checkpoint to `to` (the
 * beginning by default, or a token), so that a crash leaves either both or neither. Starting the projection again
 * replays the log from there. A `Left` or a throw from the hook is a `ResetRefused`, and nothing changed.
 */
export const resetProjection = async <Tx, Mode extends ProjectionMode, Ev extends { readonly type: string }>(options: {
  readonly store: ProjectingStore<Tx, Mode>
  readonly projection: Projection<Tx, Mode, Ev>
  readonly hook: ResetHook<Tx, Mode>
  readonly to?: { readonly token: number }
}): Promise<E.Either<ResetProjectionError, void>> => {
  const { store, projection, hook } = options ?? ({} as typeof options)
  const port = store?.projections
  if ((port as { mode?: unknown } | undefined)?.mode === 'conditional') return E.left(invalidArgument('resetProjection', NO_TRANSACTIONS))
  if (port === undefined || typeof port.transact !== 'function') return E.left(invalidArgument('resetProjection', 'store must keep projections'))
  if (projection?.kind !== 'transactional' || projection.mode !== port.mode)
    return E.left(invalidArgument('resetProjection', 'projection must be a transactional projection of this store'))
  if (typeof hook !== 'function') return E.left(invalidArgument('resetProjection', 'hook must be a function'))
  const to = options.to?.token ?? 0
  if (!Number.isSafeInteger(to) || to < 0) return E.left(invalidArgument('resetProjection', 'to.token must be a whole number ≥ 0'))
  const name = projection.name
  const holder = oneOffHolder('reset')
  try {
    const taken = await store.subscriptions.acquire(name, holder, 15_000)
    if (E.isLeft(taken)) return taken
    if (O.isNone(taken.right)) {
      const current = await store.subscriptions.lease(name)
      const l = E.isRight(current) ? O.toUndefined(current.right) : undefined
      return E.left(leaseHeld(name, l?.holder, l?.expiresAt))
    }
    const lease = taken.right.value
    try {
      const refused = (error: ResetRefused['error']): E.Either<ResetRefused, void> => E.left({ _tag: 'ResetRefused', name, error })
      const judge = (answer: unknown) => (isLeft(answer) ? refused({ _tag: 'Left', left: answer.left }) : E.right(undefined))
      const apply = (tx: Tx): ProjectionApplied<Mode, ResetRefused> => {
        try {
          const answer: unknown = hook(tx)
          return (answer instanceof Promise ? answer.then(judge, (thrown: unknown) => refused({ _tag: 'Threw', thrown })) : judge(answer)) as ProjectionApplied<Mode, ResetRefused>
        } catch (thrown) {
          return (port.mode === 'sync' ? refused({ _tag: 'Threw', thrown }) : Promise.resolve(refused({ _tag: 'Threw', thrown }))) as ProjectionApplied<Mode, ResetRefused>
        }
      }
      return await port.transact(lease, to, [{ checkpointToken: Number.MAX_SAFE_INTEGER }], apply, { reset: true })
    } finally {
      await store.subscriptions.release(lease)
    }
  } catch (cause) {
    return E.left(storageError('resetProjection', cause))
  }
}
