import type * as Sdk from '@aws-sdk/client-dynamodb'
import type { ClientSource, DynamoDbClient } from './config.js'
import { isThrottled, NotSent } from './errors.js'

/**
 * The only door to the AWS SDK: loads it on first use, creates (or takes) the client, sends commands with the
 * store's throttling retries, and destroys the client on close when the store created it. A failed request
 * throws the SDK's own error unchanged; the store shell turns it into a `StorageError` whose cause it is.
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The operations the store uses, with the SDK's own input and output types. */
export interface Operations {
  readonly BatchWriteItem: readonly [Sdk.BatchWriteItemCommandInput, Sdk.BatchWriteItemCommandOutput]
  readonly CreateTable: readonly [Sdk.CreateTableCommandInput, Sdk.CreateTableCommandOutput]
  readonly DeleteItem: readonly [Sdk.DeleteItemCommandInput, Sdk.DeleteItemCommandOutput]
  readonly DeleteTable: readonly [Sdk.DeleteTableCommandInput, Sdk.DeleteTableCommandOutput]
  readonly DescribeTable: readonly [Sdk.DescribeTableCommandInput, Sdk.DescribeTableCommandOutput]
  readonly GetItem: readonly [Sdk.GetItemCommandInput, Sdk.GetItemCommandOutput]
  readonly PutItem: readonly [Sdk.PutItemCommandInput, Sdk.PutItemCommandOutput]
  readonly Query: readonly [Sdk.QueryCommandInput, Sdk.QueryCommandOutput]
  readonly Scan: readonly [Sdk.ScanCommandInput, Sdk.ScanCommandOutput]
  readonly UpdateItem: readonly [Sdk.UpdateItemCommandInput, Sdk.UpdateItemCommandOutput]
}
export type Operation = keyof Operations

export type Item = Record<string, Sdk.AttributeValue>

export interface SendOptions {
  /** Epoch ms after which a throttled request is not retried again (the caller has a deadline of its own). */
  readonly deadline?: number
}

export interface Connection {
  send<K extends Operation>(op: K, input: Operations[K][0], options?: SendOptions): Promise<Operations[K][1]>
  /** Destroys the client if the store created it; a caller's client is left alone. */
  close(): void
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

type SdkModule = typeof Sdk
let sdk: Promise<SdkModule> | undefined

/** The SDK, imported on first use so that importing `aett/dynamodb` alone never loads it. */
export const loadSdk = (): Promise<SdkModule> => {
  sdk ??= import('@aws-sdk/client-dynamodb').catch((cause: unknown) => {
    sdk = undefined // the next call tries again (the package may be installed meanwhile)
    throw cause
  })
  return sdk
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Exponential backoff with full jitter: 25 ms, 50 ms, ... capped at 2 s. */
export const backoff = (attempt: number): number => Math.random() * Math.min(2_000, 25 * 2 ** attempt)

const commands = (m: SdkModule) =>
  ({
    BatchWriteItem: m.BatchWriteItemCommand,
    CreateTable: m.CreateTableCommand,
    DeleteItem: m.DeleteItemCommand,
    DeleteTable: m.DeleteTableCommand,
    DescribeTable: m.DescribeTableCommand,
    GetItem: m.GetItemCommand,
    PutItem: m.PutItemCommand,
    Query: m.QueryCommand,
    Scan: m.ScanCommand,
    UpdateItem: m.UpdateItemCommand,
  }) satisfies Record<Operation, unknown> as unknown as Record<Operation, new (input: never) => unknown>

/** A connection over a client; `owned` clients (created by the store) are destroyed by `close()`. */
export const connection = (m: SdkModule, client: DynamoDbClient, owned: boolean, maxRetries: number): Connection => {
  const Command = commands(m)
  return {
    async send<K extends Operation>(op: K, input: Operations[K][0], options: SendOptions = {}): Promise<Operations[K][1]> {
      for (let attempt = 0; ; attempt++) {
        if (options.deadline !== undefined && Date.now() > options.deadline) throw new NotSent(`${op} not sent: its deadline passed`)
        try {
          return (await client.send(new Command[op](input as never))) as Operations[K][1]
        } catch (cause) {
          if (!isThrottled(cause) || attempt >= maxRetries) throw cause
          await sleep(backoff(attempt))
        }
      }
    },
    close() {
      if (owned) client.destroy?.()
    },
  }
}

/** Loads the SDK and takes the caller's client, or creates one from its configuration. */
export const openConnection = async (source: ClientSource, maxRetries: number): Promise<Connection> => {
  const m = await loadSdk()
  return 'given' in source
    ? connection(m, source.given, false, maxRetries)
    : connection(m, new m.DynamoDBClient(source.create) as unknown as DynamoDbClient, true, maxRetries)
}
