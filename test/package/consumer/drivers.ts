/**
 * The stores and the property helpers as a user writes them with every optional peer installed, compiled by
 * test/package/consumers.test.ts against the packed package in consumer projects that hold the lowest and the newest
 * versions of each peer range (npm), and under pnpm's strict layout. `main(endpoint)` runs the DynamoDB store against
 * dynalite; the other drivers are only constructed (no server is needed for that) and type-checked.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import Database from 'better-sqlite3'
import * as E from 'fp-ts/lib/Either.js'
import * as fc from 'fast-check'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { toArray, type CommitAttempt } from 'aett/eventstore'
import { dynamoDbStore } from 'aett/dynamodb'
import { mysqlStore } from 'aett/mysql'
import { postgresStore } from 'aett/postgres'
import { sqliteStore } from 'aett/sqlite'
import { arbitraryEvent, checkDeciderLaws } from 'aett/testing/properties'
import { account, Deposited, topics, Withdrawn, type Command } from './app.js'

/** A user's own driver objects fit the stores' options (checked by the compiler only). */
export const wire = () => ({
  sqlite: () => sqliteStore({ database: new Database(':memory:') }),
  postgres: () => postgresStore({ pool: new pg.Pool({ connectionString: 'postgres://localhost/db' }) }),
  mysql: () => mysqlStore({ pool: mysql.createPool({ uri: 'mysql://localhost/db' }) }),
  dynamodb: () => dynamoDbStore({ client: new DynamoDBClient({ region: 'eu-west-1' }) }),
})

const attempt = (streamId: string, sequence = 1, commitId = `${streamId}-c${sequence}`): CommitAttempt => ({
  tenantId: 'default',
  streamId,
  commitId,
  commitSequence: sequence,
  streamRevision: sequence,
  commitStamp: new Date('2026-03-01T09:00:00.000Z'),
  headers: {},
  events: [{ body: topics.encode(Deposited.create({ id: streamId, version: 1, timestamp: new Date(), amount: 5 })), headers: {} }],
})

export async function main(endpoint: string) {
  // DynamoDB through a client the store creates with the installed SDK.
  const store = dynamoDbStore({
    clientConfig: { endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } },
    tables: { prefix: `consumer_${Date.now()}_` },
  })
  try {
    const ready = await store.initialize()
    if (E.isLeft(ready)) return ready.left
    const first = await store.commit(attempt('acc-1'))
    const again = await store.commit(attempt('acc-1'))
    // Writers racing for the next commit: one wins, the others are told of the conflict (the SDK's conditional
    // check failure, told apart by its error name).
    const race = await Promise.all([1, 2, 3, 4].map((n) => store.commit(attempt('acc-1', 2, `writer-${n}`))))
    const read = await toArray(store.getFrom(0))
    await store.drop()

    // The property helpers with the installed fast-check.
    const events = arbitraryEvent(Deposited, Withdrawn)
    const commands: fc.Arbitrary<Command> = fc.record({
      kind: fc.constantFrom('deposit' as const, 'withdraw' as const),
      amount: fc.integer({ min: 1, max: 100 }),
      at: fc.constant(new Date('2026-03-01T09:00:00.000Z')),
    })
    const laws = E.isRight(events) ? checkDeciderLaws(account, { events: events.right, commands, parameters: { numRuns: 20, seed: 1 } }) : events

    return {
      first: E.isRight(first) ? first.right.streamRevision : first.left._tag,
      again: E.isRight(again) ? 'stored twice' : again.left._tag,
      race: race.map((r) => (E.isRight(r) ? 'Committed' : r.left._tag)).sort(),
      read: E.isRight(read) ? read.right.map((c) => `${c.streamId}@${c.commitSequence}`) : read.left._tag,
      laws: E.isRight(laws) ? 'hold' : laws.left,
    }
  } finally {
    await store.close()
  }
}

/** What `main()` answers; the consumer test checks exactly this. */
export const expected = {
  first: 1,
  again: 'DuplicateCommit',
  race: ['Committed', 'ConcurrencyConflict', 'ConcurrencyConflict', 'ConcurrencyConflict'],
  read: ['acc-1@1', 'acc-1@2'],
  laws: 'hold',
}
