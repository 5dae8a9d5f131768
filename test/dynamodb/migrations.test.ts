import { CreateTableCommand, DescribeTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import { describe, expect, it } from 'vitest'
import { dynamoDbStore } from '../../src/dynamodb/index.js'
import { commitsTableInput, snapshotsTableInput, tableSteps } from '../../src/dynamodb/schema.js'
import { collect, expectCommits, next, right, some, uid } from 'aett/testing/contract'
import { configOf, disposeStore, dynaliteForFile } from './server.js'

const db = dynaliteForFile()

const tableNames = async (): Promise<string[]> => (await db().client.send(new ListTablesCommand({}))).TableNames ?? []

describe('dynamodb: the tables of each version (initialize creates what is missing)', () => {
  it('0.1 created two tables; 0.2 added the subscriptions and documents tables, and nothing else changed', () => {
    const store = dynamoDbStore({ client: db().client, tables: { prefix: 'v_' } })
    const steps = tableSteps(configOf(store))
    expect(steps.map((s) => [s.since, s.tables.map((t) => t.TableName)])).toEqual([
      ['0.1', ['v_commits', 'v_snapshots']],
      ['0.2', ['v_subscriptions', 'v_documents']],
    ])
  })

  it('a store whose tables 0.1 created gains the subscriptions and documents tables on initialize(), keeps its data, and runs subscriptions', async () => {
    // given the tables as aett 0.1's initialize() left them (the same layout and indexes), holding commits
    const prefix = `${uid('old').replace(/-/g, '')}_`
    const store = dynamoDbStore({ client: db().client, tables: { prefix }, pageSize: 5 })
    const config = configOf(store)
    for (const input of [commitsTableInput(config), snapshotsTableInput(config)]) await db().client.send(new CreateTableCommand(input))
    const ids = { tenantId: uid('t'), streamId: 's' }
    const c1 = right(await store.commit(next(undefined, ids)))
    const c2 = right(await store.commit(next(c1, ids)))
    expect(await tableNames()).not.toContain(config.subscriptionsTable)
    expect(await tableNames()).not.toContain(config.documentsTable)
    // before the migration, subscription calls answer a StorageError (no table), never a throw
    const before = await store.subscriptions.acquire('projection', 'a', 10_000)
    expect(E.isLeft(before) && before.left._tag).toBe('StorageError')
    // when initialize() runs (twice: it is idempotent)
    right(await store.initialize())
    right(await store.initialize())
    // then the subscriptions table exists, ACTIVE, keyed by (pk: S, sk: S)
    const table = (await db().client.send(new DescribeTableCommand({ TableName: config.subscriptionsTable }))).Table
    expect(table?.TableStatus).toBe('ACTIVE')
    expect(table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ])
    // and the documents table exists, keyed by (pk: S, sk: S), with the projection index (pr, pk) ACTIVE
    const documents = (await db().client.send(new DescribeTableCommand({ TableName: config.documentsTable }))).Table
    expect(documents?.TableStatus).toBe('ACTIVE')
    expect(documents?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ])
    expect(documents?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.KeySchema, i.IndexStatus])).toEqual([
      [
        'byProjection',
        [
          { AttributeName: 'pr', KeyType: 'HASH' },
          { AttributeName: 'pk', KeyType: 'RANGE' },
        ],
        'ACTIVE',
      ],
    ])
    // and the old data reads back as it was
    expectCommits(await collect(store.get(ids.tenantId, ids.streamId)), [c1, c2])
    expectCommits(await collect(store.getFrom(0)), [c1, c2])
    // and subscriptions work on it
    const lease = some(right(await store.subscriptions.acquire('projection', 'a', 10_000)))
    right(await store.subscriptions.saveCheckpoint(lease, { positions: { '0': c2.checkpointToken } }))
    expect(right(await store.subscriptions.checkpoint('projection'))).toEqual(O.some({ positions: { '0': c2.checkpointToken } }))
    // and drop() removes all four tables
    await disposeStore(store)
    const left = await tableNames()
    for (const t of [config.commitsTable, config.snapshotsTable, config.subscriptionsTable, config.documentsTable]) expect(left).not.toContain(t)
  })

  it('names the subscriptions and documents tables after the prefix, or as tables.subscriptions and tables.documents say; the four names must differ', async () => {
    const named = dynamoDbStore({ client: db().client, tables: { prefix: 'p_', subscriptions: 'subs' } })
    expect(configOf(named).subscriptionsTable).toBe('p_subs')
    expect(configOf(named).documentsTable).toBe('p_documents')
    expect(configOf(dynamoDbStore({ client: db().client, tables: { prefix: 'p_', documents: 'docs' } })).documentsTable).toBe('p_docs')
    for (const tables of [{ subscriptions: 'commits' }, { documents: 'snapshots' }, { documents: 2 }, { snapshots: 'x', subscriptions: 'x' }, { prefix: '', subscriptions: 'a' }, { subscriptions: 1 }]) {
      const bad = dynamoDbStore({ client: db().client, tables: tables as never })
      const init = await bad.initialize()
      expect(E.isLeft(init) && init.left._tag, JSON.stringify(tables)).toBe('StorageError')
      const acquired = await bad.subscriptions.acquire('x', 'h', 1_000)
      expect(E.isLeft(acquired) && acquired.left._tag).toBe('StorageError')
    }
  })
})
