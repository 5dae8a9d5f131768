import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import {
  defineEvent,
  storageError,
  topicMap,
  type Commit,
  type EventMessage,
  type Lease,
  type Persistence,
  type Reads,
  type Subscribable,
  type SubscriptionStore,
} from '../../eventstore/index.js'
import {
  listParked,
  replayParked,
  resetSubscription,
  subscribe,
  type CommonOptions,
  type DecodedOptions,
  type RawOptions,
  type Subscription,
} from '../../subscriptions/index.js'
import { shardOf } from '../../subscriptions/positions.js'
import { attempt, baseTime, collect, freshIds, next, right, some, uid } from './fixtures.js'

// -------------------------------------------------------------------------------------
// harness
// -------------------------------------------------------------------------------------

/** A store that keeps subscriptions, as the contract needs it. */
export type SubscribableStore = Persistence & Subscribable

/**
 * How the subscription contract gets stores: a fresh, initialised, empty store per test (as `StoreHarness`), and
 * what the store's clock and size allow.
 */
export interface SubscriptionHarness {
  /** Shown in test names, e.g. `sqlite (file)`. */
  readonly name: string
  readonly create: () => Promise<SubscribableStore>
  /** Drops everything `create` made and closes the store. */
  readonly dispose: (store: SubscribableStore) => Promise<void>
  /**
   * Optional: a second store object on the same database (another connection, as another process would have);
   * the multi-instance cases then run their second and third instances on it. It is closed by the suite.
   */
  readonly reopen?: (store: SubscribableStore) => Promise<SubscribableStore>
  /** Lease ttl and poll interval of the runtime cases (default 400 ms and 10 ms). */
  readonly timing?: { readonly leaseTtlMs?: number; readonly pollMs?: number }
  /** The backlog of the flat-memory case (default 2,000 commits) and its batch size (default 100). */
  readonly scale?: { readonly backlog?: number; readonly batchSize?: number }
  /** Receives the figures the suite measures (takeover times, catch-up time), for a note or a log. */
  readonly onFigure?: (figure: string, value: number, unit: string) => void
}

// -------------------------------------------------------------------------------------
// instruments
// -------------------------------------------------------------------------------------

interface Save {
  readonly holder: string
  readonly epoch: number
  readonly position: number
  /** Commits the runtime had pulled from reads when the save succeeded. */
  readonly pulled: number
  readonly at: number
}

interface Take {
  readonly holder: string
  readonly epoch: number
  readonly lease: Lease
  readonly at: number
}

/**
 * A store wrapped so that a test can see and disturb what the runtime does: every checkpoint write that
 * succeeded (the shared log), every lease taken, the commits pulled from reads; injected storage failures; and a
 * pause of one holder (its lease calls wait, as a stopped process would, until it is resumed).
 */
export interface Instrumented {
  readonly store: SubscribableStore
  readonly saves: Save[]
  readonly takes: Take[]
  readonly pulled: () => number
  /** The next `n` reads answer a `StorageError`. */
  failReads(n: number): void
  /** The next `n` reads throw (a store outside the kit). */
  throwReads(n: number): void
  /** The next `n` checkpoint writes answer a `StorageError` and write nothing. */
  failSaves(n: number): void
  /** The next `n` lease takes answer a `StorageError`. */
  failAcquires(n: number): void
  pause(holder: string): void
  resume(holder: string): void
}

export const instrument = (store: SubscribableStore): Instrumented => {
  // A feed shard's view keeps its position under its shard's key (SEMANTICS 7); a store of one feed under '0'.
  const shard = shardOf(store)
  let pulled = 0
  let readFailures = 0
  let readThrows = 0
  let saveFailures = 0
  let acquireFailures = 0
  const saves: Save[] = []
  const takes: Take[] = []
  const lastEpoch = new Map<string, number>()
  const paused = new Map<string, { readonly promise: Promise<void>; readonly resolve: () => void }>()
  const gate = async (holder: string): Promise<void> => {
    for (let p = paused.get(holder); p !== undefined; p = paused.get(holder)) await p.promise
  }
  const counted = (operation: string, reads: () => Reads<Commit>): Reads<Commit> => ({
    async *[Symbol.asyncIterator]() {
      if (readThrows > 0) {
        readThrows -= 1
        throw new Error('injected: the read threw')
      }
      if (readFailures > 0) {
        readFailures -= 1
        yield E.left(storageError(operation, new Error('injected: the connection was lost')))
        return
      }
      for await (const r of reads()) {
        if (E.isRight(r)) pulled += 1
        yield r
      }
    },
  })
  const ss = store.subscriptions
  const subscriptions: SubscriptionStore = {
    acquire: async (name, holder, ttlMs) => {
      if (acquireFailures > 0) {
        acquireFailures -= 1
        return E.left(storageError('acquire', new Error('injected: the connection was lost')))
      }
      await gate(holder)
      const r = await ss.acquire(name, holder, ttlMs)
      if (E.isRight(r) && O.isSome(r.right)) {
        const lease = r.right.value
        if ((lastEpoch.get(name) ?? 0) < lease.epoch) {
          lastEpoch.set(name, lease.epoch)
          takes.push({ holder, epoch: lease.epoch, lease, at: performance.now() })
        }
      }
      return r
    },
    renew: async (lease, ttlMs) => {
      await gate(lease.holder)
      return ss.renew(lease, ttlMs)
    },
    release: async (lease) => {
      await gate(lease.holder)
      return ss.release(lease)
    },
    lease: (name) => ss.lease(name),
    checkpoint: (name) => ss.checkpoint(name),
    saveCheckpoint: async (lease, checkpoint) => {
      await gate(lease.holder)
      if (saveFailures > 0) {
        saveFailures -= 1
        return E.left(storageError('saveCheckpoint', new Error('injected: the connection was lost')))
      }
      const r = await ss.saveCheckpoint(lease, checkpoint)
      if (E.isRight(r)) saves.push({ holder: lease.holder, epoch: lease.epoch, position: checkpoint.positions[shard] ?? 0, pulled, at: performance.now() })
      return r
    },
    resetCheckpoint: (name, holder, checkpoint) => ss.resetCheckpoint(name, holder, checkpoint),
    park: async (lease, parked) => {
      await gate(lease.holder)
      return ss.park(lease, parked)
    },
    parked: (name) => ss.parked(name),
    unpark: async (lease, token) => {
      await gate(lease.holder)
      return ss.unpark(lease, token)
    },
    watch: (wake) => ss.watch(wake),
  }
  const wrapped = new Proxy(store, {
    get: (target, prop) => {
      if (prop === 'subscriptions') return subscriptions
      if (prop === 'getFrom') return (from: number, tenantId?: string) => counted('getFrom', () => target.getFrom(from, tenantId))
      if (prop === 'getFromTo') return (from: number, to: number, tenantId?: string) => counted('getFromTo', () => target.getFromTo(from, to, tenantId))
      const v: unknown = Reflect.get(target, prop, target)
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v
    },
  })
  return {
    store: wrapped,
    saves,
    takes,
    pulled: () => pulled,
    failReads: (n) => void (readFailures = n),
    throwReads: (n) => void (readThrows = n),
    failSaves: (n) => void (saveFailures = n),
    failAcquires: (n) => void (acquireFailures = n),
    pause: (holder) => {
      if (paused.has(holder)) return
      let resolve: () => void = () => {}
      const promise = new Promise<void>((r) => (resolve = r))
      paused.set(holder, { promise, resolve })
    },
    resume: (holder) => {
      const p = paused.get(holder)
      paused.delete(holder)
      p?.resolve()
    },
  }
}

// -------------------------------------------------------------------------------------
// helpers
// -------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Waits until `condition` holds, polling; fails the test with `what` after `timeoutMs`. */
export const eventually = async (what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> => {
  const until = Date.now() + timeoutMs
  for (;;) {
    if (await condition()) return
    if (Date.now() > until) return expect.fail(`timed out after ${timeoutMs} ms waiting until ${what}`)
    await sleep(5)
  }
}

const positionOf = async (store: SubscribableStore, name: string): Promise<number> => {
  const c = right(await store.subscriptions.checkpoint(name))
  return O.isSome(c) ? (c.value.positions[shardOf(store)] ?? 0) : -1
}

const allTokens = async (store: SubscribableStore): Promise<number[]> => (await collect(store.getFrom(0))).map((c) => c.checkpointToken)

const ok = E.right(undefined)

/** Starts a subscription (failing the test on a bad option) that the session stops at its end. */
interface Start {
  <E>(options: RawOptions<E>): Subscription<E>
  <Ev extends { readonly type: string }, E>(options: DecodedOptions<Ev, E>): Subscription<E>
}

/** Writes `n` commits to a fresh stream, yielding to timers now and then so that a subscription runs in between. */
const writer = async (
  store: SubscribableStore,
  n: number,
  ids = freshIds(),
  options: { readonly events?: readonly EventMessage[]; readonly yieldEvery?: number } = {},
): Promise<Commit[]> => {
  const out: Commit[] = []
  const every = options.yieldEvery ?? 4
  for (let i = 0; i < n; i++) {
    out.push(right(await store.commit(next(out[out.length - 1], ids, options.events === undefined ? {} : { events: options.events }))))
    if (i % every === every - 1) await sleep(0)
  }
  return out
}

const body = (type: string, n: number, extra: Record<string, string | number> = {}): EventMessage => ({
  body: { type, id: 'x', version: n, timestamp: new Date(baseTime).toISOString(), ...extra },
  headers: {},
})

/** The contract's test events: `Noted` carries a `text`. */
const Noted = defineEvent('Noted', { text: t.string })
const notes = topicMap(Noted)

// -------------------------------------------------------------------------------------
// the suite
// -------------------------------------------------------------------------------------

/**
 * The subscription contract: the `SubscriptionStore` port (leases, epochs, fenced writes, parking, wake-ups) and
 * the subscription runtime on top of it (catch-up and live, starts, filters, flat memory, failures, parking and
 * replay, one running instance per name, takeover, fencing of a paused holder, reset). A store's spec file:
 *
 *   subscriptionContract({ name: 'sqlite', create: ..., dispose: ... })
 */
export const subscriptionContract = (harness: SubscriptionHarness): void => {
  const ttl = harness.timing?.leaseTtlMs ?? 400
  const pollMs = harness.timing?.pollMs ?? 10
  const figure = (what: string, value: number, unit = 'ms') => harness.onFigure?.(`${harness.name}: ${what}`, Math.round(value * 10) / 10, unit)
  /** Short everything, for tests. */
  const fast = {
    pollMs,
    idleBackoff: { maxMs: pollMs * 4 },
    leaseTtlMs: ttl,
    heartbeatMs: ttl / 4,
    standbyPollMs: Math.max(5, Math.min(20, ttl / 10)),
    retry: { attempts: 3, initialDelayMs: 2, maxDelayMs: 10 },
  } satisfies Partial<CommonOptions>

  /** Runs `body` on a fresh store; every subscription started through `start` is stopped afterwards. */
  const session = async (body: (s: { store: SubscribableStore; start: Start; extra: SubscribableStore[] }) => Promise<void>): Promise<void> => {
    const store = await harness.create()
    const started: Subscription<unknown>[] = []
    const extra: SubscribableStore[] = []
    function start<E>(options: RawOptions<E>): Subscription<E>
    function start<Ev extends { readonly type: string }, E>(options: DecodedOptions<Ev, E>): Subscription<E>
    function start<E>(options: RawOptions<E> | DecodedOptions<{ readonly type: string }, E>): Subscription<E> {
      const r = subscribe(options as RawOptions<E>)
      const sub = right(r)
      started.push(sub as Subscription<unknown>)
      return sub
    }
    try {
      await body({ store, start, extra })
    } finally {
      await Promise.all(started.map((s) => s.stop()))
      for (const e of extra) await e.close()
      await harness.dispose(store)
    }
  }

  /** A handler that keeps what it was given. */
  const collector = () => {
    const seen: Commit[] = []
    const batches: number[] = []
    const handler = async (batch: readonly Commit[]) => {
      seen.push(...batch)
      batches.push(batch.length)
      return ok
    }
    return { seen, batches, handler, tokens: () => seen.map((c) => c.checkpointToken) }
  }

  describe(`${harness.name}: subscription store (leases, fencing, parking)`, () => {
    it('a free lease is taken with a growing epoch; its holder renews it; another holder gets None until it is released', async () => {
      await session(async ({ store }) => {
        const ss = store.subscriptions
        const name = uid('sub')
        const a = some(right(await ss.acquire(name, 'a', ttl * 10)))
        expect(a).toMatchObject({ name, holder: 'a' })
        expect(a.epoch).toBeGreaterThanOrEqual(1)
        expect(a.expiresAt.getTime()).toBeGreaterThan(Date.now() - 5_000)
        // the holder takes it again: a renewal, same epoch
        const again = some(right(await ss.acquire(name, 'a', ttl * 10)))
        expect(again.epoch).toBe(a.epoch)
        // another holder waits
        expect(O.isNone(right(await ss.acquire(name, 'b', ttl * 10)))).toBe(true)
        expect(some(right(await ss.lease(name)))).toMatchObject({ holder: 'a', epoch: a.epoch })
        const renewed = right(await ss.renew(a, ttl * 20))
        expect(renewed.epoch).toBe(a.epoch)
        expect(renewed.expiresAt.getTime()).toBeGreaterThanOrEqual(a.expiresAt.getTime())
        // released: the other holder takes it at once, with a higher epoch
        right(await ss.release(a))
        const b = some(right(await ss.acquire(name, 'b', ttl * 10)))
        expect(b.epoch).toBeGreaterThan(a.epoch)
        // and the former holder's lease no longer renews, writes or parks
        expect(E.isLeft(await ss.renew(a, ttl))).toBe(true)
        expect((await ss.saveCheckpoint(a, { positions: { '0': 1 } }))).toEqual(E.left({ _tag: 'LeaseLost', name, epoch: a.epoch }))
        // releasing a lease that is no longer held leaves the holder's alone
        right(await ss.release(a))
        expect(some(right(await ss.lease(name)))).toMatchObject({ holder: 'b', epoch: b.epoch })
        // a name never leased has no lease, no checkpoint and nothing parked
        expect(right(await ss.lease(uid('other')))).toEqual(O.none)
        expect(right(await ss.checkpoint(uid('other')))).toEqual(O.none)
        expect(right(await ss.parked(uid('other')))).toEqual([])
      })
    })

    it('checkpoint writes are fenced by the epoch: an expired lease that was taken over can never write, forwards or back', async () => {
      await session(async ({ store }) => {
        const ss = store.subscriptions
        const name = uid('sub')
        const a = some(right(await ss.acquire(name, 'a', 50)))
        right(await ss.saveCheckpoint(a, { positions: { '0': 5 } }))
        // before anyone takes it over, an expired lease still fences for its holder (expiry alone grows no epoch)
        await sleep(120)
        right(await ss.saveCheckpoint(a, { positions: { '0': 6 } }))
        // taken over after expiry: a higher epoch
        await sleep(120)
        const b = some(right(await ss.acquire(name, 'b', ttl * 10)))
        expect(b.epoch).toBeGreaterThan(a.epoch)
        // the former holder cannot move the checkpoint, renew, park or unpark
        expect(await ss.saveCheckpoint(a, { positions: { '0': 99 } })).toEqual(E.left({ _tag: 'LeaseLost', name, epoch: a.epoch }))
        expect(await ss.saveCheckpoint(a, { positions: { '0': 1 } })).toEqual(E.left({ _tag: 'LeaseLost', name, epoch: a.epoch }))
        expect(E.isLeft(await ss.renew(a, ttl))).toBe(true)
        const parked = { name, checkpointToken: 3, tenantId: 't', streamId: 's', error: { why: 'x' }, parkedAt: new Date() }
        expect(E.isLeft(await ss.park(a, parked))).toBe(true)
        expect(E.isLeft(await ss.unpark(a, 3))).toBe(true)
        expect(right(await ss.parked(name))).toEqual([])
        expect(some(right(await ss.checkpoint(name)))).toEqual({ positions: { '0': 6 } })
        // the new holder writes; a checkpoint with several shards round-trips
        right(await ss.saveCheckpoint(b, { positions: { '0': 7, '1': 3 } }))
        expect(some(right(await ss.checkpoint(name)))).toEqual({ positions: { '0': 7, '1': 3 } })
        // a lease of the same epoch but another holder does not pass the fence
        expect(E.isLeft(await ss.saveCheckpoint({ ...b, holder: 'c' }, { positions: { '0': 8 } }))).toBe(true)
        // the former holder asking again gets None while the lease is live
        expect(right(await ss.acquire(name, 'a', ttl))).toEqual(O.none)
      })
    })

    it('resetCheckpoint writes through the fence: None while a live lease is held; otherwise it takes the lease (the epoch grows) and gives it back', async () => {
      await session(async ({ store }) => {
        const ss = store.subscriptions
        const name = uid('sub')
        const a = some(right(await ss.acquire(name, 'a', ttl * 10)))
        right(await ss.saveCheckpoint(a, { positions: { '0': 4 } }))
        expect(right(await ss.resetCheckpoint(name, 'reset', { positions: { '0': 0 } }))).toEqual(O.none)
        expect(some(right(await ss.checkpoint(name)))).toEqual({ positions: { '0': 4 } })
        right(await ss.release(a))
        const taken = some(right(await ss.resetCheckpoint(name, 'reset', { positions: { '0': 2 } })))
        expect(taken.epoch).toBeGreaterThan(a.epoch)
        expect(some(right(await ss.checkpoint(name)))).toEqual({ positions: { '0': 2 } })
        // given back: another holder takes it at once; the former holder stays fenced off
        const b = some(right(await ss.acquire(name, 'b', ttl * 10)))
        expect(b.epoch).toBeGreaterThan(taken.epoch)
        expect(E.isLeft(await ss.saveCheckpoint(a, { positions: { '0': 9 } }))).toBe(true)
        right(await ss.release(b))
        // undefined removes the checkpoint
        expect(O.isSome(right(await ss.resetCheckpoint(name, 'reset', undefined)))).toBe(true)
        expect(right(await ss.checkpoint(name))).toEqual(O.none)
      })
    })

    it('parked commits are kept per name, oldest token first, with their error and time; parking a token again replaces it', async () => {
      await session(async ({ store }) => {
        const ss = store.subscriptions
        const name = uid('sub')
        const other = uid('sub')
        const a = some(right(await ss.acquire(name, 'a', ttl * 10)))
        const o = some(right(await ss.acquire(other, 'a', ttl * 10)))
        const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678))
        const p = (token: number, error: unknown) => ({ name, checkpointToken: token, tenantId: "t'1", streamId: 's "x" 日本', error: error as never, parkedAt: at })
        right(await ss.park(a, p(9, { _tag: 'HandlerFailed', nested: [1, 'two', { three: null }] })))
        right(await ss.park(a, p(3, 'first')))
        right(await ss.park(a, p(9, { replaced: true })))
        right(await ss.park(o, { ...p(1, 'other'), name: other }))
        const listed = right(await ss.parked(name))
        expect(listed.map((x) => x.checkpointToken)).toEqual([3, 9])
        expect(listed[0]).toEqual(p(3, 'first'))
        expect(listed[1]?.error).toEqual({ replaced: true })
        expect(listed[1]?.parkedAt.getTime()).toBe(at.getTime())
        right(await ss.unpark(a, 3))
        right(await ss.unpark(a, 12345)) // not parked: not an error
        expect(right(await ss.parked(name)).map((x) => x.checkpointToken)).toEqual([9])
        expect(right(await ss.parked(other)).map((x) => x.checkpointToken)).toEqual([1])
      })
    })

    it('names are data: quotes, separators and any Unicode name distinct subscriptions', async () => {
      await session(async ({ store }) => {
        const ss = store.subscriptions
        const names = [`a'b"c;--${uid('')}`, `a'b"c;--${uid('')} `, `日本語/\\%_${uid('')}`, `\u{1F600}${uid('')}`]
        for (const [i, name] of names.entries()) {
          const l = some(right(await ss.acquire(name, 'h', ttl * 10)))
          right(await ss.saveCheckpoint(l, { positions: { '0': i + 1 } }))
        }
        for (const [i, name] of names.entries()) expect(some(right(await ss.checkpoint(name)))).toEqual({ positions: { '0': i + 1 } })
      })
    })

    it('watch wakes after a commit made through this store object; the returned call stops it', async () => {
      await session(async ({ store }) => {
        let woken = 0
        const unwatch = store.subscriptions.watch(() => void (woken += 1))
        const ids = freshIds()
        const c = right(await store.commit(next(undefined, ids)))
        await eventually('watch woke', () => woken > 0, 2_000)
        unwatch()
        const before = woken
        right(await store.commit(next(c, ids)))
        await sleep(30)
        expect(woken).toBe(before)
      })
    })
  })

  describe(`${harness.name}: subscriptions (catch-up, live, starts, filters)`, () => {
    it('catches up, then goes live, and sees every commit exactly once in token order while several writers append', async () => {
      await session(async ({ store, start }) => {
        await writer(store, 60)
        const c = collector()
        const sub = start({ name: uid('sub'), store, batchSize: 16, handler: c.handler, ...fast })
        await Promise.all([writer(store, 50), writer(store, 50), writer(store, 50), writer(store, 50)])
        right(await sub.caughtUp())
        const all = await allTokens(store)
        expect(all).toHaveLength(260)
        expect(c.tokens()).toEqual(all)
        const status = right(await sub.status())
        expect(status).toMatchObject({ state: 'live', holding: true, position: all[all.length - 1], headToken: all[all.length - 1] })
        expect(status.lag).toEqual({ commits: 0, atLeast: false, ms: 0 })
        // and new commits arrive live
        await writer(store, 5)
        right(await sub.caughtUp())
        expect(c.tokens()).toEqual(await allTokens(store))
      })
    }, 60_000)

    it('a commit made in this process wakes a live subscription long before its next poll', async () => {
      await session(async ({ store, start }) => {
        const seenAt: number[] = []
        const sub = start({
          name: uid('sub'),
          store,
          handler: async (batch) => {
            for (const _ of batch) seenAt.push(performance.now())
            return ok
          },
          ...fast,
          pollMs: 5_000,
          idleBackoff: { maxMs: 5_000 },
        })
        right(await sub.caughtUp())
        const latencies: number[] = []
        for (let i = 0; i < 10; i++) {
          await sleep(20)
          const before = performance.now()
          right(await store.commit(next(undefined, freshIds())))
          await eventually('the commit was handled', () => seenAt.length > i, 2_000)
          latencies.push((seenAt[i] as number) - before)
        }
        latencies.sort((x, y) => x - y)
        figure('commit-to-handler latency, in-process wake-up, p50', latencies[5] as number)
        expect(latencies[5]).toBeLessThan(1_000)
      })
    })

    it('starts where `start` says when no checkpoint is stored, and from the checkpoint afterwards', async () => {
      await session(async ({ store, start }) => {
        const first = await writer(store, 5)
        // 'end': only what comes after
        const end = collector()
        const name = uid('sub')
        const atEnd = start({ name, store, start: 'end', handler: end.handler, ...fast })
        right(await atEnd.caughtUp())
        expect(end.seen).toEqual([])
        const later = await writer(store, 3)
        right(await atEnd.caughtUp())
        expect(end.tokens()).toEqual(later.map((c) => c.checkpointToken))
        await atEnd.stop()
        // the stored checkpoint wins over `start` from now on
        const again = collector()
        const resumed = start({ name, store, start: 'beginning', handler: again.handler, ...fast })
        right(await resumed.caughtUp())
        expect(again.seen).toEqual([])
        await resumed.stop()
        // a token: the commits after it
        const fromToken = collector()
        const t2 = (first[1] as Commit).checkpointToken
        right(await start({ name: uid('sub'), store, start: { token: t2 }, handler: fromToken.handler, ...fast }).caughtUp())
        expect(fromToken.tokens()).toEqual((await allTokens(store)).filter((x) => x > t2))
        // the beginning: everything
        const all = collector()
        right(await start({ name: uid('sub'), store, start: 'beginning', handler: all.handler, ...fast }).caughtUp())
        expect(all.tokens()).toEqual(await allTokens(store))
      })
    })

    it('start at a time begins at the first token stamped at or after it: a starting point, not a filter', async () => {
      await session(async ({ store, start }) => {
        // stamps out of token order, as writers' clocks make them
        const offsets = [10, 30, 20, 40, 5]
        const written: Commit[] = []
        for (const o of offsets) written.push(right(await store.commit(attempt({ ...freshIds(), commitSequence: 1, commitStamp: new Date(baseTime + o) }))))
        const c = collector()
        right(await start({ name: uid('sub'), store, start: { time: new Date(baseTime + 20) }, handler: c.handler, ...fast }).caughtUp())
        // the first token stamped at or after +20 is the second commit (+30); the later +20 and +5 ones follow it
        expect(c.tokens()).toEqual(written.slice(1).map((x) => x.checkpointToken))
        // a time after every commit starts at the end
        const none = collector()
        const late = start({ name: uid('sub'), store, start: { time: new Date(baseTime + 1_000) }, handler: none.handler, ...fast })
        right(await late.caughtUp())
        expect(none.seen).toEqual([])
        const after = await writer(store, 1)
        right(await late.caughtUp())
        expect(none.tokens()).toEqual(after.map((x) => x.checkpointToken))
      })
    })

    it('filters by tenant, topic, stream prefix and predicate; the checkpoint still moves over what does not match, so the lag reaches 0', async () => {
      await session(async ({ store, start }) => {
        const tenantA = uid('tenant-a')
        const tenantB = uid('tenant-b')
        const w = async (tenantId: string, streamId: string, type: string, n: number) =>
          writer(store, n, { tenantId, streamId }, { events: [body(type, 1), body('Other', 2)] })
        await Promise.all([w(tenantA, 'account-1', 'Opened', 6), w(tenantB, 'account-2', 'Closed', 6), w(tenantA, 'order-1', 'Closed', 6)])
        const all = await collect(store.getFrom(0))
        const head = all[all.length - 1]?.checkpointToken as number
        const run = async (source: NonNullable<CommonOptions['source']>) => {
          const c = collector()
          const name = uid('sub')
          const sub = start({ name, store, source, batchSize: 4, handler: c.handler, ...fast })
          right(await sub.caughtUp())
          const status = right(await sub.status())
          expect(status.lag.commits).toBe(0)
          return { seen: c.tokens(), position: status.position }
        }
        const tokensOf = (p: (c: Commit) => boolean) => all.filter(p).map((c) => c.checkpointToken)
        const byTenant = await run({ tenantId: tenantA })
        expect(byTenant.seen).toEqual(tokensOf((c) => c.tenantId === tenantA))
        const byTopic = await run({ topics: ['Closed'] })
        expect(byTopic.seen).toEqual(tokensOf((c) => c.events.some((m) => m.body.type === 'Closed')))
        expect(byTopic.position).toBe(head)
        const byPrefix = await run({ streamPrefix: 'order-' })
        expect(byPrefix.seen).toEqual(tokensOf((c) => c.streamId.startsWith('order-')))
        expect(byPrefix.position).toBe(head)
        const byPredicate = await run({ filter: (c) => c.commitSequence % 2 === 0, tenantId: tenantB })
        expect(byPredicate.seen).toEqual(tokensOf((c) => c.tenantId === tenantB && c.commitSequence % 2 === 0))
        const nothing = await run({ filter: () => false })
        expect(nothing.seen).toEqual([])
        expect(nothing.position).toBe(head)
      })
    })

    it('decodes events through a topic map; what does not decode is skipped, parked or stops the subscription, by policy', async () => {
      await session(async ({ store, start }) => {
        const ids = freshIds()
        const good = (n: number) => body('Noted', n, { text: `note ${n}` })
        const written = await writer(store, 1, ids, { events: [good(1), body('Unknown', 2)] })
        written.push(...(await writer(store, 1, freshIds(), { events: [body('Noted', 1, { text: 42 })] })))
        written.push(...(await writer(store, 1, freshIds(), { events: [good(1)] })))
        // skip: the commit goes on with the events that decode; a commit with none is not delivered
        const decoded: Array<{ token: number; texts: string[] }> = []
        const skip = start({
          name: uid('sub'),
          store,
          decode: { topics: notes, onError: 'skip' },
          handler: async (batch) => {
            for (const c of batch) decoded.push({ token: c.checkpointToken, texts: c.events.map((e) => e.event.text) })
            return ok
          },
          ...fast,
        })
        right(await skip.caughtUp())
        expect(decoded).toEqual([
          { token: written[0]?.checkpointToken, texts: ['note 1'] },
          { token: written[2]?.checkpointToken, texts: ['note 1'] },
        ])
        // with source.topics, the other events are not even decoded (else 'stop' would stop at the Unknown one)
        const scoped: string[][] = []
        right(
          await start({
            name: uid('sub'),
            store,
            source: { topics: ['Noted'], filter: (c) => c.checkpointToken !== written[1]?.checkpointToken },
            decode: { topics: notes, onError: 'stop' },
            handler: async (batch) => {
              for (const c of batch) scoped.push(c.events.map((e) => e.event.type))
              return ok
            },
            ...fast,
          }).caughtUp(),
        )
        expect(scoped).toEqual([['Noted'], ['Noted']])
        // stop: DecodeFailed, checkpoint before the commit
        const name = uid('sub')
        const stop = start({ name, store, decode: { topics: notes, onError: 'stop' }, source: { topics: ['Noted'] }, handler: async () => ok, ...fast })
        const failed = await stop.caughtUp()
        expect(E.isLeft(failed) && failed.left._tag).toBe('DecodeFailed')
        expect(await positionOf(store, name)).toBe(written[0]?.checkpointToken)
        expect(right(await stop.status()).state).toBe('failed')
        // park: set aside with its decode error, and the rest goes on
        const parkName = uid('sub')
        const park = start({ name: parkName, store, decode: { topics: notes, onError: 'park' }, source: { topics: ['Noted'] }, handler: async () => ok, ...fast })
        right(await park.caughtUp())
        const parked = right(await listParked(store, parkName))
        expect(parked.map((p) => p.checkpointToken)).toEqual([written[1]?.checkpointToken])
        expect(parked[0]?.error).toMatchObject({ _tag: 'DecodeError', topic: 'Noted' })
        expect(await positionOf(store, parkName)).toBe(written[2]?.checkpointToken)
      })
    })
  })

  describe(`${harness.name}: subscriptions (batches, memory, failures, parking)`, () => {
    it('never holds more than two batches (the one handed over and the next, read while its checkpoint is stored): a backlog is read in windows, and every batch is handed over whole and in order', async () => {
      await session(async ({ store, start }) => {
        const backlog = harness.scale?.backlog ?? 2_000
        const batchSize = harness.scale?.batchSize ?? 100
        const streams = 8
        // eight writers, each in a tenant of its own, interleaved
        const tenants = Array.from({ length: streams }, () => freshIds())
        await Promise.all(tenants.map((ids) => writer(store, Math.ceil(backlog / streams), ids, { yieldEvery: Number.MAX_SAFE_INTEGER })))
        const total = (await allTokens(store)).length
        const inst = instrument(store)
        let count = 0
        let maxBatch = 0
        let last = 0
        let ordered = true
        const began = performance.now()
        const sub = start({
          name: uid('sub'),
          store: inst.store,
          batchSize,
          handler: async (batch) => {
            maxBatch = Math.max(maxBatch, batch.length)
            for (const c of batch) {
              if (c.checkpointToken <= last) ordered = false
              last = c.checkpointToken
            }
            count += batch.length
            return ok
          },
          ...fast,
        })
        right(await sub.caughtUp())
        figure(`catch-up of ${total} commits (batch ${batchSize}, no-op handler)`, performance.now() - began)
        expect(count).toBe(total)
        expect(ordered).toBe(true)
        expect(maxBatch).toBe(batchSize)
        // in flight: the commits pulled from reads between two checkpoint writes; behind the head the next batch
        // is read while a checkpoint is stored, so up to two batches
        let inFlight = 0
        for (let i = 1; i < inst.saves.length; i++) inFlight = Math.max(inFlight, (inst.saves[i] as Save).pulled - (inst.saves[i - 1] as Save).pulled)
        figure(`most commits in flight (batch ${batchSize})`, inFlight, 'commits')
        expect(inFlight).toBeLessThanOrEqual(2 * batchSize)
        expect(inst.saves.length).toBeGreaterThanOrEqual(Math.ceil(total / batchSize))
        // one tenant's share: its token windows are sparse, so batches are filled by reads that stop when full
        const scoped = instrument(store)
        const tenantId = (tenants[3] as { tenantId: string }).tenantId
        let seen = 0
        const one = start({
          name: uid('sub'),
          store: scoped.store,
          source: { tenantId },
          batchSize,
          handler: async (batch) => {
            maxBatch = Math.max(maxBatch, batch.length)
            seen += batch.length
            return ok
          },
          ...fast,
        })
        right(await one.caughtUp())
        expect(seen).toBe(Math.ceil(backlog / streams))
        let scopedInFlight = 0
        for (let i = 1; i < scoped.saves.length; i++)
          scopedInFlight = Math.max(scopedInFlight, (scoped.saves[i] as Save).pulled - (scoped.saves[i - 1] as Save).pulled)
        expect(scopedInFlight).toBeLessThanOrEqual(2 * batchSize)
        expect(maxBatch).toBe(batchSize)
      })
    }, 120_000)

    it('while behind, batches grow to catchUpBatchSize (one checkpoint per large batch); the first read at the head takes batchSize', async () => {
      await session(async ({ store, start }) => {
        const batchSize = 5
        const catchUpBatchSize = 40
        await writer(store, 200)
        const total = (await allTokens(store)).length
        const inst = instrument(store)
        const sizes: number[] = []
        let count = 0
        const sub = start({
          name: uid('sub'),
          store: inst.store,
          batchSize,
          catchUpBatchSize,
          handler: async (batch) => {
            sizes.push(batch.length)
            count += batch.length
            return ok
          },
          ...fast,
        })
        right(await sub.caughtUp())
        expect(count).toBe(total)
        // the backlog went over in catch-up batches, none larger (a read that comes back short, as one held back
        // by PostgreSQL's horizon may, drops to batchSize until a full batch shows it is behind again)
        expect(Math.max(...sizes)).toBe(catchUpBatchSize)
        expect(sizes.filter((n) => n === catchUpBatchSize).length).toBeGreaterThanOrEqual(Math.floor(total / catchUpBatchSize / 2))
        // one checkpoint per batch: far fewer than one per batchSize commits
        expect(inst.saves.length).toBeLessThanOrEqual(total / batchSize / 2)
        // live: the first read after the head takes at most batchSize (a full one then means behind again)
        sizes.length = 0
        const burst = await writer(store, 12, freshIds(), { yieldEvery: Number.MAX_SAFE_INTEGER })
        await eventually('the burst was handled', () => count === total + burst.length)
        expect(sizes[0]).toBeLessThanOrEqual(batchSize)
        expect(Math.max(...sizes)).toBeLessThanOrEqual(catchUpBatchSize)
        await sub.stop()
        // out of range: below batchSize, or above the maximum
        for (const bad of [batchSize - 1, 10_001, 2.5])
          expect(E.isLeft(subscribe({ name: uid('sub'), store, batchSize, catchUpBatchSize: bad, handler: async () => ok }))).toBe(true)
      })
    })

    it('a failing handler is retried with back-off, then stops the subscription with a typed error and its checkpoint at the last good batch', async () => {
      await session(async ({ store, start }) => {
        const written = await writer(store, 10)
        const bad = (written[6] as Commit).checkpointToken
        for (const mode of ['left', 'throw'] as const) {
          const calls: number[][] = []
          const name = uid('sub')
          const sub = start({
            name,
            store,
            batchSize: 3,
            handler: async (batch) => {
              calls.push(batch.map((c) => c.checkpointToken))
              if (!batch.some((c) => c.checkpointToken === bad)) return ok
              if (mode === 'throw') throw new Error('the handler threw')
              return E.left({ code: 'boom' })
            },
            ...fast,
          })
          const r = await sub.caughtUp()
          if (E.isRight(r) || r.left._tag !== 'HandlerFailed') return expect.fail(`expected HandlerFailed, got ${JSON.stringify(r)}`)
          expect(r.left).toMatchObject({ name, attempts: 3, fromToken: bad, toToken: (written[8] as Commit).checkpointToken })
          expect(r.left.error._tag).toBe(mode === 'left' ? 'Left' : 'Threw')
          if (r.left.error._tag === 'Left') expect(r.left.error.left).toEqual({ code: 'boom' })
          expect(calls.filter((b) => b.includes(bad))).toHaveLength(3)
          expect(await positionOf(store, name)).toBe((written[5] as Commit).checkpointToken)
          const status = right(await sub.status())
          expect(status.state).toBe('failed')
          expect(status.lastError?._tag).toBe('HandlerFailed')
          expect(status.lag.commits).toBe(4)
          // a new instance with a fixed handler goes on from the last good batch
          await sub.stop()
          const c = collector()
          right(await start({ name, store, handler: c.handler, ...fast }).caughtUp())
          expect(c.tokens()).toEqual(written.slice(6).map((x) => x.checkpointToken))
        }
      })
    })

    it('a handler that fails and then succeeds loses nothing', async () => {
      await session(async ({ store, start }) => {
        await writer(store, 12)
        let failures = 2
        const c = collector()
        const sub = start({
          name: uid('sub'),
          store,
          batchSize: 5,
          handler: async (batch) => {
            if (failures > 0) {
              failures -= 1
              return E.left('not yet')
            }
            return c.handler(batch)
          },
          ...fast,
        })
        right(await sub.caughtUp())
        expect(c.tokens()).toEqual(await allTokens(store))
        expect(right(await sub.status()).state).toBe('live')
      })
    })

    it("the park policy sets a failing commit aside and goes on; later commits of its stream are parked behind it (per-stream order), other streams go on", async () => {
      await session(async ({ store, start }) => {
        const s = freshIds()
        const u = freshIds()
        const heads = new Map<string, Commit>()
        const write = async (ids: { tenantId: string; streamId: string }) => {
          const c = right(await store.commit(next(heads.get(ids.streamId), ids)))
          heads.set(ids.streamId, c)
          return c
        }
        const s1 = await write(s)
        const u1 = await write(u)
        const s2 = await write(s)
        const u2 = await write(u)
        const s3 = await write(s)
        const u3 = await write(u)
        let broken = true
        const handled: number[] = []
        const name = uid('sub')
        const handler = async (batch: readonly Commit[]) => {
          if (broken && batch.some((c) => c.commitId === s2.commitId)) return E.left({ reason: 'cannot handle s2' })
          handled.push(...batch.map((c) => c.checkpointToken))
          return ok
        }
        const sub = start({ name, store, batchSize: 10, onFailure: 'park', handler, ...fast })
        right(await sub.caughtUp())
        expect(handled).toEqual([s1, u1, u2, u3].map((c) => c.checkpointToken))
        const parked = right(await listParked(store, name))
        expect(parked.map((p) => p.checkpointToken)).toEqual([s2.checkpointToken, s3.checkpointToken])
        expect(parked[0]).toMatchObject({ name, tenantId: s.tenantId, streamId: s.streamId, error: { _tag: 'HandlerFailed', attempts: 3 } })
        expect(parked[1]?.error).toEqual({ _tag: 'ParkedBehind', checkpointToken: s2.checkpointToken })
        const status = right(await sub.status())
        expect(status).toMatchObject({ parked: 2, lag: { commits: 0 } })
        // a later commit of the parked stream waits behind it too; other streams go on
        const s4 = await write(s)
        const u4 = await write(u)
        right(await sub.caughtUp())
        expect(handled.slice(-1)).toEqual([u4.checkpointToken])
        expect(right(await listParked(store, name)).map((p) => p.checkpointToken)).toEqual([s2, s3, s4].map((c) => c.checkpointToken))
        // replayed through the running instance once the handler is fixed: in order, then the stream flows again
        broken = false
        const report = right(await sub.replayParked())
        expect(report).toEqual({ replayed: [s2, s3, s4].map((c) => c.checkpointToken), failed: [], held: [], missing: [] })
        expect(handled.slice(-3)).toEqual([s2, s3, s4].map((c) => c.checkpointToken))
        expect(right(await listParked(store, name))).toEqual([])
        const s5 = await write(s)
        right(await sub.caughtUp())
        expect(handled.slice(-1)).toEqual([s5.checkpointToken])
      })
    })

    it('without parkStreamAfterFailure, only the failing commit is parked', async () => {
      await session(async ({ store, start }) => {
        const ids = freshIds()
        const written = await writer(store, 4, ids)
        const bad = written[1] as Commit
        const handled: number[] = []
        const name = uid('sub')
        const sub = start({
          name,
          store,
          batchSize: 2,
          onFailure: 'park',
          parkStreamAfterFailure: false,
          handler: async (batch) => {
            if (batch.some((c) => c.checkpointToken === bad.checkpointToken)) return E.left('no')
            handled.push(...batch.map((c) => c.checkpointToken))
            return ok
          },
          ...fast,
        })
        right(await sub.caughtUp())
        expect(handled).toEqual([written[0], written[2], written[3]].map((c) => (c as Commit).checkpointToken))
        expect(right(await listParked(store, name)).map((p) => p.checkpointToken)).toEqual([bad.checkpointToken])
      })
    })

    it('replayParked (no instance running) replays in per-stream order, keeps what fails again, and is refused while an instance runs', async () => {
      await session(async ({ store, start }) => {
        const a = await writer(store, 3)
        const b = await writer(store, 2)
        const name = uid('sub')
        const failing = new Set([a[0]?.checkpointToken, b[0]?.checkpointToken])
        const sub = start({
          name,
          store,
          onFailure: 'park',
          handler: async (batch) => (batch.some((c) => failing.has(c.checkpointToken)) ? E.left('no') : ok),
          ...fast,
        })
        right(await sub.caughtUp())
        expect(right(await listParked(store, name))).toHaveLength(5)
        // refused while an instance holds the lease
        const refused = await replayParked({ store, name, handler: async () => ok })
        expect(E.isLeft(refused) && refused.left._tag).toBe('LeaseHeld')
        if (E.isLeft(refused) && refused.left._tag === 'LeaseHeld') expect(refused.left.holder).toBe(sub.holder)
        await sub.stop()
        // stream a's first commit still fails: it and its stream stay parked; stream b is replayed in order
        const replayed: number[] = []
        const report = right(
          await replayParked({
            store,
            name,
            handler: async (batch) => {
              if (batch.some((c) => c.checkpointToken === a[0]?.checkpointToken)) return E.left('still no')
              replayed.push(...batch.map((c) => c.checkpointToken))
              return ok
            },
          }),
        )
        expect(report.replayed).toEqual(b.map((c) => c.checkpointToken))
        expect(report.failed.map((f) => f.checkpointToken)).toEqual([a[0]?.checkpointToken])
        expect(report.held).toEqual(a.slice(1).map((c) => c.checkpointToken))
        expect(replayed).toEqual(b.map((c) => c.checkpointToken))
        expect(right(await listParked(store, name)).map((p) => p.checkpointToken)).toEqual(a.map((c) => c.checkpointToken))
        // only some tokens; then the rest
        const later = right(await replayParked({ store, name, tokens: [a[0]?.checkpointToken as number], handler: async () => ok }))
        expect(later.replayed).toEqual([a[0]?.checkpointToken])
        const rest = right(await replayParked({ store, name, handler: async () => ok }))
        expect(rest.replayed).toEqual(a.slice(1).map((c) => c.checkpointToken))
        expect(right(await listParked(store, name))).toEqual([])
      })
    })

    it('a lost connection (StorageError on reads, lease takes and checkpoint writes, or a read that throws) is retried, never a crash, and nothing is lost or repeated', async () => {
      await session(async ({ store, start }) => {
        await writer(store, 20)
        const inst = instrument(store)
        inst.failAcquires(2)
        inst.failReads(3)
        const c = collector()
        const sub = start({ name: uid('sub'), store: inst.store, batchSize: 4, handler: c.handler, ...fast })
        await eventually('the first batch', () => c.seen.length >= 4)
        inst.failSaves(2)
        inst.throwReads(2)
        right(await sub.caughtUp())
        await writer(store, 6)
        inst.failReads(1)
        right(await sub.caughtUp())
        expect(c.tokens()).toEqual(await allTokens(store))
        expect(right(await sub.status()).lastError?._tag).toBe('StorageError')
      })
    })
  })

  describe(`${harness.name}: subscriptions (one instance per name, takeover, fencing, reset)`, () => {
    for (const n of [2, 3]) {
      it(`${n} instances of one name: a shared log proves no two ever committed checkpoints for overlapping batches; each stop hands over to a standby`, async () => {
        await session(async ({ store, start, extra }) => {
          const other = harness.reopen === undefined ? store : await harness.reopen(store)
          if (other !== store) extra.push(other)
          const insts = [instrument(store), instrument(other)]
          const name = uid('sub')
          const handled: Array<{ readonly holder: string; readonly tokens: readonly number[] }> = []
          let serial = 0
          const launch = () => {
            serial += 1
            const inst = insts[serial % 2] as Instrumented
            return start({
              name,
              store: inst.store,
              holder: `instance-${serial}`,
              batchSize: 7,
              handler: async (batch, ctx) => {
                handled.push({ holder: ctx.holder, tokens: batch.map((c) => c.checkpointToken) })
                await sleep(1)
                return ok
              },
              ...fast,
            })
          }
          let running = Array.from({ length: n }, launch)
          const writing = Promise.all([writer(store, 60), writer(store, 60), writer(store, 60)])
          const takeovers: number[] = []
          for (let round = 0; round < 4; round++) {
            const before = handled.length
            await eventually('the holder handled a batch', () => handled.length > before + 1)
            const holder = some(right(await store.subscriptions.lease(name))).holder
            const current = running.find((s) => s.holder === holder)
            if (current === undefined) return expect.fail(`no running instance holds the lease (${holder})`)
            const takesBefore = insts.reduce((k, i) => k + i.takes.length, 0)
            const stoppedAt = performance.now()
            await current.stop()
            await eventually('a standby took over', () => insts.reduce((k, i) => k + i.takes.length, 0) > takesBefore)
            const taken = Math.min(...insts.flatMap((i) => i.takes.filter((t) => t.at >= stoppedAt).map((t) => t.at)))
            takeovers.push(taken - stoppedAt)
            // a new standby replaces the stopped instance
            running = [...running.filter((s) => s !== current), launch()]
          }
          await writing
          const all = await allTokens(store)
          await eventually('the checkpoint reached the head', async () => (await positionOf(store, name)) === all[all.length - 1])
          await Promise.all(running.map((s) => s.stop()))
          figure(`takeover after the holder stopped, ${n} instances (max of ${takeovers.length})`, Math.max(...takeovers))
          // the shared log: checkpoint writes that succeeded, from every instance, in the order they happened
          const saves = insts.flatMap((i) => i.saves).sort((x, y) => x.at - y.at)
          for (let i = 1; i < saves.length; i++) {
            const prev = saves[i - 1] as Save
            const cur = saves[i] as Save
            // each committed batch starts after the one before: no two overlap, whoever wrote them
            expect(cur.position, `save ${i} by ${cur.holder} after ${prev.holder}`).toBeGreaterThan(prev.position)
            expect(cur.epoch).toBeGreaterThanOrEqual(prev.epoch)
            // and the instance that committed a batch is the one that handled it
            const mine = new Set(handled.filter((h) => h.holder === cur.holder).flatMap((h) => h.tokens))
            const range = all.filter((x) => x > prev.position && x <= cur.position)
            expect(range.filter((x) => !mine.has(x)), `batch (${prev.position}, ${cur.position}] by ${cur.holder}`).toEqual([])
          }
          expect(new Set(saves.map((s) => s.holder)).size).toBeGreaterThanOrEqual(4)
          // graceful hand-overs repeat nothing: every commit was handled exactly once, in token order
          expect(handled.flatMap((h) => h.tokens)).toEqual(all)
        })
      }, 60_000)
    }

    it('a holder paused past its lease (its heartbeat stopped) is taken over, and once resumed cannot write its checkpoint (LeaseLost); the new holder goes on', async () => {
      await session(async ({ store, start }) => {
        const written = await writer(store, 10)
        const inst = instrument(store)
        const name = uid('sub')
        let releasePaused: () => void = () => {}
        const pausedHandler = new Promise<void>((r) => (releasePaused = r))
        const byA: number[] = []
        let inHandler = false
        const a = start({
          name,
          store: inst.store,
          holder: 'paused-a',
          batchSize: 4,
          handler: async (batch) => {
            // the process stops mid-batch: no heartbeat, no writes, until it is resumed
            inst.pause('paused-a')
            inHandler = true
            await pausedHandler
            byA.push(...batch.map((c) => c.checkpointToken))
            return ok
          },
          ...fast,
        })
        await eventually('A holds the lease and is in its handler', () => inHandler)
        const pausedAt = performance.now()
        const byB = collector()
        const b = start({ name, store: inst.store, holder: 'standby-b', batchSize: 4, handler: byB.handler, ...fast })
        await eventually('B took over after the lease expired', () => inst.takes.some((t) => t.holder === 'standby-b'), ttl * 20)
        const takeB = inst.takes.find((t) => t.holder === 'standby-b') as Take
        const takeA = inst.takes.find((t) => t.holder === 'paused-a') as Take
        figure('takeover after the holder paused (lease expiry)', takeB.at - pausedAt)
        expect(takeB.epoch).toBeGreaterThan(takeA.epoch)
        right(await b.caughtUp())
        expect(byB.tokens()).toEqual(written.map((c) => c.checkpointToken))
        // resumed: its writes with the old epoch are refused, and it goes back to standby
        const savesBefore = inst.saves.length
        inst.resume('paused-a')
        releasePaused()
        expect(await store.subscriptions.saveCheckpoint(takeA.lease, { positions: { '0': 1 } })).toEqual(E.left({ _tag: 'LeaseLost', name, epoch: takeA.epoch }))
        await eventually('A went back to standby', async () => right(await a.status()).state === 'standby')
        const statusA = right(await a.status())
        expect(statusA.holding).toBe(false)
        expect(statusA.lastError?._tag).toBe('LeaseLost')
        expect(inst.saves.slice(savesBefore).filter((s) => s.holder === 'paused-a')).toEqual([])
        expect(inst.saves.filter((s) => s.holder === 'paused-a' && s.at > takeB.at)).toEqual([])
        // the new holder goes on
        const more = await writer(store, 3)
        right(await b.caughtUp())
        expect(byB.tokens().slice(-3)).toEqual(more.map((c) => c.checkpointToken))
        expect(await positionOf(store, name)).toBe(more[2]?.checkpointToken)
      })
    }, 60_000)

    it('reset moves the checkpoint through the fence: refused while an instance runs; to the beginning, a token, a time or the end', async () => {
      await session(async ({ store, start }) => {
        const written = await writer(store, 6)
        const tokens = written.map((c) => c.checkpointToken)
        const name = uid('sub')
        const c = collector()
        const sub = start({ name, store, handler: c.handler, ...fast })
        right(await sub.caughtUp())
        const held = await resetSubscription({ store, name, to: 'beginning' })
        if (E.isRight(held) || held.left._tag !== 'LeaseHeld') return expect.fail(`expected LeaseHeld, got ${JSON.stringify(held)}`)
        expect(held.left.holder).toBe(sub.holder)
        expect(await positionOf(store, name)).toBe(tokens[5])
        await sub.stop()
        const again = async () => {
          const k = collector()
          const s = start({ name, store, handler: k.handler, ...fast })
          right(await s.caughtUp())
          await s.stop()
          return k.tokens()
        }
        expect(right(await resetSubscription({ store, name, to: 'beginning' }))).toEqual({ positions: { [shardOf(store)]: 0 } })
        expect(await again()).toEqual(tokens)
        right(await resetSubscription({ store, name, to: { token: tokens[3] as number } }))
        expect(await again()).toEqual(tokens.slice(4))
        right(await resetSubscription({ store, name, to: { time: (written[2] as Commit).commitStamp } }))
        expect(await again()).toEqual(tokens.slice(2))
        right(await resetSubscription({ store, name, to: 'end' }))
        expect(await again()).toEqual([])
        // a former holder whose lease expired is fenced off by the reset: it can never write again
        const old = some(right(await store.subscriptions.acquire(name, 'old', 30)))
        await sleep(80)
        right(await resetSubscription({ store, name, to: 'beginning' }))
        expect(E.isLeft(await store.subscriptions.saveCheckpoint(old, { positions: { '0': 5 } }))).toBe(true)
        expect(await positionOf(store, name)).toBe(0)
        // bad arguments are values
        const bad = await resetSubscription({ store, name, to: { token: -1 } })
        expect(E.isLeft(bad) && bad.left._tag).toBe('InvalidArgument')
      })
    })

    it('stop and the signal end a subscription; caughtUp then answers SubscriptionStopped; bad options are an InvalidArgument, never a throw', async () => {
      await session(async ({ store, start }) => {
        const c = collector()
        const sub = start({ name: uid('sub'), store, handler: c.handler, ...fast })
        right(await sub.caughtUp())
        await sub.stop()
        await sub.stop()
        expect(await sub.caughtUp()).toEqual(E.left({ _tag: 'SubscriptionStopped', name: sub.name }))
        expect(right(await sub.status()).state).toBe('stopped')
        // the lease was given back at once: another holder takes it without waiting for it to expire
        expect(O.isSome(right(await store.subscriptions.acquire(sub.name, 'next', ttl)))).toBe(true)
        // a signal stops it too, and a caughtUp waiting then answers SubscriptionStopped
        const controller = new AbortController()
        const other = start({ name: uid('sub'), store, handler: c.handler, ...fast, signal: controller.signal })
        right(await other.caughtUp())
        const waiting = start({ name: other.name, store, handler: c.handler, ...fast }).caughtUp()
        controller.abort()
        await eventually('the signal stopped it', async () => right(await other.status()).state === 'stopped')
        // the standby took over and caught up
        expect(E.isRight(await waiting)).toBe(true)
        const bad: unknown[] = [
          undefined,
          {},
          { name: '', store, handler: c.handler },
          { name: 'x\u0000', store, handler: c.handler },
          { name: 'x', store: {}, handler: c.handler },
          { name: 'x', store, handler: 'no' },
          { name: 'x', store, handler: c.handler, batchSize: 0 },
          { name: 'x', store, handler: c.handler, batchSize: 1.5 },
          { name: 'x', store, handler: c.handler, start: { token: -1 } },
          { name: 'x', store, handler: c.handler, start: { time: new Date(Number.NaN) } },
          { name: 'x', store, handler: c.handler, leaseTtlMs: 100, heartbeatMs: 100 },
          { name: 'x', store, handler: c.handler, retry: { attempts: 0 } },
          { name: 'x', store, handler: c.handler, onFailure: 'ignore' },
          { name: 'x', store, handler: c.handler, decode: { topics: notes, onError: 'drop' } },
          { name: 'x', store, handler: c.handler, source: { tenantId: 'a\uD800' } },
        ]
        for (const options of bad) {
          const r = subscribe(options as RawOptions<never>)
          expect(E.isLeft(r) && r.left._tag, JSON.stringify(options)).toBe('InvalidArgument')
        }
      })
    })
  })
}
