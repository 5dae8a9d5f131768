import { readdirSync, readFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it, vi } from 'vitest'
import { dynamoDbStore, type DynamoDbStoreOptions } from '../../src/dynamodb/index.js'
import { FILLERS, A } from '../../src/dynamodb/schema.js'
import { toArray } from '../../src/eventstore/index.js'
import { attempt, collect, expectCommits, left, right } from 'aett/testing/contract'
import { uniqueName } from '../support/services.js'
import { configOf, disposeStore, dynaliteForFile, freshStore, interceptingClient, isCommitPut } from './server.js'

const db = dynaliteForFile()

const throttled = () => Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' })

describe('dynamodb: driver faults and options', () => {
  it('a put sent twice by the SDK (its first answer lost) is recognised as the writer\'s own commit', async () => {
    // given a client that sends every commit put twice and answers with the second answer
    const store = await freshStore(db(), {
      client: interceptingClient(db().client, async (command, send) => {
        if (!isCommitPut(command)) return send()
        await send()
        return send() // fails its condition: the first one landed
      }),
    })
    try {
      const ids = { tenantId: `t-${randomUUID()}`, streamId: 's' }
      // when a commit is made
      const c = right(await store.commit(attempt({ ...ids, commitSequence: 1 })))
      // then it is a success, stored once, and its token has no filler that would hide it from readers
      expectCommits(await collect(store.get(ids.tenantId, ids.streamId)), [c])
      expectCommits(await collect(store.getFrom(0)), [c])
      const { GetItemCommand } = await import('@aws-sdk/client-dynamodb')
      const filler = await db().client.send(
        new GetItemCommand({ TableName: configOf(store).commitsTable, Key: { [A.pk]: { S: FILLERS }, [A.sk]: { N: String(c.checkpointToken) } } }),
      )
      expect(filler.Item).toBeUndefined()
    } finally {
      await disposeStore(store)
    }
  })

  it('a refused attempt reports as missed the commits up to the head it was checked against, not those stored while its answer is read', async () => {
    // given a stream with one commit (id x), and a client that can hold back the next read of a stream's commits
    let hold: { reached: () => void; gate: Promise<void> } | undefined
    const client = interceptingClient(db().client, async (command, send) => {
      const h = hold
      if (h !== undefined && command.constructor.name === 'QueryCommand' && String(command.input['KeyConditionExpression']).includes('#sk >= :from')) {
        hold = undefined
        h.reached()
        await h.gate
      }
      return send()
    })
    const store = await freshStore(db(), { client })
    try {
      const ids = { tenantId: `t-${randomUUID()}`, streamId: 's' }
      right(await store.commit(attempt({ ...ids, commitSequence: 1, commitId: 'x' })))
      let release = (): void => undefined
      const reached = new Promise<void>((resolve) => (hold = { reached: resolve, gate: new Promise<void>((r) => (release = r)) }))
      // when an attempt behind the head (id w) is refused and, while its missed commits are read, the stream's
      // next commit is stored with the same id w
      const behind = store.commit(attempt({ ...ids, commitSequence: 1, commitId: 'w' }))
      await reached
      right(await store.commit(attempt({ ...ids, commitSequence: 2, commitId: 'w' })))
      release()
      // then it answers as a one-at-a-time store answers before that commit: a conflict that missed x only (after
      // it, the answer would have been DuplicateCommit)
      const answer = await behind
      expect(E.isLeft(answer) && answer.left._tag === 'ConcurrencyConflict' ? answer.left.missed.map((c) => c.commitId) : answer).toEqual(['x'])
    } finally {
      await disposeStore(store)
    }
  })

  it('retries throttled requests with backoff, and reports them once the retries are spent', async () => {
    // given a client that throttles every request's first two sends
    let budget = 0
    const client = interceptingClient(db().client, async (_command, send) => {
      if (budget > 0) {
        budget -= 1
        throw throttled()
      }
      return send()
    })
    const store = await freshStore(db(), { client, maxRetries: 3 })
    const strict = dynamoDbStore({ client, tables: { prefix: `${configOf(store).commitsTable.replace(/commits$/, '')}` }, maxRetries: 0 })
    try {
      const ids = { tenantId: `t-${randomUUID()}`, streamId: 's' }
      budget = 2
      const c = right(await store.commit(attempt({ ...ids, commitSequence: 1 })))
      budget = 2
      expectCommits(await collect(store.get(ids.tenantId, ids.streamId)), [c])
      // and a store that may not retry reports the driver's error, kept whole
      budget = 1
      const failed = left(await strict.commit(attempt({ ...ids, commitSequence: 2 })), 'StorageError')
      expect((failed.cause as Error).name).toBe('ProvisionedThroughputExceededException')
      budget = 0
      expectCommits(await collect(store.get(ids.tenantId, ids.streamId)), [c])
    } finally {
      await strict.close()
      await disposeStore(store)
    }
  })

  it('reports missing tables as storage errors carrying the driver\'s error, from writes and reads alike', async () => {
    const store = dynamoDbStore({ client: db().client, tables: { prefix: `${uniqueName('none')}_` } })
    const failed = left(await store.commit(attempt({ tenantId: 't', streamId: 's', commitSequence: 1 })), 'StorageError')
    expect((failed.cause as Error).name).toBe('ResourceNotFoundException')
    const read = await toArray(store.getFrom(0))
    expect(E.isLeft(read) && read.left._tag === 'StorageError' && (read.left.cause as Error).name).toBe('ResourceNotFoundException')
    expect(E.isLeft(await toArray(store.get('t', 's')))).toBe(true)
    expect(E.isLeft(await store.getSnapshot('t', 's'))).toBe(true)
    // and dropping what does not exist is fine
    right(await store.drop())
    await store.close()
  })

  it('creates, uses and destroys a client of its own from clientConfig, and refuses every call once closed', async () => {
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb')
    const destroy = vi.spyOn(DynamoDBClient.prototype, 'destroy')
    try {
      const store = dynamoDbStore({
        clientConfig: { endpoint: db().endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'k', secretAccessKey: 's' } },
        tables: { prefix: `${uniqueName('own')}_` },
        billing: { mode: 'PROVISIONED', readCapacityUnits: 5, writeCapacityUnits: 5 },
      })
      right(await store.initialize())
      const ids = { tenantId: 't', streamId: 's' }
      const c = right(await store.commit(attempt({ ...ids, commitSequence: 1 })))
      expectCommits(await collect(store.getFrom(0)), [c])
      right(await store.drop())
      right(await store.initialize())
      expect(destroy).not.toHaveBeenCalled()
      await store.close()
      // then the client it created is destroyed, once
      expect(destroy).toHaveBeenCalledTimes(1)
      expect(destroy.mock.contexts[0]).not.toBe(db().client)
      await store.close() // idempotent
      expect(destroy).toHaveBeenCalledTimes(1)
      // and a closed store refuses every call and stores nothing (issue 10 item 16)
      left(await store.commit(attempt({ ...ids, commitSequence: 1 })), 'StorageError')
      left(await store.addSnapshot({ ...ids, streamRevision: 1, commitSequence: 1, payload: {}, headers: {} }), 'StorageError')
      left(await store.drop(), 'StorageError')
      const read = await toArray(store.get(ids.tenantId, ids.streamId))
      expect(E.isLeft(read) && read.left._tag).toBe('StorageError')
      // the tables are still there (initialize above), and empty: nothing was stored after close
      const open = await freshStore(db(), { tables: { prefix: `${configOf(store).commitsTable.replace(/commits$/, '')}` } })
      expect(await collect(open.get(ids.tenantId, ids.streamId))).toEqual([])
      await disposeStore(open)
    } finally {
      destroy.mockRestore()
    }
  })

  it('never destroys a client passed in, on close or otherwise', async () => {
    const destroy = vi.spyOn(db().client, 'destroy')
    try {
      const store = await freshStore(db())
      const ids = { tenantId: `t-${randomUUID()}`, streamId: 's' }
      right(await store.commit(attempt({ ...ids, commitSequence: 1 })))
      await disposeStore(store)
      expect(destroy).not.toHaveBeenCalled()
      left(await store.commit(attempt({ ...ids, commitSequence: 2 })), 'StorageError')
      // and the caller's client still works
      const { ListTablesCommand } = await import('@aws-sdk/client-dynamodb')
      expect((await db().client.send(new ListTablesCommand({}))).TableNames).toBeDefined()
    } finally {
      destroy.mockRestore()
    }
  })

  it('refuses invalid options as a storage error answered by every call, never thrown (issue 10 item 9)', async () => {
    const client = db().client
    const refused = async (options: unknown) => {
      const store = dynamoDbStore(options as DynamoDbStoreOptions)
      expect(E.isLeft(store.config), String(options)).toBe(true)
      left(await store.initialize(), 'StorageError')
      left(await store.commit(attempt({ tenantId: 't', streamId: 's', commitSequence: 1 })), 'StorageError')
      const read = await toArray(store.getFrom(0))
      expect(E.isLeft(read) && read.left._tag).toBe('StorageError')
      await store.close()
    }
    await refused({ client, tables: { prefix: 'bad name!' } })
    await refused({ client, tables: { prefix: '', commits: 'x', snapshots: 'y' } })
    await refused({ client, tables: { commits: 'same', snapshots: 'same' } })
    await refused({ client, pageSize: 0 })
    await refused({ client, settleMs: -1 })
    await refused({ client, settleMs: 50 })
    expect(E.isRight(dynamoDbStore({ client, settleMs: 0 }).config)).toBe(true)
    await refused({ client, billing: { mode: 'PROVISIONED', readCapacityUnits: 0, writeCapacityUnits: 1 } })
    await refused(undefined)
    await refused(null)
    await refused('us-east-1')
    await refused({})
    await refused({ client, clientConfig: {} })
    await refused({ client: {} })
  })

  it('loads the AWS SDK lazily: no module of aett/dynamodb imports it except as types', () => {
    const dir = new URL('../../src/dynamodb/', import.meta.url)
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(new URL(file, dir), 'utf8')
      for (const line of source.split('\n').filter((l) => /from '@aws-sdk\//.test(l))) {
        expect(line, `${file}: ${line}`).toMatch(/^import type /)
      }
    }
  })
})
