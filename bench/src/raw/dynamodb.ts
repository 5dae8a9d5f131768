import { CreateTableCommand, DescribeTableCommand, PutItemCommand, QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { evolveAccount, initialAccount, TENANT, type Account } from '../domain.js'
import type { Contender } from '../harness/types.js'
import { eventsJson } from './commitRows.js'

/**
 * The raw SDK baseline on DynamoDB: one item per commit, partition = tenant and stream (length-prefixed so that
 * no two pairs meet), sort key = commit sequence, written with a conditional put (`attribute_not_exists`), the
 * optimistic concurrency of one stream. No global order: that is what aett adds on top, and pays for.
 */
export const createRawDynamo = async (client: DynamoDBClient, table: string) => {
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  )
  // A new table answers ResourceNotFound until it is ACTIVE, even on dynalite with `createTableMs: 0` (its status
  // changes on a timer): the probe that writes right after creating it failed that way once under load.
  for (let tries = 0; ; tries++) {
    const described = await client.send(new DescribeTableCommand({ TableName: table }))
    if (described.Table?.TableStatus === 'ACTIVE') break
    if (tries === 200) throw new Error(`table ${table} is not ACTIVE after 200 checks`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  const pk = (streamId: string): string => `${TENANT.length}:${TENANT}${streamId}`

  const append = async (streamId: string, sequence: number, revision: number, count: number): Promise<void> => {
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: { S: pk(streamId) },
          sk: { N: String(sequence) },
          rev: { N: String(revision) },
          id: { S: crypto.randomUUID() },
          at: { N: String(Date.now()) },
          events: { S: eventsJson(streamId, revision - count + 1, count) },
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    )
  }

  const fold = async (streamId: string): Promise<Account> => {
    let s = initialAccount
    let start: Record<string, never> | undefined
    do {
      const page = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: pk(streamId) } },
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      )
      for (const item of page.Items ?? []) {
        for (const e of JSON.parse(item['events']?.S ?? '[]') as { body: { amount: number } }[]) s = evolveAccount(s, e.body)
      }
      start = page.LastEvaluatedKey as Record<string, never> | undefined
    } while (start !== undefined)
    return s
  }

  return {
    appendSingles: (n: number, prefix: string): Contender => ({
      library: 'raw',
      via: 'PutItem (conditional)',
      run: async (round) => {
        for (let i = 1; i <= n; i++) await append(`${prefix}-${round}`, i, i, 1)
      },
    }),
    seedStream: async (streamId: string, events: number, perCommit: number): Promise<void> => {
      for (let seq = 1; seq * perCommit <= events; seq++) await append(streamId, seq, seq * perCommit, perCommit)
    },
    loads: (streamId: string, loads: number, events: number): Contender => ({
      library: 'raw',
      via: 'Query',
      run: async () => {
        for (let i = 0; i < loads; i++) {
          const s = await fold(streamId)
          if (s.deposits !== events) throw new Error(`raw dynamodb folded ${s.deposits} events, expected ${events}`)
        }
      },
    }),
    commands: (n: number, streams: number, prefix: string): Contender => ({
      library: 'raw',
      run: async (round) => {
        for (let i = 0; i < n; i++) {
          const streamId = `${prefix}-${round}-${i % streams}`
          const version = (await fold(streamId)).deposits + 1
          await append(streamId, version, version, 1)
        }
      },
    }),
  }
}
