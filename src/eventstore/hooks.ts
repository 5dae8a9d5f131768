import * as E from 'fp-ts/lib/Either.js'
import type { Commit, CommitAttempt } from './Commit.js'
import { hookRejected, storageError, type CommitError, type ReadError, type StorageError } from './errors.js'
import type { CommitStore, Latest, LatestReader, PersistenceManagement } from './ports.js'
import type { Reads } from './reads.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Why a pre-commit hook refuses an attempt: becomes the `reason` and `details` of a `HookRejected`. */
export interface HookRejection {
  readonly reason: string
  readonly details?: unknown
}

/** What a pre-commit hook answers: `Right` (or nothing) lets the attempt through, `Left` refuses it. */
export type PreCommitVerdict = E.Either<HookRejection, unknown> | void

/**
 * One stage of the commit pipeline (NEventStore's `IPipelineHook`). Every member is optional, and each may answer
 * synchronously or with a promise.
 */
export interface PipelineHook {
  /** Names the hook in a `HookRejected` and in `onHookError`; its position in the list (`hook 0`) when absent. */
  readonly name?: string
  /**
   * Called before an attempt reaches the store. A `Left` (see `rejectCommit`) or a throw refuses it: the commit
   * answers `HookRejected`, nothing is stored, no later hook is asked, and no post-commit hook runs.
   */
  readonly preCommit?: (attempt: CommitAttempt) => PreCommitVerdict | Promise<PreCommitVerdict>
  /** Called after a commit was stored, before `commit` answers. A throw cannot undo it: it goes to `onHookError`. */
  readonly postCommit?: (commit: Commit) => unknown
  /**
   * Called with every commit any read hands out (`get`, `getTo`, `getAllTo`, `getFrom`, `getFromTo`, the commits
   * of `readLatest`, and the `missed` commits of a `ConcurrencyConflict`): the commit to hand out instead (the same, or a transformed
   * copy), or `undefined` to drop it. A throw ends the read with a `StorageError` carrying it.
   */
  readonly select?: (commit: Commit) => Commit | undefined | Promise<Commit | undefined>
  /** Called after `purge(tenantId?)` succeeded; `undefined` when every tenant was purged. */
  readonly onPurge?: (tenantId: string | undefined) => unknown
  /** Called after `deleteStream(tenantId, streamId)` succeeded. */
  readonly onDeleteStream?: (tenantId: string, streamId: string) => unknown
}

/** A notification hook (post-commit, purge, delete) that threw or rejected; the store's answer stands. */
export interface HookFailure {
  readonly hook: string
  readonly stage: 'postCommit' | 'onPurge' | 'onDeleteStream'
  readonly cause: unknown
}

export interface HooksOptions {
  /**
   * Told about notification hooks that failed: the operation is done and cannot be undone by them, so their
   * failures cannot be its answer. Logs with `console.error` by default.
   */
  readonly onHookError?: (failure: HookFailure) => void
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** A pre-commit verdict that refuses the attempt. */
export const rejectCommit = (reason: string, details?: unknown): PreCommitVerdict => E.left(details === undefined ? { reason } : { reason, details })

/** A pre-commit verdict that lets the attempt through. */
export const acceptCommit: PreCommitVerdict = E.right(undefined)

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/** What `withHooks` needs of a store: the commit store, and the management calls when it has them. */
type HookableStore = CommitStore & Partial<Pick<PersistenceManagement, 'purge' | 'deleteStream'>>

const describe = (cause: unknown): string => (cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause))

const isThenable = (u: unknown): u is PromiseLike<unknown> =>
  (typeof u === 'object' || typeof u === 'function') && u !== null && typeof (u as { then?: unknown }).then === 'function'

const defaultOnHookError = (failure: HookFailure): void => {
  console.error(`aett: the ${failure.stage} hook ${failure.hook} failed (the operation stands):`, failure.cause)
}

/**
 * Wraps a store in pipeline hooks (NEventStore's pipeline hooks): pre-commit checks that may refuse an attempt,
 * post-commit notifications, select hooks that transform or drop commits on every read path, and notifications of
 * purges and stream deletions. Hooks run in the order given (an outer `withHooks` runs its pre-commit hooks before
 * an inner one's, and its select hooks after).
 *
 * The result is the same kind of store as the one given, with the same members: everything else (snapshots,
 * `listStreams`, `listTenants`, `subscriptions`, a store's own extras) is the given store's, so repositories,
 * event streams and subscriptions take it unchanged.
 *
 * @example
 * const audited = withHooks(memoryStore(), [{ name: 'no-empty-user', preCommit: (a) => (a.headers['user'] ? acceptCommit : rejectCommit('no user')) }])
 */
export const withHooks = <S extends HookableStore>(store: S, hooks: PipelineHook | readonly PipelineHook[], options: HooksOptions = {}): S => {
  const list = (Array.isArray(hooks) ? hooks : [hooks]) as readonly PipelineHook[]
  const named = list.map((hook, i) => ({ hook, name: hook.name ?? `hook ${i}` }))
  const pre = named.filter((h) => h.hook.preCommit !== undefined)
  const post = named.filter((h) => h.hook.postCommit !== undefined)
  const selects = named.filter((h) => h.hook.select !== undefined)
  const purges = named.filter((h) => h.hook.onPurge !== undefined)
  const deletes = named.filter((h) => h.hook.onDeleteStream !== undefined)
  const onHookError = options.onHookError ?? defaultOnHookError

  /** Runs a notification, reporting (never answering) its failure. */
  const notify = async (name: string, stage: HookFailure['stage'], f: () => unknown): Promise<void> => {
    try {
      await f()
    } catch (cause) {
      try {
        onHookError({ hook: name, stage, cause })
      } catch {
        // A reporter that throws has nobody left to report to.
      }
    }
  }

  /** A commit through every select hook in turn: the commit to hand out, `undefined` if one dropped it. */
  const select = async (commit: Commit): Promise<E.Either<StorageError, Commit | undefined>> => {
    let current: Commit | undefined = commit
    for (const { hook, name } of selects) {
      try {
        const r: unknown = (hook.select as NonNullable<PipelineHook['select']>)(current)
        current = (isThenable(r) ? await r : r) as Commit | undefined
      } catch (cause) {
        return E.left(storageError(`select hook ${name}`, cause))
      }
      if (current === undefined) return E.right(undefined)
    }
    return E.right(current)
  }

  /**
   * A read whose items go through `pick`: kept (as `pick` answers them), dropped (`undefined`), or the read's end
   * with a failure (a `Left`, after which the inner read is closed).
   */
  const filtered = <T>(reads: Reads<T>, pick: (item: T) => Promise<E.Either<ReadError, T | undefined>>): Reads<T> => ({
    [Symbol.asyncIterator](): AsyncIterator<E.Either<ReadError, T>> {
      const inner = reads[Symbol.asyncIterator]()
      let done = false
      const end = async (): Promise<void> => {
        done = true
        await inner.return?.()
      }
      return {
        next: async () => {
          while (!done) {
            const r = await inner.next()
            if (r.done === true) {
              done = true
              return r
            }
            if (E.isLeft(r.value)) return r
            const c = await pick(r.value.right)
            if (E.isLeft(c)) {
              await end()
              return { done: false, value: c }
            }
            if (c.right !== undefined) return { done: false, value: E.right(c.right) }
          }
          return { done: true, value: undefined }
        },
        return: async () => {
          await end()
          return { done: true, value: undefined }
        },
      }
    },
  })

  const selected = (reads: Reads<Commit>): Reads<Commit> => filtered(reads, select)

  /** `selected` for the items of `readLatest`: commits through the select hooks, the snapshot as it is. */
  const selectedLatest = (reads: Reads<Latest>): Reads<Latest> =>
    filtered(reads, async (item) => {
      if (item._tag === 'Snapshot') return E.right(item)
      const c = await select(item.commit)
      return E.map((kept: Commit | undefined) => (kept === undefined ? undefined : { _tag: 'Commit' as const, commit: kept }))(c)
    })

  const commit = async (attempt: CommitAttempt): Promise<E.Either<CommitError, Commit>> => {
    // An attempt that is no object at all is the store's to refuse (`InvalidAttempt`); hooks only see attempts.
    if (typeof attempt === 'object' && attempt !== null) {
      for (const { hook, name } of pre) {
        let verdict: PreCommitVerdict
        try {
          verdict = await (hook.preCommit as NonNullable<PipelineHook['preCommit']>)(attempt)
        } catch (cause) {
          return E.left(hookRejected(attempt, name, `the pre-commit hook threw: ${describe(cause)}`, cause))
        }
        if (verdict !== undefined && E.isLeft(verdict)) return E.left(hookRejected(attempt, name, verdict.left.reason, verdict.left.details))
      }
    }
    const stored = await store.commit(attempt)
    if (E.isLeft(stored)) {
      if (stored.left._tag !== 'ConcurrencyConflict' || selects.length === 0) return stored
      // The missed commits are read data too: the writer catches up with what the select hooks hand out.
      const missed: Commit[] = []
      for (const c of stored.left.missed) {
        const s = await select(c)
        if (E.isLeft(s)) return E.left(s.left)
        if (s.right !== undefined) missed.push(s.right)
      }
      return E.left({ ...stored.left, missed })
    }
    for (const { hook, name } of post) await notify(name, 'postCommit', () => hook.postCommit?.(stored.right))
    return stored
  }

  const overrides: Record<PropertyKey, unknown> = {
    commit,
    get: (...args: Parameters<CommitStore['get']>) => selected(store.get(...args)),
    getTo: (...args: Parameters<CommitStore['getTo']>) => selected(store.getTo(...args)),
    getAllTo: (...args: Parameters<CommitStore['getAllTo']>) => selected(store.getAllTo(...args)),
    getFrom: (...args: Parameters<CommitStore['getFrom']>) => selected(store.getFrom(...args)),
    getFromTo: (...args: Parameters<CommitStore['getFromTo']>) => selected(store.getFromTo(...args)),
  }
  if (selects.length === 0) for (const read of ['get', 'getTo', 'getAllTo', 'getFrom', 'getFromTo']) delete overrides[read]
  // The one-statement load is a read too: its commits pass the select hooks (its snapshot is not a commit).
  const readLatest = (store as Partial<LatestReader>).readLatest
  if (selects.length > 0 && readLatest !== undefined) {
    overrides['readLatest'] = (...args: Parameters<NonNullable<LatestReader['readLatest']>>): Reads<Latest> =>
      selectedLatest(readLatest.apply(store, args))
  }
  const purge = store.purge
  if (typeof purge === 'function') {
    overrides['purge'] = async (...args: Parameters<PersistenceManagement['purge']>) => {
      const r = await purge.apply(store, args)
      if (E.isRight(r)) for (const { hook, name } of purges) await notify(name, 'onPurge', () => hook.onPurge?.(args[0]))
      return r
    }
  }
  const deleteStream = store.deleteStream
  if (typeof deleteStream === 'function') {
    overrides['deleteStream'] = async (...args: Parameters<PersistenceManagement['deleteStream']>) => {
      const r = await deleteStream.apply(store, args)
      if (E.isRight(r)) for (const { hook, name } of deletes) await notify(name, 'onDeleteStream', () => hook.onDeleteStream?.(args[0], args[1]))
      return r
    }
  }
  return delegate(store, overrides)
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

/**
 * An object that answers `overrides` for their keys and the store's own members for every other key, live (a
 * member added to the store later is seen too). Methods of the store are bound to it, so a class-based store's
 * methods (private fields included) keep working. The proxy's target is an empty object of its own, so a frozen
 * store can be wrapped as well.
 */
const delegate = <S extends object>(store: S, overrides: Record<PropertyKey, unknown>): S => {
  const bound = new Map<PropertyKey, { readonly fn: Function; readonly bound: unknown }>()
  const lookup = (key: PropertyKey): unknown => {
    if (Object.hasOwn(overrides, key)) return overrides[key]
    const value: unknown = Reflect.get(store, key, store)
    if (typeof value !== 'function') return value
    const cached = bound.get(key)
    if (cached?.fn === value) return cached.bound
    const b = (value as Function).bind(store)
    bound.set(key, { fn: value, bound: b })
    return b
  }
  const target = Object.create(Object.getPrototypeOf(store) as object | null) as object
  return new Proxy(target, {
    get: (_, key) => lookup(key),
    has: (_, key) => Object.hasOwn(overrides, key) || key in store,
    ownKeys: () => Reflect.ownKeys(store),
    getOwnPropertyDescriptor: (_, key) => {
      const own = Reflect.getOwnPropertyDescriptor(store, key)
      if (own === undefined) return undefined
      return { value: lookup(key), writable: true, enumerable: own.enumerable ?? false, configurable: true }
    },
    set: (_, key, value) => Reflect.set(store, key, value),
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(store, key, descriptor),
    deleteProperty: (_, key) => Reflect.deleteProperty(store, key),
    getPrototypeOf: () => Object.getPrototypeOf(store) as object | null,
  }) as S
}
