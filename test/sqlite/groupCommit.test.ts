import Database from 'better-sqlite3'
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Commit, Persistence } from '../../src/eventstore/index.js'
import { memoryStore } from '../../src/memory/index.js'
import type { SqliteDatabase } from '../../src/sqlite/config.js'
import { sqliteStore } from '../../src/sqlite/index.js'
import { attempt as specAttempt, type Spec, spec as specs } from '../support/attemptSpecs.js'
import { orThrow } from './support.js'

/** A commit that was appended, or a failed test. */
const ok = (r: E.Either<{ readonly _tag: string }, Commit>): Commit => {
  if (E.isLeft(r)) throw new Error(`not appended: ${r.left._tag}`)
  return r.right
}

const attempt = (s: Spec) => specAttempt('t', s)
const spec = specs(['a', 'b', 'c'])

const outcome = (r: E.Either<{ readonly _tag: string; readonly missed?: readonly Commit[] }, Commit>) =>
  E.isRight(r)
    ? { ok: r.right.commitId, stream: r.right.streamId, token: r.right.checkpointToken, seq: r.right.commitSequence, rev: r.right.streamRevision }
    : { error: r.left._tag, missed: r.left.missed?.map((c) => [c.commitId, c.checkpointToken]) }

const logOf = async (store: Persistence) => {
  const log: unknown[] = []
  for await (const r of store.getFrom(0)) log.push(outcome(E.right(orThrow(r))))
  return log
}

describe('sqlite group commit', () => {
  it('answers every attempt of one turn as one-at-a-time appends in the stored order would, and stores that order', async () => {
    const seen = new Map<string, number>()
    await fc.assert(
      fc.asyncProperty(fc.array(spec, { maxLength: 6 }), fc.array(spec, { minLength: 1, maxLength: 24 }), fc.integer({ min: 1, max: 8 }), async (before, turn, maxBatch) => {
        const store = sqliteStore({ filename: ':memory:', groupCommit: { maxBatch } })
        orThrow(await store.initialize())
        const reference = memoryStore()
        // given some commits made one at a time on both
        for (const s of before) expect(outcome(await store.commit(attempt(s)))).toEqual(outcome(await reference.commit(attempt(s))))
        // when the rest are submitted in one turn
        const answers = (await Promise.all(turn.map((s) => store.commit(attempt(s))))).map(outcome)
        // then each answer is what the memory store, fed one at a time in the order the store chose (the order
        // of submission), answers
        const expected = []
        for (const s of turn) expected.push(outcome(await reference.commit(attempt(s))))
        expect(answers).toEqual(expected)
        for (const a of answers) seen.set('ok' in a ? 'Right' : a.error, (seen.get('ok' in a ? 'Right' : a.error) ?? 0) + 1)
        // and the stored log is that order, gap-free tokens ascending
        const log = await logOf(store)
        expect(log).toEqual(await logOf(reference))
        expect(log.map((c) => (c as { token: number }).token)).toEqual(log.map((_, i) => i + 1))
        await store.close()
      }),
      { numRuns: 150 },
    )
    // and the runs met every kind of answer, in batches
    for (const kind of ['Right', 'ConcurrencyConflict', 'DuplicateCommit', 'InvalidAttempt']) expect(seen.get(kind) ?? 0, kind).toBeGreaterThan(20)
  })

  it('collects the appends of one turn into one transaction, up to maxBatch', async () => {
    const db = new Database(':memory:')
    // Transactions that stored something: each COMMIT, and each write statement run outside a transaction
    // (SQLite commits it on its own).
    let commits = 0
    const autocommitting = (st: Database.Statement): Database.Statement => {
      const wrapped: Database.Statement = new Proxy(st, {
        get: (target, key) => {
          if (key === 'run')
            return (...params: unknown[]) => {
              const alone = !db.inTransaction
              const r = target.run(...params)
              if (alone && r.changes > 0) commits++
              return r
            }
          // `raw` and `safeIntegers` answer the statement itself: keep answering the counting one.
          if (key === 'raw' || key === 'safeIntegers')
            return (toggle?: boolean) => {
              target[key](toggle)
              return wrapped
            }
          const v = Reflect.get(target, key) as unknown
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
        },
      })
      return wrapped
    }
    const counting: SqliteDatabase = {
      get open() { return db.open },
      get inTransaction() { return db.inTransaction },
      prepare: (s) => autocommitting(db.prepare(s)),
      exec: (s) => { if (s === 'COMMIT') commits++; return db.exec(s) },
      pragma: (s, o) => db.pragma(s, o),
      close: () => db.close(),
    }
    const store = sqliteStore({ database: counting, groupCommit: { maxBatch: 4 } })
    orThrow(await store.initialize())
    commits = 0
    const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => store.commit(attempt({ stream: `s${i}`, seq: 1, revBase: 0, events: 1, id: `c${i}` }))))
    expect(rs.every(E.isRight)).toBe(true)
    expect(commits).toBe(3)
    // a lone append is one transaction of its own (its single statement, committed by SQLite)
    commits = 0
    ok(await store.commit(attempt({ stream: 'lone', seq: 1, revBase: 0, events: 1, id: 'l' })))
    expect(commits).toBe(1)
    await store.close()
    db.close()
  })

  it('answers every append of a batch whose transaction failed with the failure, and stores none of them', async () => {
    const db = new Database(':memory:')
    let failCommit = false
    const failing: SqliteDatabase = {
      get open() { return db.open },
      get inTransaction() { return db.inTransaction },
      prepare: (s) => db.prepare(s),
      exec: (s) => {
        if (s === 'COMMIT' && failCommit) {
          failCommit = false
          throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' })
        }
        return db.exec(s)
      },
      pragma: (s, o) => db.pragma(s, o),
      close: () => db.close(),
    }
    const store = sqliteStore({ database: failing })
    orThrow(await store.initialize())
    ok(await store.commit(attempt({ stream: 'a', seq: 1, revBase: 0, events: 1, id: 'first' })))
    failCommit = true
    const rs = await Promise.all([
      store.commit(attempt({ stream: 'a', seq: 2, revBase: 1, events: 1, id: 'second' })),
      store.commit(attempt({ stream: 'b', seq: 1, revBase: 0, events: 2, id: 'other' })),
      store.commit(attempt({ stream: 'a', seq: 1, revBase: 0, events: 1, id: 'first' })),
    ])
    expect(rs.map((r) => (E.isLeft(r) ? r.left._tag : 'Right'))).toEqual(['StorageError', 'StorageError', 'StorageError'])
    expect((await logOf(store)).map((c) => (c as { ok: string }).ok)).toEqual(['first'])
    // and the next batch goes on from a clean state, with the next token
    const next = ok(await store.commit(attempt({ stream: 'a', seq: 2, revBase: 1, events: 1, id: 'second' })))
    expect(next.checkpointToken).toBe(2)
    await store.close()
    db.close()
  })

  it('refuses bad groupCommit options', async () => {
    for (const groupCommit of [{ maxBatch: 0 }, { maxBatch: 1.5 }, { maxWaitMs: -1 }, 'yes'] as const) {
      const r = await sqliteStore({ filename: ':memory:', groupCommit: groupCommit as never }).initialize()
      expect(E.isLeft(r) && r.left._tag).toBe('StorageError')
    }
  })
})
