import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { invalidArgument, storageError, type InvalidArgument, type StorageError } from '../eventstore/errors.js'
import type { Json } from '../eventstore/Json.js'
import { singleShardPosition, type ProjectionApplied, type ProjectionMode } from '../eventstore/projectionStore.js'
import type { LeaseLost } from '../eventstore/subscriptionStore.js'
import { leaseHeld, type CaughtUpError, type LeaseHeld } from '../subscriptions/errors.js'
import { nameProblem, oneOffHolder, startProblem, type StartAt } from '../subscriptions/options.js'
import { headToken, positionOfStart } from '../subscriptions/positions.js'
import type { DocumentProjection } from './documents.js'
import type { ProjectionBatchError } from './errors.js'
import { startProjection, type ProjectingStore } from './run.js'

/** How far a rebuild has got: commits (tokens) done of the head, the rate, and the time left at that rate. */
export interface RebuildProgress {
  readonly done: number
  readonly total: number
  readonly eventsPerSecond: number
  /** `undefined` until there is a rate to go by. */
  readonly etaMs: number | undefined
}

/**
 * Where a rebuild starts, in the subscriptions' vocabulary (`StartAt` without `'end'`): `'beginning'` (the default),
 * `{ token }` (the commits after that checkpoint token, which must not be past the head) or `{ time }` (from the
 * first commit, in token order, stamped at or after `time`, resolved once when the rebuild starts). The shadow always
 * starts **empty**: the rebuilt documents are the fold of exactly the commits after that point, never the live
 * documents plus a replay (those are at the live checkpoint, not at the start, so a replay would apply commits twice
 * or miss some).
 */
export type RebuildFrom = Exclude<StartAt, 'end'>

export interface RebuildOptions {
  /** Where the shadow starts (default `'beginning'`); see `RebuildFrom`. */
  readonly from?: RebuildFrom
  /** Commits per transaction (default 100): small, so that no long transaction holds other readers back. */
  readonly batchSize?: number
  /** Called every `progressMs` (default 250) while the shadow catches up, and once at the end. */
  readonly onProgress?: (progress: RebuildProgress) => void
  readonly progressMs?: number
  readonly leaseTtlMs?: number
  readonly pollMs?: number
}

/** What a rebuild answers: the checkpoint the projection has after the swap. */
export interface RebuildReport {
  readonly position: number
  readonly shadow: string
}

export type RebuildError = InvalidArgument | StorageError | LeaseHeld | LeaseLost | CaughtUpError<ProjectionBatchError>

/** The shadow a projection rebuilds into: its documents and checkpoint live under this name until the swap. */
export const shadowOf = (name: string): string => `${name}~rebuild`

/** The item that makes a projection transaction run its `apply` whatever the checkpoint (the swap's). */
const always = [{ checkpointToken: Number.MAX_SAFE_INTEGER }] as const

/**
 * Rebuilds a document projection from the beginning of the log (or `from` a token or a time) **into a shadow**
 * (its documents under the name `shadowOf(name)`), in batches of `batchSize` commits, each one transaction, while
 * readers of the projection keep reading its current documents; then **swaps** in one transaction: the projection's
 * documents are replaced by the shadow's and its checkpoint moves to the shadow's. Readers see the old documents or
 * the new, never a mix.
 *
 * The projection's own instances may keep running while the shadow catches up; the swap needs the projection's
 * lease (so that no instance applies a commit to the old documents meanwhile): stop them before, or the rebuild
 * answers `LeaseHeld` (the shadow is left, and a rebuild starts it over). Writers may append all along: the swap
 * happens once the shadow is past the projection's checkpoint, and the projection goes on from there when it
 * starts again. `evolve` may differ from the running version's (that is what a rebuild is for).
 */
export const rebuildDocuments = async <Tx, Mode extends ProjectionMode, Ev extends { readonly type: string }, D extends Json>(
  store: ProjectingStore<Tx, Mode>,
  projection: DocumentProjection<Ev, D>,
  options: RebuildOptions = {},
): Promise<E.Either<RebuildError, RebuildReport>> => {
  const fail = (reason: string) => E.left(invalidArgument('rebuildDocuments', reason))
  if (typeof options !== 'object' || options === null) return fail('options must be an object')
  if (projection?.kind !== 'documents') return fail('projection must be a document projection')
  const name = projection.name
  const shadow = shadowOf(name)
  const problem = nameProblem(name) ?? nameProblem(shadow)
  if (problem !== undefined) return fail(problem)
  const port = store?.projections
  if ((port as { mode?: unknown } | undefined)?.mode === 'conditional')
    return fail('a rebuild swaps the shadow in with one transaction (readers see the old documents or the new), and this store (DynamoDB) writes without transactions; see docs/projections.md for rebuilding there under a new name')
  if (port === undefined || typeof port.transact !== 'function') return fail('store must keep projections')
  const progressMs = options.progressMs ?? 250
  if (!(typeof progressMs === 'number' && progressMs > 0)) return fail('progressMs must be a positive number of ms')
  const from: unknown = options.from === undefined ? 'beginning' : options.from
  const fromProblem = from === 'end' ? 'end' : startProblem(from)
  if (fromProblem !== undefined) return fail("from must be 'beginning', { token: a whole number ≥ 0 } or { time: a valid Date }")
  const ss = store.subscriptions
  const holder = oneOffHolder('rebuild')
  const ttl = options.leaseTtlMs ?? 15_000
  const docs = port.documents
  const apply = (f: (tx: Tx) => unknown) => (tx: Tx) => {
    const r = f(tx)
    return (r instanceof Promise ? r.then(() => E.right(undefined)) : E.right(undefined)) as ProjectionApplied<Mode, never>
  }
  const guard = async <L, A>(call: () => Promise<E.Either<L, A>>): Promise<E.Either<L | StorageError, A>> => {
    try {
      return await call()
    } catch (cause) {
      return E.left(storageError('rebuildDocuments', cause))
    }
  }

  // 0. Where the shadow starts, as a token: a time is resolved once, now; a token past the head would move the
  // projection's checkpoint over commits not yet appended, and is refused.
  const start = from as RebuildFrom
  const after = await guard(() => positionOfStart(store, start, undefined))
  if (E.isLeft(after)) return after
  if (start !== 'beginning' && 'token' in start) {
    const head = await guard(() => headToken(store, undefined))
    if (E.isLeft(head)) return head
    if (start.token > head.right) return fail(`from.token ${start.token} is past the head of the log (${head.right})`)
  }

  // 1. A fresh shadow: its checkpoint removed (through its fence), its documents of an earlier try cleared.
  const reset = await guard(() => ss.resetCheckpoint(shadow, holder, undefined))
  if (E.isLeft(reset)) return reset
  const taken = await guard(() => ss.acquire(shadow, holder, ttl))
  if (E.isLeft(taken)) return taken
  if (O.isNone(reset.right) || O.isNone(taken.right)) return E.left(leaseHeld(shadow, undefined, undefined))
  const shadowLease = taken.right.value
  // The same transaction stores the shadow's checkpoint at the start, so that it runs the commits after it only.
  const cleared = await guard(() => port.transact(shadowLease, after.right, always, apply((tx) => docs.clear(tx, shadow)), { reset: true }))
  await guard(() => ss.release(shadowLease))
  if (E.isLeft(cleared)) return cleared

  // 2. The shadow catches up in small batches, with progress.
  const started = Date.now()
  const running = startProjection(
    store,
    { ...projection, name: shadow },
    { batchSize: options.batchSize ?? 100, holder, leaseTtlMs: ttl, pollMs: options.pollMs ?? 50 },
  )
  if (E.isLeft(running)) return running
  const shadowRun = running.right
  // One report at a time: `status()` reads the lag from the log, and reports piling up would crowd out the rebuild.
  let inFlight: Promise<void> | undefined
  const report = (): Promise<void> => {
    if (inFlight !== undefined) return inFlight
    inFlight = reportNow().finally(() => (inFlight = undefined))
    return inFlight
  }
  const reportNow = async () => {
    const s = await shadowRun.status()
    if (E.isLeft(s) || options.onProgress === undefined) return
    const seconds = (Date.now() - started) / 1000
    // Counted from the start, so that a rebuild from a token does not report the commits before it as done fast.
    const rate = seconds > 0 ? Math.max(0, s.right.position - after.right) / seconds : 0
    const left = Math.max(0, s.right.headToken - s.right.position)
    try {
      options.onProgress({ done: s.right.position, total: s.right.headToken, eventsPerSecond: rate, etaMs: rate > 0 ? (left / rate) * 1000 : undefined })
    } catch {
      // A failing progress callback does not stop the rebuild.
    }
  }
  const timer = setInterval(() => void report(), progressMs)
  try {
    const first = await shadowRun.caughtUp()
    if (E.isLeft(first)) return first

    // 3. The projection's lease, so that its checkpoint stays put; then the shadow passes it.
    const lease = await guard(() => ss.acquire(name, holder, ttl))
    if (E.isLeft(lease)) return lease
    if (O.isNone(lease.right)) {
      const current = await guard(() => ss.lease(name))
      const l = E.isRight(current) ? O.toUndefined(current.right) : undefined
      return E.left(leaseHeld(name, l?.holder, l?.expiresAt))
    }
    const fence = lease.right.value
    try {
      const again = await shadowRun.caughtUp()
      if (E.isLeft(again)) return again
      await shadowRun.stop()
      const at = await guard(() => ss.checkpoint(shadow))
      if (E.isLeft(at)) return at
      const position = O.isSome(at.right) ? singleShardPosition(at.right.value.positions) : 0

      // 4. The swap, in one transaction fenced by the projection's lease.
      const swapped = await guard(() =>
        port.transact(
          fence,
          position,
          always,
          apply((tx) => {
            const c = docs.clear(tx, name)
            return c instanceof Promise ? c.then(() => docs.rename(tx, shadow, name)) : docs.rename(tx, shadow, name)
          }),
        ),
      )
      if (E.isLeft(swapped)) return swapped
      // The last report, after any in flight: the whole log up to the swap is done. No timer report may come
      // after it: the shadow's checkpoint is removed next, and a report then would say 0 was done.
      clearInterval(timer)
      await inFlight
      await report()
      await guard(() => ss.resetCheckpoint(shadow, holder, undefined))
      return E.right({ position, shadow })
    } finally {
      await guard(() => ss.release(fence))
    }
  } finally {
    clearInterval(timer)
    await shadowRun.stop()
  }
}
