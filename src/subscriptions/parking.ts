import * as E from 'fp-ts/lib/Either.js'
import type { Commit } from '../eventstore/Commit.js'
import { storageError, type ReadError } from '../eventstore/errors.js'
import type { Json } from '../eventstore/Json.js'
import type { Lease, LeaseLost, ParkedCommit } from '../eventstore/subscriptionStore.js'
import type { HandlerFailed, ReplayError } from './errors.js'
import { deliver, failureJson, streamKey, type DeliveryControl } from './handling.js'
import type { BatchContext, Handler, RetryPolicy, SubscribableStore } from './options.js'
import type { Prepared } from './source.js'

/** What a replay of parked commits did. */
export interface ReplayReport<E> {
  /** Handled, and no longer parked. */
  readonly replayed: readonly number[]
  /** Failed again (after the retries), and still parked; its stream's later parked commits stay behind it. */
  readonly failed: ReadonlyArray<{ readonly checkpointToken: number; readonly error: HandlerFailed<E> | Json }>
  /** Not tried, because an earlier parked commit of the same stream is still parked (per-stream order). */
  readonly held: readonly number[]
  /** No longer in the store (its stream was deleted or purged): unparked, there is nothing to replay. */
  readonly missing: readonly number[]
}

/** The tokens that block a stream: each stream's lowest parked token (what later commits are parked behind). */
export const blockersOf = (parked: readonly ParkedCommit[]): Map<string, number> => {
  const out = new Map<string, number>()
  for (const p of parked) {
    const key = streamKey(p)
    const t = out.get(key)
    if (t === undefined || p.checkpointToken < t) out.set(key, p.checkpointToken)
  }
  return out
}

/** Reads the one commit with `token`, if the store still has it. */
const commitAt = async (store: SubscribableStore, p: ParkedCommit): Promise<E.Either<ReadError, Commit | undefined>> => {
  try {
    for await (const r of store.getFromTo(p.checkpointToken - 1, p.checkpointToken, p.tenantId)) {
      if (E.isLeft(r)) return r
      if (r.right.checkpointToken === p.checkpointToken) return E.right(r.right)
    }
    return E.right(undefined)
  } catch (cause) {
    return E.left(storageError('read a parked commit', cause))
  }
}

export interface ReplayWith<A, E> {
  readonly name: string
  readonly store: SubscribableStore
  readonly prepare: (commit: Commit) => Prepared<A>
  readonly handler: Handler<A, E>
  readonly retry: RetryPolicy
  /** Keep each stream's order: a parked commit is replayed only once its stream has no earlier one parked. */
  readonly inOrder: boolean
  readonly context: () => BatchContext
  readonly control: DeliveryControl
  /** The lease to fence with; may be renewed while the replay runs. */
  readonly lease: () => Lease
  /** Called before each commit, so that a long replay keeps its lease. */
  readonly keepLease: () => Promise<E.Either<ReadError | LeaseLost, void>>
}

/**
 * Replays parked commits of `name` (those of `tokens`, or all), oldest first, each on its own through the handler
 * (with the retries), and unparks each one handled (fenced). One that fails again stays parked.
 */
export const replayWith = async <A, E>(r: ReplayWith<A, E>, tokens: readonly number[] | undefined): Promise<E.Either<ReplayError, ReplayReport<E>>> => {
  const listed = await r.store.subscriptions.parked(r.name)
  if (E.isLeft(listed)) return listed
  const wanted = tokens === undefined ? undefined : new Set(tokens)
  // Each stream's parked tokens, ascending: only the first one still parked may be replayed.
  const remaining = new Map<string, number[]>()
  for (const p of listed.right) remaining.set(streamKey(p), [...(remaining.get(streamKey(p)) ?? []), p.checkpointToken])
  const replayed: number[] = []
  const failed: Array<{ checkpointToken: number; error: HandlerFailed<E> | Json }> = []
  const held: number[] = []
  const missing: number[] = []
  const unpark = async (p: ParkedCommit): Promise<E.Either<ReplayError, void>> => {
    const u = await r.store.subscriptions.unpark(r.lease(), p.checkpointToken)
    if (E.isLeft(u)) return u
    const of = remaining.get(streamKey(p)) ?? []
    remaining.set(
      streamKey(p),
      of.filter((t) => t !== p.checkpointToken),
    )
    return E.right(undefined)
  }
  for (const p of listed.right) {
    if (wanted !== undefined && !wanted.has(p.checkpointToken)) continue
    if (r.control.stopping()) return E.left({ _tag: 'SubscriptionStopped', name: r.name })
    if (r.inOrder && (remaining.get(streamKey(p))?.[0] ?? p.checkpointToken) !== p.checkpointToken) {
      held.push(p.checkpointToken)
      continue
    }
    const kept = await r.keepLease()
    if (E.isLeft(kept)) return kept
    const commit = await commitAt(r.store, p)
    if (E.isLeft(commit)) return commit
    if (commit.right === undefined) {
      const u = await unpark(p)
      if (E.isLeft(u)) return u
      missing.push(p.checkpointToken)
      continue
    }
    const prepared = r.prepare(commit.right)
    if (prepared.kind === 'park' || prepared.kind === 'fail') {
      failed.push({ checkpointToken: p.checkpointToken, error: prepared.kind === 'park' ? prepared.error : { _tag: prepared.error._tag } })
      continue
    }
    if (prepared.kind === 'deliver') {
      const d = await deliver(r.name, r.handler, [{ commit: commit.right, item: prepared.item }], r.context(), r.retry, r.control)
      if (d.kind === 'lost') return E.left({ _tag: 'LeaseLost', name: r.name, epoch: r.lease().epoch })
      if (d.kind === 'stopped') return E.left({ _tag: 'SubscriptionStopped', name: r.name })
      if (d.kind === 'failed') {
        failed.push({ checkpointToken: p.checkpointToken, error: d.error })
        continue
      }
    }
    // Handled (or, by today's source, nothing to handle): no longer parked.
    const u = await unpark(p)
    if (E.isLeft(u)) return u
    replayed.push(p.checkpointToken)
  }
  return E.right({ replayed, failed, held, missing })
}

export { failureJson }
