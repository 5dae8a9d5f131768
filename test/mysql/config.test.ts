import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { toArray, type CommitAttempt } from '../../src/eventstore/index.js'
import { mysqlErrorKind, mysqlStore, type MysqlStoreOptions } from '../../src/mysql/index.js'
import { mysqlErrno } from '../../src/mysql/errors.js'
import { mysqlUrl } from '../support/services.js'

// Checks that need no server: option validation and error classification.

const attempt: CommitAttempt = {
  tenantId: 'tenant',
  streamId: 'stream',
  streamRevision: 1,
  commitId: 'commit-1',
  commitSequence: 1,
  commitStamp: new Date('2026-01-02T03:04:05.678Z'),
  headers: {},
  events: [{ body: { type: 'Happened' }, headers: {} }],
}

describe('mysql options and errors (no server needed)', () => {
  it('classifies driver errors by errno, never by message', () => {
    // given driver errors that only differ in errno
    const err = (errno: number) => Object.assign(new Error('Duplicate entry'), { errno })
    // then the kind follows the number
    expect(mysqlErrorKind(err(mysqlErrno.duplicateKey))).toBe('duplicateKey')
    expect(mysqlErrorKind(err(mysqlErrno.deadlock))).toBe('deadlock')
    expect(mysqlErrorKind(err(mysqlErrno.lockWaitTimeout))).toBe('lockWaitTimeout')
    expect(mysqlErrorKind(err(1146))).toBe('other')
    expect(mysqlErrorKind(new Error('Duplicate entry'))).toBe('other')
  })

  it('refuses a table prefix that is not a plain identifier, from every method', async () => {
    // given a store configured with a prefix that tries to escape its quotes
    const store = mysqlStore({ uri: mysqlUrl, tablePrefix: 'x`; DROP TABLE users; --' })
    // then every method answers with a configuration StorageError and touches no database
    const init = await store.initialize()
    expect(E.isLeft(init) && init.left.operation).toBe('configure')
    const commit = await store.commit(attempt)
    expect(E.isLeft(commit) && commit.left._tag).toBe('StorageError')
    const read = await toArray(store.getFrom(0))
    expect(E.isLeft(read) && read.left.operation).toBe('configure')
    await store.close()
  })

  it('answers a URI it cannot use with a StorageError instead of throwing', async () => {
    // given a store whose URI is not a URL
    const store = mysqlStore({ uri: 'not a url' })
    // when used, then it fails as a value, with the parser's error as the cause
    const r = await store.commit(attempt)
    expect(E.isLeft(r) && r.left._tag === 'StorageError' && r.left.operation).toBe('connect')
    await store.close()
  })

  it('refuses a page size that is not a positive integer', async () => {
    const store = mysqlStore({ uri: mysqlUrl, pageSize: 0 })
    const read = await toArray(store.get('t', 's'))
    expect(E.isLeft(read) && read.left.message).toMatch(/pageSize/)
  })

  it('issue 10 item 9: missing or malformed options are answered by every call, never thrown', async () => {
    // given stores built from what plain JavaScript callers might pass
    const bad: unknown[] = [undefined, null, 42, 'mysql://root@127.0.0.1/test', {}, { pool: {} }, { pool: { query: () => undefined } }, { uri: mysqlUrl, connectionLimit: 0 }]
    for (const options of bad) {
      // when constructed, then it does not throw
      const store = mysqlStore(options as MysqlStoreOptions)
      // and initialize, a commit, a read and a snapshot read all answer the configuration error
      const init = await store.initialize()
      expect(E.isLeft(init) && init.left.operation, JSON.stringify(options)).toBe('configure')
      const commit = await store.commit(attempt)
      expect(E.isLeft(commit) && commit.left._tag === 'StorageError' && commit.left.operation).toBe('configure')
      const read = await toArray(store.getFrom(0))
      expect(E.isLeft(read) && read.left._tag === 'StorageError' && read.left.operation).toBe('configure')
      const snapshot = await store.getSnapshot('t', 's')
      expect(E.isLeft(snapshot) && snapshot.left.operation).toBe('configure')
      await store.close()
    }
  })
})
