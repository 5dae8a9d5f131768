import Database from 'better-sqlite3'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { deciderRepository, stateCache } from '../../src/domain/index.js'
import type { Persistence } from '../../src/eventstore/index.js'
import { openInitialized, tempDir, tempFile } from '../sqlite/support.js'
import { counted, counter, decidedOnPrefix, storedOf, strict, topics, type CounterCommand } from './support.js'

// Fresh mode on a store with change stamps (SQLite on a file it opens): a command whose entry's stamp still
// holds reads nothing at all; any commit by another connection makes it read, and it decides on what it read.

const dir = tempDir()

const repoOn = (store: Persistence, cached = true) =>
  deciderRepository({
    decider: counter,
    topics,
    store,
    conflictDetector: strict,
    ...(cached ? { cache: stateCache({ maxEntries: 100 }) } : {}),
  })

const add = (n: number): CounterCommand => ({ type: 'Add', n })

const reads = (calls: { readonly get: number; readonly readLatest: number; readonly getSnapshot: number }) => calls.get + calls.readLatest + calls.getSnapshot

describe('state cache (fresh) on a store with change stamps', () => {
  it('reads nothing for a command on a stream nothing was committed to since, other streams written or not', async () => {
    const c = counted(await openInitialized({ filename: tempFile(dir) }))
    const repo = repoOn(c.store)
    for (const stream of ['x', 'y']) expect(E.isRight(await repo.handle(stream, add(1))())).toBe(true)
    c.reset()
    for (let i = 0; i < 4; i++) {
      for (const stream of ['x', 'y']) {
        const r = await repo.handle(stream, add(1))()
        expect(E.isRight(r) && r.right._tag === 'Appended' ? r.right.state.count : r).toBe(i + 2)
      }
    }
    expect(reads(c.calls)).toBe(0)
    expect(c.calls.commit).toBe(8)
    await c.store.close()
  })

  it('reads again without stamps: a connection passed in', async () => {
    const db = new Database(tempFile(dir))
    const c = counted(await openInitialized({ database: db }))
    const repo = repoOn(c.store)
    await repo.handle('x', add(1))()
    c.reset()
    await repo.handle('x', add(1))()
    expect(c.calls.get).toBe(1)
    await c.store.close()
    db.close()
  })

  it('reads, and decides on the fresh state, after another connection appended to the cached stream', async () => {
    const file = tempFile(dir)
    const c = counted(await openInitialized({ filename: file }))
    const other = await openInitialized({ filename: file })
    const repo = repoOn(c.store)
    const elsewhere = repoOn(other, false)
    expect(E.isRight(await repo.handle('x', add(3))())).toBe(true)
    expect(E.isRight(await elsewhere.handle('x', add(5))())).toBe(true)
    c.reset()
    // 3 + 5 + 3 passes the limit: only a command that saw the other connection's commit refuses.
    const r = await repo.handle('x', add(3))()
    expect(r).toEqual(E.left({ _tag: 'Rejected', error: { _tag: 'OverLimit', count: 8 } }))
    expect(c.calls.get).toBe(1)
    expect(c.calls.commit).toBe(0)
    // And the entry, refreshed by that read, answers the next command without reading.
    c.reset()
    const next = await repo.handle('x', add(2))()
    expect(E.isRight(next) && next.right._tag === 'Appended' ? next.right.state.count : next).toBe(10)
    expect(reads(c.calls)).toBe(0)
    expect(decidedOnPrefix(await storedOf(c.store, 'default', 'x'))).toBeUndefined()
    await other.close()
    await c.store.close()
  })
})
