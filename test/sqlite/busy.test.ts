import Database from 'better-sqlite3'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { toArray } from '../../src/eventstore/index.js'
import { isBusy, isUniqueViolation } from '../../src/sqlite/errors.js'
import { attempt, freshIds } from 'aett/testing/contract'
import { openInitialized, tempDir, tempFile } from './support.js'

const dir = tempDir()

/** A second connection to `filename` that holds the write lock until released. */
const holdWriteLock = (filename: string) => {
  const other = new Database(filename)
  other.exec('BEGIN IMMEDIATE')
  return {
    release: () => {
      other.exec('COMMIT')
      other.close()
    },
  }
}

describe('sqlite: busy and locked databases', () => {
  it('a write lock held by another connection is waited for, retried a bounded number of times, then reported', async () => {
    // given a store that waits 20 ms per try and retries twice, and another connection holding the write lock
    const filename = tempFile(dir)
    const store = await openInitialized({ filename, busyTimeoutMs: 20, busyRetries: 2, retryDelayMs: 5 })
    const lock = holdWriteLock(filename)
    const ids = freshIds()
    // when the store commits
    const result = await store.commit(attempt({ ...ids, commitSequence: 1 }))
    lock.release()
    // then the answer is a StorageError that keeps SQLite's busy error
    expect(E.isLeft(result) && result.left._tag).toBe('StorageError')
    if (E.isLeft(result) && result.left._tag === 'StorageError') {
      expect((result.left.cause as { code?: string }).code).toMatch(/^SQLITE_BUSY/)
      expect(result.left.operation).toBe('commit')
    }
    // and nothing was stored
    expect(await toArray(store.get(ids.tenantId, ids.streamId))).toEqual(E.right([]))
    await store.close()
  })

  it('a commit succeeds once the other connection lets go within the retries', async () => {
    // given another connection holding the write lock, released after 60 ms
    const filename = tempFile(dir)
    const store = await openInitialized({ filename, busyTimeoutMs: 10, busyRetries: 30, retryDelayMs: 5 })
    const lock = holdWriteLock(filename)
    setTimeout(lock.release, 60)
    const ids = freshIds()
    // when the store commits (better-sqlite3 blocks while SQLite waits, so only the pauses between retries let
    // the release run)
    const result = await store.commit(attempt({ ...ids, commitSequence: 1 }))
    // then the commit went through
    expect(E.isRight(result)).toBe(true)
    expect(E.map((cs: readonly unknown[]) => cs.length)(await toArray(store.get(ids.tenantId, ids.streamId)))).toEqual(E.right(1))
    await store.close()
  })

  it('management calls are retried and reported the same way', async () => {
    // given another connection holding the write lock
    const filename = tempFile(dir)
    const store = await openInitialized({ filename, busyTimeoutMs: 10, busyRetries: 1, retryDelayMs: 1 })
    const lock = holdWriteLock(filename)
    // when the store purges
    const result = await store.purge()
    lock.release()
    // then it reports busy as a StorageError
    expect(E.isLeft(result) && result.left.operation).toBe('purge')
    expect(E.isRight(await store.purge())).toBe(true)
    await store.close()
  })

  it('driver errors are classified by code, never by message', () => {
    const withCode = (code: string) => Object.assign(new Error('whatever the message says'), { code })
    expect(isBusy(withCode('SQLITE_BUSY'))).toBe(true)
    expect(isBusy(withCode('SQLITE_BUSY_SNAPSHOT'))).toBe(true)
    expect(isBusy(withCode('SQLITE_LOCKED_SHAREDCACHE'))).toBe(true)
    expect(isBusy(withCode('SQLITE_BUSYNESS'))).toBe(false)
    expect(isBusy(new Error('SQLITE_BUSY: database is locked'))).toBe(false)
    expect(isUniqueViolation(withCode('SQLITE_CONSTRAINT_UNIQUE'))).toBe(true)
    expect(isUniqueViolation(withCode('SQLITE_CONSTRAINT_PRIMARYKEY'))).toBe(true)
    expect(isUniqueViolation(withCode('SQLITE_CONSTRAINT_NOTNULL'))).toBe(false)
    expect(isUniqueViolation(new Error('UNIQUE constraint failed'))).toBe(false)
  })
})
