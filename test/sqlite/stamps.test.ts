import Database from 'better-sqlite3'
import * as E from 'fp-ts/lib/Either.js'
import * as fc from 'fast-check'
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import type { CommitAttempt } from '../../src/eventstore/Commit.js'
import type { ChangeStamp, Persistence } from '../../src/eventstore/index.js'
import { withHooks } from '../../src/eventstore/hooks.js'
import { tracedStore } from '../../src/otel/index.js'
import { openInitialized, orThrow, tempDir, tempFile } from './support.js'

// `changeStamp` of the SQLite store (see `StreamStamps`): equal stamps must mean nothing was committed to the
// stream in between, by this store, another connection or another process.

const dir = tempDir()

const attempt = (streamId: string, sequence: number, id = `${streamId}-${sequence}`): CommitAttempt => ({
  tenantId: 't',
  streamId,
  streamRevision: sequence,
  commitSequence: sequence,
  commitId: id,
  commitStamp: new Date('2026-12-02T00:00:00.000Z'),
  headers: {},
  events: [{ headers: {}, body: { type: 'N', n: sequence } }],
})

const stampOf = (store: Persistence, streamId: string, tenantId = 't'): ChangeStamp => {
  const s = store.changeStamp?.(tenantId, streamId)
  if (s === undefined) throw new Error('no stamp')
  return s
}

const committed = async (store: Persistence, a: CommitAttempt) => {
  const r = await store.commit(a)
  expect(E.isRight(r), JSON.stringify(r)).toBe(true)
}

describe('sqlite change stamps', () => {
  it('stay equal while nothing is written, and change after an own append to the stream, by exactly one', async () => {
    const store = await openInitialized({ filename: tempFile(dir) })
    const s0 = stampOf(store, 'a')
    expect(stampOf(store, 'a')).toEqual(s0)
    await committed(store, attempt('a', 1))
    const s1 = stampOf(store, 'a')
    expect(s1).toEqual({ shared: s0.shared, own: s0.own + 1 })
    // Another stream's append leaves this stream's stamp as it was (and moves the other's).
    const b0 = stampOf(store, 'b')
    await committed(store, attempt('b', 1))
    expect(stampOf(store, 'a')).toEqual(s1)
    expect(stampOf(store, 'b')).not.toEqual(b0)
    // A refused append counts too: the store cannot tell from its answer alone what it did.
    expect(E.isLeft(await store.commit(attempt('a', 1, 'other')))).toBe(true)
    expect(stampOf(store, 'a').own).toBe(s1.own + 1)
    await store.close()
    expect(store.changeStamp?.('t', 'a')).toBeUndefined()
  })

  it('change when another connection commits, to any stream', async () => {
    const file = tempFile(dir)
    const store = await openInitialized({ filename: file })
    const other = await openInitialized({ filename: file })
    const s0 = stampOf(store, 'a')
    await committed(other, attempt('z', 1))
    expect(stampOf(store, 'a').shared).not.toBe(s0.shared)
    // The writer's own stamps do not move for its own commit to another stream.
    const o0 = stampOf(other, 'a')
    await committed(other, attempt('z', 2))
    expect(stampOf(other, 'a')).toEqual(o0)
    await other.close()
    await store.close()
  })

  it('change when another process commits', async () => {
    const file = tempFile(dir)
    const store = await openInitialized({ filename: file })
    const s0 = stampOf(store, 'a')
    const child = spawnSync(
      process.execPath,
      ['-e', `const D = require('better-sqlite3'); const db = new D(process.argv[1]); db.exec('CREATE TABLE IF NOT EXISTS elsewhere (x); INSERT INTO elsewhere VALUES (1)'); db.close()`, file],
      { cwd: process.cwd(), encoding: 'utf8' },
    )
    expect(child.status, child.stderr).toBe(0)
    expect(stampOf(store, 'a').shared).not.toBe(s0.shared)
    await store.close()
  })

  it('are withheld while an own append to the stream is in flight, and change with writes to the whole store', async () => {
    const store = await openInitialized({ filename: tempFile(dir), groupCommit: true })
    const s0 = stampOf(store, 'a')
    const pending = store.commit(attempt('a', 1))
    // The batch may commit before its answers arrive: no stamp until then.
    await Promise.resolve()
    await Promise.resolve()
    await Promise.resolve()
    expect(store.changeStamp?.('t', 'a')).toBeUndefined()
    expect(E.isRight(await pending)).toBe(true)
    const s1 = stampOf(store, 'a')
    expect(s1.own).toBe(s0.own + 1)
    orThrow(await store.purge('someone-else'))
    expect(stampOf(store, 'a').shared).not.toBe(s1.shared)
    const s2 = stampOf(store, 'a')
    orThrow(await store.deleteStream('t', 'a'))
    expect(stampOf(store, 'a')).not.toEqual(s2)
    await store.close()
  })

  it('are absent on a connection passed in, and end once the store hands its own connection out', async () => {
    const db = new Database(tempFile(dir))
    const passed = await openInitialized({ database: db })
    expect(passed.changeStamp).toBeUndefined()
    expect('changeStamp' in passed).toBe(false)
    await passed.close()
    db.close()
    const store = await openInitialized({ filename: tempFile(dir) })
    stampOf(store, 'a')
    orThrow(await store.database())
    expect(store.changeStamp?.('t', 'a')).toBeUndefined()
    await store.close()
  })

  it('pass through the hooks and tracing wrappers when the store has them, and stay absent when it has not', async () => {
    const store = await openInitialized({ filename: tempFile(dir) })
    for (const wrapped of [withHooks(store, [{ name: 'h', select: (c) => c }]), tracedStore(store)]) {
      const s0 = stampOf(wrapped, 'a')
      await committed(store, attempt('a', s0.own + 1))
      expect(stampOf(wrapped, 'a')).toEqual(stampOf(store, 'a'))
      expect(stampOf(wrapped, 'a')).not.toEqual(s0)
    }
    const db = new Database(tempFile(dir))
    const passed = await openInitialized({ database: db })
    expect(withHooks(passed, [{ name: 'h', select: (c) => c }]).changeStamp).toBeUndefined()
    expect(tracedStore(passed).changeStamp).toBeUndefined()
    await passed.close()
    db.close()
    await store.close()
  })

  it('any tenant and stream ids: an own append moves the stamp of its own stream only, never another pair of ids', async () => {
    const store = await openInitialized({ filename: tempFile(dir) })
    // Ids that would alias if the store joined them with a separator.
    const id = fc.constantFrom('a', 'b', 'a.b', '"', '', '[', ',', 'é', 'a","b')
    const pair = fc.tuple(id, id)
    let run = 0
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(pair, { minLength: 2, maxLength: 6, selector: ([t, s]) => JSON.stringify([t, s]) }), fc.nat(), async (pairs, pick) => {
        run += 1
        const ids = pairs.map(([t, s]) => [`${run}${t}`, `s${s}`] as const)
        const before = ids.map(([t, s]) => stampOf(store, s, t))
        const [tenantId, streamId] = ids[pick % ids.length]!
        const head = before[pick % ids.length]!.own
        const r = await store.commit({ ...attempt(streamId, 1, `c${run}`), tenantId })
        expect(E.isRight(r), JSON.stringify(r)).toBe(true)
        ids.forEach(([t, s], i) => {
          const now = stampOf(store, s, t)
          if (i === pick % ids.length) expect(now).toEqual({ shared: before[i]!.shared, own: head + 1 })
          else expect(now).toEqual(before[i])
        })
      }),
      { numRuns: 60 },
    )
    await store.close()
  })
})
