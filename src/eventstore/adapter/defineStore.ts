import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { Commit, CommitAttempt } from '../Commit.js'
import { storageError, type CommitError, type ReadError, type SnapshotError, type StorageError } from '../errors.js'
import type { Latest, Persistence, RevisionRange } from '../ports.js'
import type { Reads } from '../reads.js'
import type { Snapshot, StreamHead, StreamInfo } from '../Snapshot.js'
import { validateAttempt, validateSnapshot } from './attempt.js'
import { toMaxRevision, toThreshold, toTime, toTokens, toWindow, type Window } from './bounds.js'
import { isStorableId } from './ids.js'
import { empty, failed } from './reads.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * What a store implements: the port's operations on a connected context, with every argument already checked
 * and normalised by the shell. Ids are storable strings within `ID_LIMITS`; attempts and snapshots are JSON
 * images (fresh copies); bounds are safe integers (`Window`, token windows with `from < to`) and valid Dates.
 * An operation may throw: the shell turns a throw into a `StorageError` carrying it.
 */
export interface StoreOps<Ctx> {
  readonly commit: (ctx: Ctx, attempt: CommitAttempt) => Promise<E.Either<CommitError, Commit>>
  readonly get: (ctx: Ctx, tenantId: string, streamId: string, window: Window) => Reads<Commit>
  readonly getTo: (ctx: Ctx, tenantId: string, streamId: string, maxTime: Date) => Reads<Commit>
  readonly getAllTo: (ctx: Ctx, tenantId: string, maxTime: Date) => Reads<Commit>
  /** Commits with a token in `(from, to]`, ascending; `getFrom` is this with `to` unbounded. */
  readonly getFromTo: (ctx: Ctx, from: number, to: number, tenantId: string | undefined) => Reads<Commit>
  readonly getSnapshot: (ctx: Ctx, tenantId: string, streamId: string, maxRevision: number) => Promise<E.Either<StorageError, O.Option<Snapshot>>>
  readonly addSnapshot: (ctx: Ctx, snapshot: Snapshot) => Promise<E.Either<StorageError, void>>
  /**
   * Optional: a load in one statement (see `LatestReader`): the newest snapshot at or below `maxRevision` (a safe
   * integer ≥ 1; `UNBOUNDED` means any) as the first item if there is one, then the whole commits overlapping
   * `[snapshot revision + 1 (or 1), maxRevision]`, oldest first, paged like `get`. A store without it loads with
   * `getSnapshot` and `get`.
   */
  readonly readLatest?: (ctx: Ctx, tenantId: string, streamId: string, maxRevision: number) => Reads<Latest>
  /** `threshold` is a whole number ≥ 0. */
  readonly streamsToSnapshot: (ctx: Ctx, tenantId: string, threshold: number) => Reads<StreamHead>
  /** Every stream of a (storable) tenant with its head. */
  readonly listStreams: (ctx: Ctx, tenantId: string) => Reads<StreamInfo>
  /** Every tenant holding at least one commit. */
  readonly listTenants: (ctx: Ctx) => Reads<string>
  readonly initialize: (ctx: Ctx) => Promise<E.Either<StorageError, void>>
  readonly drop: (ctx: Ctx) => Promise<E.Either<StorageError, void>>
  readonly purge: (ctx: Ctx, tenantId: string | undefined) => Promise<E.Either<StorageError, void>>
  readonly deleteStream: (ctx: Ctx, tenantId: string, streamId: string) => Promise<E.Either<StorageError, void>>
}

/** A store as its author describes it to `defineStore`. */
export interface StoreDefinition<Cfg, Ctx> {
  /** The store's name in messages, such as `sqlite`. */
  readonly name: string
  /**
   * The checked options. A `Left` (a bad option) is what every call answers, `initialize()` included, so that
   * constructing a store never throws and a bad option is a value.
   */
  readonly config: E.Either<StorageError, Cfg>
  /**
   * Opens what the store needs (loads the driver, opens a pool or file), on the first call that needs it. A
   * `Left` is answered to that call, and the next call tries again.
   */
  readonly connect: (config: Cfg) => Promise<E.Either<StorageError, Ctx>> | E.Either<StorageError, Ctx>
  /** Releases what `connect` opened and the store owns; called once, by the first `close()`. */
  readonly close: (ctx: Ctx) => Promise<void> | void
  readonly ops: StoreOps<Ctx>
}

/**
 * What `defineStore` returns: a `Persistence` with the shell's rules, and the two doors a store uses for calls
 * of its own beyond the port (they get the same configuration, closed-state and throw guards).
 */
export interface StoreShell<Ctx> extends Persistence {
  /** Runs a store-specific operation on the connected context. */
  readonly run: <L, A>(operation: string, f: (ctx: Ctx) => Promise<E.Either<L, A>> | E.Either<L, A>) => Promise<E.Either<L | StorageError, A>>
  /** Runs a store-specific read on the connected context. */
  readonly read: <A>(operation: string, f: (ctx: Ctx) => Reads<A>) => Reads<A>
  /** Whether `close()` was called. */
  readonly isClosed: () => boolean
  /**
   * Calls `listener` after every commit this store object appends, in this process (the in-process wake-up of
   * subscriptions). A listener that throws is ignored: it cannot fail an append that is already stored.
   */
  readonly onCommit: (listener: (commit: Commit) => void) => () => void
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Builds a store from its operations, and writes once what every store must do alike:
 * - a bad option is answered by every call (and by `initialize()`), never thrown;
 * - after `close()` every call answers a `StorageError` and stores nothing, whatever its arguments;
 * - attempts and snapshots are validated and reduced to their JSON image before any I/O (`InvalidAttempt`);
 * - an id that cannot be stored is refused by writes, found by no read, and deleted or purged as nothing;
 * - revision, token, time and threshold bounds are normalised, and a NaN or Invalid Date is `InvalidArgument`;
 * - `getFrom` is `getFromTo` with no upper bound;
 * - `readLatest` is offered only when the store implements it (checked and bounded like `getSnapshot`);
 * - anything an operation throws, or a read throws while iterating, becomes a `StorageError` with its cause.
 */
export const defineStore = <Cfg, Ctx>(definition: StoreDefinition<Cfg, Ctx>): StoreShell<Ctx> => {
  const { name, ops } = definition
  let closed = false
  let connecting: Promise<E.Either<StorageError, Ctx>> | undefined
  let connected: Ctx | undefined
  const listeners = new Set<(commit: Commit) => void>()
  const committed = (commit: Commit): void => {
    for (const listener of listeners) {
      try {
        listener(commit)
      } catch {
        // A wake-up that fails only delays a subscriber until its next poll; the commit is stored.
      }
    }
  }

  const closedError = (operation: string): StorageError => storageError(operation, new Error(`the ${name} store is closed`))

  const context = (operation: string): Promise<E.Either<StorageError, Ctx>> => {
    if (closed) return Promise.resolve(E.left(closedError(operation)))
    const config = definition.config
    if (E.isLeft(config)) return Promise.resolve(config)
    if (connected !== undefined) return Promise.resolve(E.right(connected))
    connecting ??= (async () => {
      try {
        const ctx = await definition.connect(config.right)
        if (E.isRight(ctx)) connected = ctx.right
        else connecting = undefined
        return ctx
      } catch (cause) {
        connecting = undefined
        return E.left(storageError(`open ${name} store`, cause))
      }
    })()
    return connecting
  }

  const run = async <L, A>(
    operation: string,
    f: (ctx: Ctx) => Promise<E.Either<L, A>> | E.Either<L, A>,
  ): Promise<E.Either<L | StorageError, A>> => {
    const ctx = connected !== undefined && !closed ? E.right(connected) : await context(operation)
    if (E.isLeft(ctx)) return ctx
    try {
      return await f(ctx.right)
    } catch (cause) {
      return E.left(storageError(operation, cause))
    }
  }

  const read = <A>(operation: string, f: (ctx: Ctx) => Reads<A>): Reads<A> => guardedRead(operation, () => context(operation), f)

  const store: StoreShell<Ctx> = {
    name,
    run,
    read,
    isClosed: () => closed,
    onCommit: (listener) => {
      const own = (commit: Commit) => listener(commit)
      listeners.add(own)
      return () => void listeners.delete(own)
    },

    commit: (attempt) => {
      if (closed) return Promise.resolve(E.left(closedError('commit')))
      const valid = validateAttempt(attempt)
      if (E.isLeft(valid)) return Promise.resolve(valid)
      if (listeners.size === 0) return run('commit', (ctx) => ops.commit(ctx, valid.right))
      return run('commit', (ctx) => ops.commit(ctx, valid.right)).then((r) => {
        if (E.isRight(r)) committed(r.right)
        return r
      })
    },

    get: (tenantId, streamId, range?: RevisionRange) => {
      if (closed) return failed(closedError('get'))
      const window = toWindow('get', range)
      if (E.isLeft(window)) return failed(window.left)
      if (window.right === undefined || !isStorableId('tenantId', tenantId) || !isStorableId('streamId', streamId)) return empty()
      const w = window.right
      return read('get', (ctx) => ops.get(ctx, tenantId, streamId, w))
    },

    getTo: (tenantId, streamId, maxTime) => {
      if (closed) return failed(closedError('getTo'))
      const time = toTime('getTo', maxTime)
      if (E.isLeft(time)) return failed(time.left)
      if (!isStorableId('tenantId', tenantId) || !isStorableId('streamId', streamId)) return empty()
      return read('getTo', (ctx) => ops.getTo(ctx, tenantId, streamId, time.right))
    },

    getAllTo: (tenantId, maxTime) => {
      if (closed) return failed(closedError('getAllTo'))
      const time = toTime('getAllTo', maxTime)
      if (E.isLeft(time)) return failed(time.left)
      if (!isStorableId('tenantId', tenantId)) return empty()
      return read('getAllTo', (ctx) => ops.getAllTo(ctx, tenantId, time.right))
    },

    getFrom: (checkpoint, tenantId?) => tokenRead('getFrom', checkpoint, Number.MAX_SAFE_INTEGER, tenantId),
    getFromTo: (from, to, tenantId?) => tokenRead('getFromTo', from, to, tenantId),

    getSnapshot: async (tenantId, streamId, maxRevision?) => {
      if (closed) return E.left(closedError('getSnapshot'))
      const max = toMaxRevision('getSnapshot', maxRevision)
      if (E.isLeft(max)) return max
      if (!isStorableId('tenantId', tenantId) || !isStorableId('streamId', streamId)) return E.right(O.none)
      return run('getSnapshot', (ctx) => ops.getSnapshot(ctx, tenantId, streamId, max.right))
    },

    addSnapshot: async (snapshot): Promise<E.Either<SnapshotError, void>> => {
      if (closed) return E.left(closedError('addSnapshot'))
      const valid = validateSnapshot(snapshot)
      if (E.isLeft(valid)) return valid
      return run('addSnapshot', (ctx) => ops.addSnapshot(ctx, valid.right))
    },

    streamsToSnapshot: (tenantId, threshold) => {
      if (closed) return failed(closedError('streamsToSnapshot'))
      const t = toThreshold('streamsToSnapshot', threshold)
      if (E.isLeft(t)) return failed(t.left)
      if (t.right === undefined || !isStorableId('tenantId', tenantId)) return empty()
      const min = t.right
      return read('streamsToSnapshot', (ctx) => ops.streamsToSnapshot(ctx, tenantId, min))
    },

    listStreams: (tenantId) => {
      if (closed) return failed(closedError('listStreams'))
      if (!isStorableId('tenantId', tenantId)) return empty()
      return read('listStreams', (ctx) => ops.listStreams(ctx, tenantId))
    },

    listTenants: () => {
      if (closed) return failed(closedError('listTenants'))
      return read('listTenants', (ctx) => ops.listTenants(ctx))
    },

    initialize: () => run('initialize', (ctx) => ops.initialize(ctx)),
    drop: () => run('drop', (ctx) => ops.drop(ctx)),

    purge: (tenantId?) => {
      if (tenantId !== undefined && !isStorableId('tenantId', tenantId)) return nothingToDelete('purge')
      return run('purge', (ctx) => ops.purge(ctx, tenantId))
    },

    deleteStream: (tenantId, streamId) => {
      if (!isStorableId('tenantId', tenantId) || !isStorableId('streamId', streamId)) return nothingToDelete('deleteStream')
      return run('deleteStream', (ctx) => ops.deleteStream(ctx, tenantId, streamId))
    },

    close: async () => {
      if (closed) return
      closed = true
      const ctx = connected ?? (connecting === undefined ? undefined : E.toUnion(await connecting))
      connected = undefined
      connecting = undefined
      if (ctx !== undefined && !isStorageError(ctx)) await definition.close(ctx as Ctx)
    },
  }

  /** A delete of an id that cannot exist finds nothing and succeeds, unless the store is unusable. */
  const nothingToDelete = async (operation: string): Promise<E.Either<StorageError, void>> => {
    if (closed) return E.left(closedError(operation))
    if (E.isLeft(definition.config)) return definition.config
    return E.right(undefined)
  }

  const tokenRead = (operation: string, from: number, to: number, tenantId: string | undefined): Reads<Commit> => {
    if (closed) return failed(closedError(operation))
    const tokens = toTokens(operation, from, to)
    if (E.isLeft(tokens)) return failed(tokens.left)
    if (tokens.right === undefined || (tenantId !== undefined && !isStorableId('tenantId', tenantId))) return empty()
    const w = tokens.right
    return read(operation, (ctx) => ops.getFromTo(ctx, w.from, w.to, tenantId))
  }

  // Only a store that implements it offers it, so that callers can tell (and fall back to getSnapshot + get).
  const readLatest = ops.readLatest
  if (readLatest !== undefined) {
    Object.assign(store, {
      readLatest: (tenantId: string, streamId: string, maxRevision?: number): Reads<Latest> => {
        if (closed) return failed(closedError('readLatest'))
        const max = toMaxRevision('readLatest', maxRevision)
        if (E.isLeft(max)) return failed(max.left)
        if (!isStorableId('tenantId', tenantId) || !isStorableId('streamId', streamId)) return empty()
        const m = max.right
        return read('readLatest', (ctx) => readLatest(ctx, tenantId, streamId, m))
      },
    })
  }

  return store
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const isStorageError = (u: unknown): u is StorageError =>
  typeof u === 'object' && u !== null && (u as { _tag?: unknown })._tag === 'StorageError'

/**
 * A read that first waits for the store's context, then hands out the store's own iterator. It is a plain
 * iterator rather than a generator, so that each element costs one extra promise reaction, not a generator
 * frame; a throw (from the store or while iterating) becomes one `StorageError` and ends the read.
 */
const guardedRead = <Ctx, A>(
  operation: string,
  context: () => Promise<E.Either<StorageError, Ctx>>,
  open: (ctx: Ctx) => Reads<A>,
): Reads<A> => ({
  [Symbol.asyncIterator](): AsyncIterator<E.Either<ReadError, A>> {
    let inner: AsyncIterator<E.Either<ReadError, A>> | undefined
    let done = false
    const finish = (value: E.Either<ReadError, A>): IteratorResult<E.Either<ReadError, A>> => {
      done = true
      return { done: false, value }
    }
    const step = async (): Promise<IteratorResult<E.Either<ReadError, A>>> => {
      if (done) return { done: true, value: undefined }
      try {
        if (inner === undefined) {
          const ctx = await context()
          if (E.isLeft(ctx)) return finish(ctx)
          inner = open(ctx.right)[Symbol.asyncIterator]()
        }
        const r = await inner.next()
        if (r.done === true) {
          done = true
          return r
        }
        if (E.isLeft(r.value)) return finish(r.value)
        return r
      } catch (cause) {
        return finish(E.left(storageError(operation, cause)))
      }
    }
    return {
      next: step,
      return: async () => {
        done = true
        await inner?.return?.()
        return { done: true, value: undefined }
      },
    }
  },
})
