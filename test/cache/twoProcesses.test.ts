import * as E from 'fp-ts/lib/Either.js'
import * as fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { AggregateRepository, deciderRepository, stateCache, type DeciderRepository, type HandleOutcome } from '../../src/domain/index.js'
import type { HandleError } from '../../src/domain/index.js'
import type { Persistence } from '../../src/eventstore/index.js'
import { memoryStore } from '../../src/memory/index.js'
import { Account, topics as accountTopics, type AccountEvent } from '../domain/fixtures.js'
import { openInitialized, tempDir, tempFile } from '../sqlite/support.js'
import { counter, decidedOnPrefix, storedOf, strict, topics, type CounterCommand, type CounterError, type CounterEvent, type CounterState } from './support.js'

// Two "processes" (two repositories, each with a cache of its own) write the same few streams of one store. The
// model is a cache-less repository on a store of its own, given the same commands in the same order: every
// outcome, and every stream as stored, must be the same. A second property runs commands of both processes at
// once and checks what can be checked under real races: no stored event was decided on a state that missed a
// commit stored before it, and every cache ends at the stored state.

type Repo = DeciderRepository<CounterCommand, CounterState, CounterEvent, CounterError>
type Out = E.Either<HandleError<CounterError>, HandleOutcome<CounterState, CounterEvent>>

interface Step {
  readonly proc: 0 | 1
  readonly stream: string
  readonly command: CounterCommand
  readonly expectedVersion: number | undefined
}

const STREAMS = ['a', 'b', 'c']

/** Mostly `undefined`: one value in `1 + weight`. */
const sometimes = <A>(a: fc.Arbitrary<A>, weight: number): fc.Arbitrary<A | undefined> =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight }, { arbitrary: a, weight: 1 })

const commandId = sometimes(fc.constantFrom('k1', 'k2', 'k3'), 5)

const step: fc.Arbitrary<Step> = fc.record({
  proc: fc.constantFrom<0 | 1>(0, 1),
  stream: fc.constantFrom(...STREAMS),
  command: fc.oneof(
    fc.record({ type: fc.constant<'Add'>('Add'), n: fc.integer({ min: 0, max: 4 }), commandId }),
    fc.record({ type: fc.constant<'Reset'>('Reset'), to: fc.integer({ min: 0, max: 6 }), commandId }),
  ),
  expectedVersion: sometimes(fc.integer({ min: 0, max: 6 }), 6),
})

/** What a caller can see of an outcome. */
const seen = (r: Out): unknown => {
  if (E.isLeft(r)) {
    const e = r.left
    switch (e._tag) {
      case 'Rejected':
        return { error: 'Rejected', detail: e.error }
      case 'WrongExpectedVersion':
        return { error: e._tag, expected: e.expected, actual: e.actual }
      default:
        return { error: e._tag }
    }
  }
  const o = r.right
  return o._tag === 'AlreadyCommitted' ? { tag: o._tag, commitId: o.commitId } : { tag: o._tag, revision: o.revision, state: o.state }
}

const mode = fc.record({
  allowStaleMs: fc.constantFrom<number | undefined>(undefined, 1e9),
  maxEntries: fc.constantFrom(1, 2, 100),
})

// Hits of every cache the properties made, so that a cache that never serves anything cannot pass unnoticed.
const hits = { fresh: 0, stale: 0 }

type Pair = readonly [Persistence, Persistence]

const repositories = (pair: Pair, tenantId: string, m: { readonly allowStaleMs: number | undefined; readonly maxEntries: number }) => {
  const make = (store: Persistence) => {
    const cache = stateCache({ maxEntries: m.maxEntries })
    caches.push({ cache, stale: m.allowStaleMs !== undefined })
    return deciderRepository({
      decider: counter,
      topics,
      store,
      tenantId,
      conflictDetector: strict,
      commitIdOf: (c) => c.commandId,
      cache,
      ...(m.allowStaleMs === undefined ? {} : { allowStaleMs: m.allowStaleMs }),
    })
  }
  return [make(pair[0]), make(pair[1])] as const
}

const caches: { readonly cache: ReturnType<typeof stateCache>; readonly stale: boolean }[] = []

const countHits = () => {
  for (const c of caches.splice(0)) hits[c.stale ? 'stale' : 'fresh'] += c.cache.stats().hits
}

const run = (repo: Repo, s: Step): Promise<Out> =>
  repo.handle(s.stream, s.command, s.expectedVersion === undefined ? {} : { expectedVersion: s.expectedVersion })()

/** Where a process's cache says a stream stands, confirmed: a command with nothing to do reads in either mode. */
const confirmed = async (repo: Repo, stream: string) => seen(await repo.handle(stream, { type: 'Add', n: 0 })())

let tenants = 0

const both = async (store: Promise<Persistence>): Promise<Pair> => {
  const s = await store
  return [s, s]
}

const dir = tempDir()

/** Two connections on one file: each "process" has a store object of its own, as two processes would. */
const twoConnections = async (): Promise<Pair> => {
  const file = tempFile(dir)
  return [await openInitialized({ filename: file, pageSize: 5 }), await openInitialized({ filename: file, pageSize: 5 })]
}

// The processes share one store object, or (the last) each has a connection of its own, so that the SQLite
// stores' change stamps (`changeStamp`) see the other's commits only through the file.
const stores: readonly { readonly name: string; readonly open: () => Promise<Pair>; readonly runs: number }[] = [
  { name: 'memory', open: () => both(Promise.resolve(memoryStore())), runs: 120 },
  { name: 'sqlite :memory:', open: () => both(openInitialized({ filename: ':memory:', pageSize: 5 })), runs: 40 },
  { name: 'sqlite file (two connections)', open: twoConnections, runs: 30 },
]

const closeBoth = async ([a, b]: Pair) => {
  await a.close()
  if (b !== a) await b.close()
}

for (const kind of stores) {
  describe(`state cache, two processes on one ${kind.name} store`, async () => {
    // One store for the whole file, a tenant per run: each run starts on empty streams.
    const pair = await kind.open()
    const store = pair[0]
    afterAll(() => closeBoth(pair))

    it('every outcome and every stored stream match a cache-less run of the same commands in the same order', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { maxLength: 40 }), mode, async (steps, m) => {
          const tenantId = `t${++tenants}`
          const procs = repositories(pair, tenantId, m)
          const modelStore = memoryStore()
          const model = deciderRepository({ decider: counter, topics, store: modelStore, conflictDetector: strict, commitIdOf: (c) => c.commandId })
          for (const [i, s] of steps.entries()) {
            const got = seen(await run(procs[s.proc], s))
            const want = seen(await run(model, s))
            expect(got, `step ${i + 1}: ${JSON.stringify(s)}`).toEqual(want)
          }
          for (const stream of STREAMS) {
            const stored = await storedOf(store, tenantId, stream)
            expect(decidedOnPrefix(stored)).toBeUndefined()
            const want = await storedOf(modelStore, 'default', stream)
            expect(stored.map((c) => [c.revision, c.events])).toEqual(want.map((c) => [c.revision, c.events]))
            for (const p of procs) expect(await confirmed(p, stream)).toEqual(await confirmed(model, stream))
          }
        }),
        { numRuns: kind.runs },
      )
      countHits()
      expect(hits.fresh).toBeGreaterThan(0)
      expect(hits.stale).toBeGreaterThan(0)
    })

    it('under concurrent commands no stored event was decided on a state missing a commit before it, and the caches end at the stored state', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(step, { minLength: 1, maxLength: 4 }), { maxLength: 12 }), mode, async (groups, m) => {
          const tenantId = `t${++tenants}`
          const procs = repositories(pair, tenantId, m)
          const plain = deciderRepository({ decider: counter, topics, store, tenantId, conflictDetector: strict, commitIdOf: (c) => c.commandId })
          const appended: { readonly stream: string; readonly revision: number; readonly count: number }[] = []
          for (const group of groups) {
            const outs = await Promise.all(group.map((s) => run(procs[s.proc], s)))
            outs.forEach((o, i) => {
              if (E.isRight(o) && o.right._tag === 'Appended') appended.push({ stream: group[i]!.stream, revision: o.right.revision, count: o.right.state.count })
            })
          }
          for (const stream of STREAMS) {
            const stored = await storedOf(store, tenantId, stream)
            expect(decidedOnPrefix(stored)).toBeUndefined()
            for (const p of procs) expect(await confirmed(p, stream)).toEqual(await confirmed(plain, stream))
            // Each accepted command's state is the stored stream folded up to its revision.
            for (const a of appended.filter((x) => x.stream === stream)) {
              const at = handledState(await plain.load(stream, a.revision)())
              expect(a.count, `${stream}@${a.revision}`).toBe(at)
            }
          }
        }),
        { numRuns: Math.ceil(kind.runs / 2) },
      )
    })
  })
}

const handledState = (r: E.Either<{ readonly _tag: string }, { readonly state: CounterState }>): number => {
  if (E.isLeft(r)) throw new Error(r.left._tag)
  return r.right.state.count
}

// ----- the class face -----

interface ClassStep {
  readonly proc: 0 | 1
  readonly stream: string
  readonly op: { readonly kind: 'deposit'; readonly amount: number } | { readonly kind: 'rename'; readonly owner: string }
}

const classStep: fc.Arbitrary<ClassStep> = fc.record({
  proc: fc.constantFrom<0 | 1>(0, 1),
  stream: fc.constantFrom(...STREAMS),
  op: fc.oneof(
    fc.record({ kind: fc.constant<'deposit'>('deposit'), amount: fc.integer({ min: 1, max: 9 }) }),
    fc.record({ kind: fc.constant<'rename'>('rename'), owner: fc.constantFrom('ann', 'bob') }),
  ),
})

const seenSave = (r: E.Either<{ readonly _tag: string }, { readonly _tag: string; readonly revision?: number }>) =>
  E.isLeft(r) ? { error: r.left._tag } : { tag: r.right._tag, revision: r.right.revision }

for (const kind of stores) {
  describe(`state cache, two processes of the class face on one ${kind.name} store`, async () => {
    const pair = await kind.open()
    const store = pair[0]
    afterAll(() => closeBoth(pair))

    it('every instance handed out is a state the store holds at its version; in fresh mode every save matches a cache-less run', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(classStep, { maxLength: 30 }), mode, async (steps, m) => {
          const tenantId = `c${++tenants}`
          const make = (on: Persistence) =>
            new AggregateRepository<AccountEvent>(on, accountTopics, {
              tenantId,
              cache: stateCache({ maxEntries: m.maxEntries }),
              ...(m.allowStaleMs === undefined ? {} : { allowStaleMs: m.allowStaleMs }),
            })
          const procs = [make(pair[0]), make(pair[1])] as const
          const plain = new AggregateRepository<AccountEvent>(store, accountTopics, { tenantId })
          const model = new AggregateRepository<AccountEvent>(memoryStore(), accountTopics)
          for (const [i, s] of steps.entries()) {
            const got = await procs[s.proc].get(Account, s.stream)
            // Never a state that was not stored: the instance equals the stream loaded at its version.
            expect(got.getMemento(), `step ${i + 1}`).toEqual((await plain.get(Account, s.stream, got.version)).getMemento())
            const want = await model.get(Account, s.stream)
            for (const a of [got, want]) {
              if (s.op.kind === 'deposit') a.deposit(s.op.amount)
              else a.rename(s.op.owner)
            }
            const saved = seenSave(await procs[s.proc].either.save(got))
            const expected = seenSave(await model.either.save(want))
            if (m.allowStaleMs === undefined) expect(saved, `step ${i + 1}: ${JSON.stringify(s)}`).toEqual(expected)
          }
          for (const stream of STREAMS) {
            const head = (await plain.get(Account, stream)).getMemento()
            if (m.allowStaleMs === undefined) for (const p of procs) expect((await p.get(Account, stream)).getMemento()).toEqual(head)
          }
        }),
        { numRuns: Math.ceil(kind.runs / 2) },
      )
    })
  })
}
