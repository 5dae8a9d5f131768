import { randomUUID } from 'node:crypto'
import fc from 'fast-check'
import { expect } from 'vitest'
import { firstRevision, type Commit, type CommitAttempt, type Persistence } from '../../eventstore/index.js'
import { commitContent, stampOf } from './arbitraries.js'
import { attempt, collect, expectCommits, expectLog, left, right, withFreshStore } from './fixtures.js'
import type { StoreHarness } from './harness.js'

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** A few awkward tenants and streams, so that random runs hit the same streams often. */
const tenants = ['bank', "bank'2"] as const
const streams = ['account-1', 'account:2', 'kontø'] as const

type Target = { readonly t: number; readonly s: number }

type Op =
  | (Target & { readonly kind: 'append'; readonly events: number })
  | (Target & { readonly kind: 'stale'; readonly back: number; readonly events: number })
  | (Target & { readonly kind: 'duplicate'; readonly pick: number; readonly atNext: boolean })
  | (Target & { readonly kind: 'gap'; readonly seqGap: number; readonly revGap: number })
  | (Target & { readonly kind: 'get'; readonly min: number; readonly max: number })
  | { readonly kind: 'getFrom'; readonly pick: number; readonly tenant: number | undefined }
  | { readonly kind: 'getFromTo'; readonly a: number; readonly b: number; readonly tenant: number | undefined }

const target = { t: fc.nat(tenants.length - 1), s: fc.nat(streams.length - 1) }
const tenantChoice = fc.option(fc.nat(tenants.length - 1), { nil: undefined })

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('append' as const), ...target, events: fc.integer({ min: 1, max: 3 }) }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('stale' as const), ...target, back: fc.integer({ min: 1, max: 3 }), events: fc.integer({ min: 1, max: 3 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('duplicate' as const), ...target, pick: fc.nat(), atNext: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('gap' as const), ...target, seqGap: fc.nat(2), revGap: fc.nat(2) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('get' as const), ...target, min: fc.integer({ min: -2, max: 14 }), max: fc.integer({ min: -2, max: 14 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('getFrom' as const), pick: fc.nat(), tenant: tenantChoice }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('getFromTo' as const), a: fc.nat(), b: fc.nat(), tenant: tenantChoice }), weight: 1 },
)

// -------------------------------------------------------------------------------------
// the model
// -------------------------------------------------------------------------------------

/** What the store should hold: each stream's commits and the global log, as the store answered them. */
class Model {
  readonly streams = new Map<string, Commit[]>()
  readonly log: Commit[] = []

  ids(o: Target): { readonly tenantId: string; readonly streamId: string } {
    return { tenantId: tenants[o.t] as string, streamId: streams[o.s] as string }
  }
  commits(o: Target): Commit[] {
    const key = JSON.stringify([o.t, o.s])
    let cs = this.streams.get(key)
    if (cs === undefined) this.streams.set(key, (cs = []))
    return cs
  }
  /** The token of log entry `pick` (wrapping), or 0 for "from the start". */
  checkpoint(pick: number): number {
    const i = pick % (this.log.length + 1)
    return i === 0 ? 0 : (this.log[i - 1] as Commit).checkpointToken
  }
}

const positive = (n: number): number | undefined => (n > 0 ? n : undefined)

/**
 * Applies one operation to the store and checks the answer against the model, then updates the model. On a store of
 * feed shards (`harness.feeds`), tokens grow per shard and each log read is made of every shard (`expectLog`).
 */
const step = async (harness: StoreHarness, store: Persistence, model: Model, o: Op): Promise<void> => {
  const feeds = harness.feeds
  switch (o.kind) {
    case 'append': {
      const cs = model.commits(o)
      const head = cs[cs.length - 1]
      const a = attempt({
        ...model.ids(o),
        commitSequence: (head?.commitSequence ?? 0) + 1,
        firstRevision: (head?.streamRevision ?? 0) + 1,
        events: o.events,
      })
      const c = right(await store.commit(a))
      expectCommits([c], [{ ...a, checkpointToken: c.checkpointToken }])
      const last = feeds === undefined ? model.log[model.log.length - 1] : model.log.filter((l) => feeds.shardOf(l) === feeds.shardOf(c)).pop()
      if (last !== undefined) expect(c.checkpointToken).toBeGreaterThan(last.checkpointToken)
      if (feeds !== undefined) expect(model.log.map((l) => l.checkpointToken)).not.toContain(c.checkpointToken)
      cs.push(c)
      model.log.push(c)
      return
    }
    case 'stale': {
      const cs = model.commits(o)
      if (cs.length === 0) return
      // A writer that last saw commit `seq - 1` (consistent numbers: it is simply behind).
      const seq = Math.max(1, cs.length - o.back + 1)
      const a = attempt({ ...model.ids(o), commitSequence: seq, firstRevision: (cs[seq - 2]?.streamRevision ?? 0) + 1, events: o.events })
      const conflict = left(await store.commit(a), 'ConcurrencyConflict')
      expectCommits(conflict.missed, cs.slice(seq - 1))
      return
    }
    case 'duplicate': {
      const cs = model.commits(o)
      const original = cs[o.pick % Math.max(1, cs.length)]
      if (original === undefined) return
      const head = cs[cs.length - 1] as Commit
      const a: CommitAttempt = o.atNext
        ? attempt({ ...model.ids(o), commitSequence: head.commitSequence + 1, firstRevision: head.streamRevision + 1, commitId: original.commitId })
        : attempt({ ...model.ids(o), commitSequence: original.commitSequence, firstRevision: firstRevision(original), commitId: original.commitId })
      left(await store.commit(a), 'DuplicateCommit')
      return
    }
    case 'gap': {
      const cs = model.commits(o)
      const head = cs[cs.length - 1]
      // At least one number jumps past the head; neither collides with it.
      const seqGap = o.seqGap === 0 && o.revGap === 0 ? 1 : o.seqGap
      const a = attempt({
        ...model.ids(o),
        commitSequence: (head?.commitSequence ?? 0) + 1 + seqGap,
        firstRevision: (head?.streamRevision ?? 0) + 1 + o.revGap,
      })
      left(await store.commit(a), 'InvalidAttempt')
      return
    }
    case 'get': {
      // An inverted range is left unspecified by the contract, so bounds are put in order.
      const [lo, hi] = o.min > 0 && o.max > 0 && o.min > o.max ? [o.max, o.min] : [o.min, o.max]
      const min = positive(lo) ?? 1
      const max = positive(hi) ?? Number.MAX_SAFE_INTEGER
      const expected = model.commits(o).filter((c) => c.streamRevision >= min && firstRevision(c) <= max)
      const range = { ...(lo === 0 ? {} : { minRevision: lo }), ...(hi === 0 ? {} : { maxRevision: hi }) }
      const { tenantId, streamId } = model.ids(o)
      expectCommits(await collect(store.get(tenantId, streamId, range)), expected)
      return
    }
    case 'getFrom': {
      const from = model.checkpoint(o.pick)
      const tenantId = o.tenant === undefined ? undefined : (tenants[o.tenant] as string)
      const expected = model.log.filter((c) => c.checkpointToken > from && (tenantId === undefined || c.tenantId === tenantId))
      await expectLog(harness, store, (r) => r.getFrom(from, tenantId), expected)
      return
    }
    case 'getFromTo': {
      const [from, to] = [model.checkpoint(o.a), model.checkpoint(o.b)].sort((x, y) => x - y) as [number, number]
      const tenantId = o.tenant === undefined ? undefined : (tenants[o.tenant] as string)
      const expected = model.log.filter(
        (c) => c.checkpointToken > from && c.checkpointToken <= to && (tenantId === undefined || c.tenantId === tenantId),
      )
      await expectLog(harness, store, (r) => r.getFromTo(from, to, tenantId), expected)
      return
    }
  }
}

export interface CheckOptions {
  /** How many random histories to try; each gets a fresh store from the harness. */
  readonly numRuns: number
  /** The longest history tried (default 40 operations). */
  readonly maxOperations?: number
  readonly seed?: number
}

/**
 * A model-based check: random interleavings of appends, stale appends (conflicts), reused commit ids
 * (duplicates), gaps and reads, each answer compared with a simple model of SEMANTICS 1-7. Reusable by any store.
 */
export const storeModelCheck = async (harness: StoreHarness, options: CheckOptions): Promise<void> => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: options.maxOperations ?? 40, size: 'max' }), async (ops) => {
      await withFreshStore(harness, async (store) => {
        const model = new Model()
        for (const o of ops) await step(harness, store, model, o)
        // and at the end every stream and the whole log read back as the model has them
        for (const [t] of tenants.entries()) {
          for (const [s] of streams.entries()) {
            const { tenantId, streamId } = model.ids({ t, s })
            expectCommits(await collect(store.get(tenantId, streamId)), model.commits({ t, s }))
          }
        }
        await expectLog(harness, store, (r) => r.getFrom(0), model.log)
      })
    }),
    { numRuns: options.numRuns, ...(options.seed === undefined ? {} : { seed: options.seed }) },
  )
}

/**
 * For any sequence of commits (any number of events, any JSON bodies and headers, any stamps), a stream reads back
 * exactly what was committed, by stream and by global read.
 */
export const storeRoundTripCheck = async (harness: StoreHarness, options: CheckOptions): Promise<void> => {
  await withFreshStore(harness, async (store) => {
    await fc.assert(
      fc.asyncProperty(fc.array(commitContent, { minLength: 1, maxLength: options.maxOperations ?? 8, size: 'max' }), async (contents) => {
        // a fresh stream per run, so that one store serves every run
        const ids = { tenantId: `tenant-${randomUUID()}`, streamId: `stream-${randomUUID()}` }
        const written: Commit[] = []
        for (const content of contents) {
          const head = written[written.length - 1]
          const a = attempt({
            ...ids,
            commitSequence: (head?.commitSequence ?? 0) + 1,
            firstRevision: (head?.streamRevision ?? 0) + 1,
            events: content.events,
            headers: content.headers,
            commitStamp: stampOf(content),
          })
          const c = right(await store.commit(a))
          expectCommits([c], [{ ...a, checkpointToken: c.checkpointToken }])
          written.push(c)
        }
        expectCommits(await collect(store.get(ids.tenantId, ids.streamId)), written)
        await expectLog(harness, store, (r) => r.getFrom(0, ids.tenantId), written)
      }),
      { numRuns: options.numRuns, ...(options.seed === undefined ? {} : { seed: options.seed }) },
    )
  })
}
