import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import dynalite from 'dynalite'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect } from 'vitest'
import { dynamoDbStore, type DynamoDbClient, type DynamoDbCommonOptions, type DynamoDbConfig, type DynamoDbStore } from '../../src/dynamodb/index.js'
import type { Commit, Persistence } from '../../src/eventstore/index.js'
import type { StoreHarness } from 'aett/testing/contract'
import { feedShardOf } from '../../src/dynamodb/shards.js'
import { uniqueName } from '../support/services.js'

/** A running dynalite (in memory, tables ACTIVE at once) and a client pointed at it. */
export interface Dynalite {
  readonly endpoint: string
  readonly client: DynamoDBClient
  close(): Promise<void>
}

/** Starts dynalite in process on a random loopback port. Credentials and region are dummies. */
export const startDynalite = async (): Promise<Dynalite> => {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  })
  return {
    endpoint,
    client,
    async close() {
      client.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** One dynalite for a test file: started before its tests, closed after them. */
export const dynaliteForFile = (): (() => Dynalite) => {
  let running: Dynalite | undefined
  beforeAll(async () => {
    running = await startDynalite()
  })
  afterAll(async () => {
    await running?.close()
  })
  return () => running ?? expect.fail('dynalite is not running')
}

/** A fresh store with its own table prefix, initialised. */
export const freshStore = async (
  db: Dynalite,
  options: DynamoDbCommonOptions & { readonly client?: DynamoDbClient } = {},
): Promise<DynamoDbStore> => {
  const store = dynamoDbStore({ client: db.client, tables: { prefix: `${uniqueName('aett')}_` }, pageSize: 5, ...options })
  const init = await store.initialize()
  if (init._tag === 'Left') throw new Error(init.left.message)
  return store
}

/** The resolved options of a store whose options were valid. */
export const configOf = (store: DynamoDbStore): DynamoDbConfig => {
  if (store.config._tag === 'Left') throw new Error(store.config.left.message)
  return store.config.right
}

/** Drops the store's tables and closes it. */
export const disposeStore = async (store: Persistence): Promise<void> => {
  const dropped = await store.drop()
  await store.close()
  if (dropped._tag === 'Left') throw new Error(dropped.left.message)
}

/** The same tables under the names of the store they were created by (no prefix). */
export const sameTables = (store: DynamoDbStore) => {
  const { commitsTable, snapshotsTable, subscriptionsTable, documentsTable } = configOf(store)
  return { prefix: '', commits: commitsTable, snapshots: snapshotsTable, subscriptions: subscriptionsTable, documents: documentsTable }
}

/** Another store object on the tables of `store`, as another process would open them. */
export const reopenStore = (db: Dynalite, store: DynamoDbStore, options: DynamoDbCommonOptions = {}): DynamoDbStore =>
  dynamoDbStore({ client: db.client, pageSize: 5, ...options, tables: sameTables(store) })

export const dynaliteHarness = (db: () => Dynalite, options: DynamoDbCommonOptions = {}): StoreHarness => ({
  name: 'dynamodb (dynalite)',
  create: () => freshStore(db(), options),
  dispose: disposeStore,
  // Another store on the same tables, to check that calls on a closed one stored nothing.
  reopen: async (store) => reopenStore(db(), store as DynamoDbStore, options),
  // A client whose every request fails, as one that cannot reach DynamoDB does.
  failing: async () =>
    dynamoDbStore({
      client: { send: () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { name: 'NetworkingError' })) },
      tables: { prefix: `${uniqueName('down')}_` },
    }),
})

/**
 * The harness of a store of `shards` feed shards: the contract reads its log shard by shard (`store.feeds()`), and a
 * commit belongs to the shard its ids route to (`feedShardOf`), which each shard's read must agree with.
 */
export const shardedHarness = (db: () => Dynalite, shards: number, options: DynamoDbCommonOptions = {}): StoreHarness => ({
  ...dynaliteHarness(db, { ...options, feedShards: shards }),
  name: `dynamodb (dynalite, ${shards} feed shards)`,
  feeds: {
    readers: (store) => {
      const feeds = (store as DynamoDbStore).feeds()
      if (feeds._tag === 'Left') throw new Error(feeds.left.message)
      return feeds.right
    },
    shardOf: (ids: Pick<Commit, 'tenantId' | 'streamId'>) => feedShardOf(ids.tenantId, ids.streamId, shards),
  },
})

/** The SDK command a client is asked to send: its class name tells the operation. */
export interface SentCommand {
  readonly input: Record<string, unknown>
  readonly constructor: { readonly name: string }
}

/**
 * A client that lets a test step between the store and DynamoDB: `through(command, send)` decides what the
 * store gets back, and may call `send` (the real client) any number of times.
 */
export const interceptingClient = (
  inner: DynamoDBClient,
  through: (command: SentCommand, send: () => Promise<unknown>) => Promise<unknown>,
): DynamoDbClient => ({
  send: (command: unknown) => through(command as SentCommand, () => inner.send(command as never)),
})

/** True for the store's conditional put of a commit item. */
export const isCommitPut = (c: SentCommand): boolean =>
  c.constructor.name === 'PutItemCommand' && typeof c.input['ConditionExpression'] === 'string'

/**
 * A reader that polls `getFrom` from the last token it was handed until `writing()` turns false, then reads once
 * more, pausing `pauseMs` between polls: what it saw, in the order it saw it.
 */
export const pollingReader = async (store: Persistence, writing: () => boolean, tenantId?: string, pauseMs = 0): Promise<Commit[]> => {
  const seen: Commit[] = []
  for (let last = 0, done = false; !done; ) {
    done = !writing() // one more full read after the writers finished
    for await (const r of store.getFrom(last, tenantId)) {
      if (r._tag === 'Left') throw new Error(r.left.message)
      seen.push(r.right)
      last = r.right.checkpointToken
    }
    if (!done && pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs))
  }
  return seen
}
