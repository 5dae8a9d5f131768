import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import type { Decider } from '../../src/decider/index.js'
import { deciderRepository } from '../../src/domain/index.js'
import {
  acceptCommit,
  defineEvent,
  EventStream,
  isEventStoreError,
  rejectCommit,
  toArray,
  topicMap,
  withHooks,
  type Commit,
  type CommitAttempt,
  type EventOf,
  type HookFailure,
  type Persistence,
  type PipelineHook,
  type Reads,
} from '../../src/eventstore/index.js'
import { memoryStore } from '../../src/memory/index.js'

// Issue 16 item 3: NEventStore's pipeline hooks around any store.

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) expect.fail(`expected a Right, got ${JSON.stringify(e.left)}`)
  return e.right
}
const at = new Date('2026-03-01T09:00:00.000Z')
const tenantId = 'shop'

const attempt = (streamId: string, sequence: number, headers: CommitAttempt['headers'] = {}, tenant = tenantId): CommitAttempt => ({
  tenantId: tenant,
  streamId,
  commitId: globalThis.crypto.randomUUID(),
  commitSequence: sequence,
  streamRevision: sequence,
  commitStamp: at,
  headers,
  events: [{ body: { type: 'Noted', id: streamId, version: sequence, timestamp: at.toISOString(), n: sequence }, headers: {} }],
})

/** Every read path of a store, with the arguments that read all of `tenantId`'s stream `s-1` or all commits. */
const readPaths = (store: Persistence, streamId = 's-1'): Record<string, () => Reads<Commit>> => ({
  get: () => store.get(tenantId, streamId),
  getTo: () => store.getTo(tenantId, streamId, new Date('2100-01-01')),
  getAllTo: () => store.getAllTo(tenantId, new Date('2100-01-01')),
  getFrom: () => store.getFrom(0),
  getFromTo: () => store.getFromTo(0, 1_000_000),
  'getFrom (tenant)': () => store.getFrom(0, tenantId),
  'getFromTo (tenant)': () => store.getFromTo(0, 1_000_000, tenantId),
  // The one-statement load (the memory store has it): its commits, without its snapshot.
  readLatest: () => commitsOf(store, streamId),
})

async function* commitsOf(store: Persistence, streamId: string): Reads<Commit> {
  const read = store.readLatest
  if (read === undefined) throw new Error('the store has no readLatest')
  for await (const r of read.call(store, tenantId, streamId)) {
    if (E.isLeft(r)) yield r
    else if (r.right._tag === 'Commit') yield E.right(r.right.commit)
  }
}

describe('withHooks', () => {
  it('a rejecting pre-commit hook stores nothing, and no later hook or post-commit hook runs', async () => {
    // given hooks around a store, the second of which refuses commits without a user
    const inner = memoryStore()
    const calls: string[] = []
    const store = withHooks(inner, [
      { name: 'first', preCommit: () => void calls.push('first') },
      { name: 'needs-user', preCommit: (a) => (calls.push('needs-user'), a.headers['user'] === undefined ? rejectCommit('no user', { field: 'user' }) : acceptCommit) },
      { name: 'third', preCommit: () => void calls.push('third'), postCommit: () => void calls.push('post') },
    ])
    // when an attempt without a user is committed
    const refused = await store.commit(attempt('s-1', 1))
    // then it is a HookRejected naming the hook and its reason, and nothing was stored
    expect(E.isLeft(refused) && refused.left).toMatchObject({
      _tag: 'HookRejected',
      tenantId,
      streamId: 's-1',
      hook: 'needs-user',
      reason: 'no user',
      details: { field: 'user' },
    })
    expect(isEventStoreError(E.isLeft(refused) ? refused.left : undefined)).toBe(true)
    expect(calls).toEqual(['first', 'needs-user'])
    expect(right(await toArray(inner.getFrom(0)))).toEqual([])
    // and with a user it goes through every hook and is stored
    right(await store.commit(attempt('s-1', 1, { user: 'ann' })))
    expect(calls).toEqual(['first', 'needs-user', 'first', 'needs-user', 'third', 'post'])
    expect(right(await toArray(inner.getFrom(0)))).toHaveLength(1)
  })

  it('a pre-commit hook that throws or rejects refuses the attempt the same way', async () => {
    const inner = memoryStore()
    const throwing = withHooks(inner, {
      preCommit: () => {
        throw new Error('boom')
      },
    })
    const rejecting = withHooks(inner, { name: 'async', preCommit: async () => Promise.reject(new Error('later')) })
    const asyncRefusal = withHooks(inner, { name: 'slow', preCommit: async () => rejectCommit('not now') })
    const a = await throwing.commit(attempt('s-1', 1))
    expect(E.isLeft(a) && a.left).toMatchObject({ _tag: 'HookRejected', hook: 'hook 0', reason: 'the pre-commit hook threw: Error: boom' })
    const b = await rejecting.commit(attempt('s-1', 1))
    expect(E.isLeft(b) && b.left).toMatchObject({ _tag: 'HookRejected', hook: 'async', reason: 'the pre-commit hook threw: Error: later' })
    const c = await asyncRefusal.commit(attempt('s-1', 1))
    expect(E.isLeft(c) && c.left).toMatchObject({ _tag: 'HookRejected', hook: 'slow', reason: 'not now' })
    expect(right(await toArray(inner.getFrom(0)))).toEqual([])
  })

  it('post-commit hooks see the stored commit, in order; one that fails is reported, and the commit stands', async () => {
    const seen: string[] = []
    const failures: HookFailure[] = []
    const store = withHooks(
      memoryStore(),
      [
        { name: 'a', postCommit: (c) => void seen.push(`a:${c.checkpointToken}`) },
        {
          name: 'b',
          postCommit: async () => {
            throw new Error('mail server down')
          },
        },
        { name: 'c', postCommit: async (c) => void seen.push(`c:${c.commitSequence}`) },
      ],
      { onHookError: (f) => failures.push(f) },
    )
    const stored = right(await store.commit(attempt('s-1', 1)))
    expect(stored.checkpointToken).toBe(1)
    expect(seen).toEqual(['a:1', 'c:1'])
    expect(failures).toMatchObject([{ hook: 'b', stage: 'postCommit', cause: new Error('mail server down') }])
    // and a commit the store refuses reaches no post-commit hook
    const dup = await store.commit({ ...attempt('s-1', 1), commitId: stored.commitId })
    expect(E.isLeft(dup) && dup.left._tag).toBe('DuplicateCommit')
    expect(seen).toEqual(['a:1', 'c:1'])
  })

  it('every read path passes every commit through every select hook once, in order', async () => {
    // given commits in two streams and two tenants, and two select hooks that log what they see
    const inner = memoryStore()
    right(await inner.commit(attempt('s-1', 1)))
    right(await inner.commit(attempt('s-1', 2)))
    right(await inner.commit(attempt('s-2', 1)))
    right(await inner.commit(attempt('s-1', 1, {}, 'other')))
    const log: string[] = []
    const logging = (name: string): PipelineHook => ({
      name,
      select: (c) => {
        log.push(`${name}:${c.tenantId}/${c.streamId}/${c.commitSequence}`)
        return c
      },
    })
    const store = withHooks(inner, [logging('one'), logging('two')])
    for (const [path, read] of Object.entries(readPaths(store))) {
      log.length = 0
      // when a read path is read to its end
      const commits = right(await toArray(read()))
      // then each commit it hands out went through hook one, then hook two, exactly once
      const expected = commits.flatMap((c) => [`one:${c.tenantId}/${c.streamId}/${c.commitSequence}`, `two:${c.tenantId}/${c.streamId}/${c.commitSequence}`])
      expect(log, path).toEqual(expected)
      expect(commits.length, path).toBeGreaterThan(0)
      // and it hands out what the store holds
      const direct = right(await toArray(readPaths(inner)[path]!()))
      expect(commits, path).toEqual(direct)
    }
  })

  it('a select hook transforms or drops commits on every read path; async hooks too', async () => {
    const inner = memoryStore()
    right(await inner.commit(attempt('s-1', 1)))
    right(await inner.commit(attempt('s-1', 2, { hidden: true })))
    right(await inner.commit(attempt('s-1', 3)))
    const store = withHooks(inner, [
      { name: 'hide', select: async (c) => (c.headers['hidden'] === true ? undefined : c) },
      { name: 'stamp', select: (c) => ({ ...c, headers: { ...c.headers, seen: true } }) },
    ])
    for (const [path, read] of Object.entries(readPaths(store))) {
      const commits = right(await toArray(read()))
      expect(commits.map((c) => c.commitSequence), path).toEqual([1, 3])
      expect(commits.every((c) => c.headers['seen'] === true), path).toBe(true)
    }
  })

  it('a select hook that throws ends the read with a StorageError', async () => {
    const inner = memoryStore()
    right(await inner.commit(attempt('s-1', 1)))
    right(await inner.commit(attempt('s-1', 2)))
    const store = withHooks(inner, {
      name: 'picky',
      select: (c) => {
        if (c.commitSequence === 2) throw new Error('no')
        return c
      },
    })
    const seen: string[] = []
    for await (const r of store.get(tenantId, 's-1')) seen.push(E.isLeft(r) ? `${r.left._tag}: ${r.left.message}` : `commit ${r.right.commitSequence}`)
    expect(seen).toEqual(['commit 1', 'StorageError: select hook picky failed: no'])
  })

  it('purge and delete notify every hook, in order, after the store did it', async () => {
    const inner = memoryStore()
    right(await inner.commit(attempt('s-1', 1)))
    right(await inner.commit(attempt('s-2', 1)))
    const log: string[] = []
    const notified = (name: string): PipelineHook => ({
      name,
      onPurge: (tenant) => void log.push(`${name} purge ${tenant ?? '*'}`),
      onDeleteStream: async (tenant, stream) => void log.push(`${name} delete ${tenant}/${stream}`),
    })
    const store = withHooks(inner, [notified('a'), { name: 'quiet' }, notified('b')])
    right(await store.deleteStream(tenantId, 's-1'))
    expect(right(await toArray(inner.get(tenantId, 's-1')))).toEqual([])
    right(await store.purge(tenantId))
    expect(right(await toArray(inner.getFrom(0)))).toEqual([])
    right(await store.purge())
    expect(log).toEqual([`a delete ${tenantId}/s-1`, `b delete ${tenantId}/s-1`, `a purge ${tenantId}`, `b purge ${tenantId}`, 'a purge *', 'b purge *'])
    // and a purge the store refuses notifies nobody
    await inner.close()
    const closed = await store.purge()
    expect(E.isLeft(closed)).toBe(true)
    expect(log).toHaveLength(6)
  })

  it('hooks compose in order: a list in its order, and an outer withHooks around an inner one', async () => {
    const log: string[] = []
    const hook = (name: string): PipelineHook => ({
      name,
      preCommit: () => void log.push(`pre ${name}`),
      postCommit: () => void log.push(`post ${name}`),
      select: (c) => {
        log.push(`select ${name}`)
        return { ...c, headers: { ...c.headers, path: `${String(c.headers['path'] ?? '')}/${name}` } }
      },
    })
    const store = withHooks(withHooks(memoryStore(), [hook('inner1'), hook('inner2')]), [hook('outer1'), hook('outer2')])
    right(await store.commit(attempt('s-1', 1)))
    expect(log).toEqual(['pre outer1', 'pre outer2', 'pre inner1', 'pre inner2', 'post inner1', 'post inner2', 'post outer1', 'post outer2'])
    log.length = 0
    const [c] = right(await toArray(store.get(tenantId, 's-1')))
    expect(log).toEqual(['select inner1', 'select inner2', 'select outer1', 'select outer2'])
    expect(c?.headers['path']).toBe('/inner1/inner2/outer1/outer2')
  })

  it('is still a store: the same members, delegated, so repositories, event streams and subscriptions take it', async () => {
    // given a memory store (with its subscriptions and shell extras) wrapped in hooks
    const inner = memoryStore()
    const store = withHooks(inner, { select: (c) => c })
    // then it has every member of the store, and what is not a hook is the store's own
    expect(Object.keys(store).sort()).toEqual(Object.keys(inner).sort())
    expect(store.subscriptions).toBe(inner.subscriptions)
    expect(store.name).toBe(inner.name)
    expect('listStreams' in store && 'onCommit' in store).toBe(true)
    expect({ ...store }.subscriptions).toBe(inner.subscriptions)
    // and a repository works over it, with its refusals as values
    const Added = defineEvent('Added', { n: t.number })
    type Added = EventOf<typeof Added>
    const counter: Decider<number, number, Added, never> = {
      initialState: 0,
      evolve: (s, e) => s + e.n,
      decide: (n) => E.right([Added.create({ timestamp: at, n })]),
    }
    const guarded = withHooks(inner, { name: 'limit', preCommit: (a) => (a.events.length > 0 && a.streamRevision > 2 ? rejectCommit('at most two') : undefined) })
    const repo = deciderRepository({ decider: counter, topics: topicMap(Added), store: guarded })
    right(await repo.handle('c-1', 1)())
    right(await repo.handle('c-1', 2)())
    const third = await repo.handle('c-1', 3)()
    expect(E.isLeft(third) && third.left).toMatchObject({ _tag: 'HookRejected', hook: 'limit', reason: 'at most two' })
    expect(right(await repo.load('c-1')()).state).toBe(3)
    // and so does the catalog
    expect(right(await toArray(store.listTenants()))).toEqual(['default'])
    expect(right(await toArray(store.listStreams('default'))).map((s) => s.streamId)).toEqual(['c-1'])
  })

  it('passes the missed commits of a concurrency conflict through the select hooks, so a stream catches up with them', async () => {
    const inner = memoryStore()
    let selected = 0
    const store = withHooks(inner, { select: (c) => (selected++, { ...c, headers: { ...c.headers, selected: true } }) })
    const stream = EventStream.create(store, tenantId, 's-1')
    right(await inner.commit(attempt('s-1', 1)))
    stream.add({ type: 'Noted', n: 9 })
    const conflict = await stream.commitChanges()
    expect(E.isLeft(conflict) && conflict.left._tag).toBe('ConcurrencyConflict')
    if (E.isLeft(conflict) && conflict.left._tag === 'ConcurrencyConflict') expect(conflict.left.missed.map((c) => c.headers['selected'])).toEqual([true])
    expect(selected).toBe(1)
    expect(stream.committedHeaders['selected']).toBe(true)
    right(await stream.commitChanges())
    expect(stream.streamRevision).toBe(2)
  })

  it('wraps class-based and frozen stores, binding their methods', async () => {
    class Wrapper {
      readonly #inner = memoryStore()
      readonly name = 'class'
      commit(a: CommitAttempt) {
        return this.#inner.commit(a)
      }
      #reads = 0
      get(tenant: string, stream: string) {
        this.#reads++
        return this.#inner.get(tenant, stream)
      }
      getTo(tenant: string, stream: string, max: Date) {
        return this.#inner.getTo(tenant, stream, max)
      }
      getAllTo(tenant: string, max: Date) {
        return this.#inner.getAllTo(tenant, max)
      }
      getFrom(checkpoint: number, tenant?: string) {
        return this.#inner.getFrom(checkpoint, tenant)
      }
      getFromTo(from: number, to: number, tenant?: string) {
        return this.#inner.getFromTo(from, to, tenant)
      }
      get reads() {
        return this.#reads
      }
    }
    let posts = 0
    const store = withHooks(new Wrapper(), { postCommit: () => void posts++ })
    right(await store.commit(attempt('s-1', 1)))
    expect(right(await toArray(store.get(tenantId, 's-1')))).toHaveLength(1)
    expect(store.reads).toBe(1)
    expect(store).toBeInstanceOf(Wrapper)
    expect(posts).toBe(1)
    const frozen = withHooks(Object.freeze(memoryStore()), { postCommit: () => void posts++ })
    right(await frozen.commit(attempt('s-1', 1)))
    expect(posts).toBe(2)
  })
})
