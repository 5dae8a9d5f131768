import type * as Sdk from '@aws-sdk/client-dynamodb'
import type { DynamoDbClient } from './config.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The operations the store uses, with the SDK's own input and output types. */
export interface Operations {
  readonly BatchWriteItem: readonly [Sdk.BatchWriteItemCommandInput, Sdk.BatchWriteItemCommandOutput]
  readonly CreateTable: readonly [Sdk.CreateTableCommandInput, Sdk.CreateTableCommandOutput]
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

/** Sends commands through a client, building them with the SDK loaded on first use. */
export interface Driver {
  send<K extends Operation>(op: K, input: Operations[K][0], options?: SendOptions): Promise<Operations[K][1]>
  /** Destroys the client if the store created it. */
  close(): Promise<void>
}

export interface SendOptions {
  /** Epoch ms after which a throttled request is not retried again (the caller has a deadline of its own). */
  readonly deadline?: number
}

/** A request that was refused before it was sent: it certainly did not change anything. */
export class NotSent extends Error {
  override readonly name = 'NotSent'
}

// -------------------------------------------------------------------------------------
// refinements (driver errors are told apart by their `name`, never by message text)
// -------------------------------------------------------------------------------------

export const errorName = (cause: unknown): string | undefined => {
  const name = (cause as { name?: unknown } | null)?.name
  return typeof name === 'string' ? name : undefined
}

export const isConditionalCheckFailed = (cause: unknown): boolean => errorName(cause) === 'ConditionalCheckFailedException'
export const isResourceNotFound = (cause: unknown): boolean => errorName(cause) === 'ResourceNotFoundException'
export const isResourceInUse = (cause: unknown): boolean => errorName(cause) === 'ResourceInUseException'

const throttling: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
])

/** DynamoDB refused the request for capacity reasons; it did nothing and can be sent again. */
export const isThrottled = (cause: unknown): boolean => throttling.has(errorName(cause) ?? '')

/**
 * True when the request certainly changed nothing: refused by a condition, by validation, for capacity, or
 * before it was sent. A network failure is not among these: the write may have landed.
 */
export const certainlyNotApplied = (cause: unknown): boolean =>
  cause instanceof NotSent ||
  isThrottled(cause) ||
  isConditionalCheckFailed(cause) ||
  errorName(cause) === 'ValidationException'

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

type SdkModule = typeof Sdk
let sdk: Promise<SdkModule> | undefined

/** The SDK, imported on first use so that importing `aett/dynamodb` alone never loads it. */
export const loadSdk = (): Promise<SdkModule> => (sdk ??= import('@aws-sdk/client-dynamodb'))

const commandOf = (m: SdkModule, op: Operation): new (input: never) => unknown => {
  const ctors = {
    BatchWriteItem: m.BatchWriteItemCommand,
    CreateTable: m.CreateTableCommand,
    DeleteTable: m.DeleteTableCommand,
    DescribeTable: m.DescribeTableCommand,
    GetItem: m.GetItemCommand,
    PutItem: m.PutItemCommand,
    Query: m.QueryCommand,
    Scan: m.ScanCommand,
    UpdateItem: m.UpdateItemCommand,
  } satisfies Record<Operation, unknown>
  return ctors[op] as unknown as new (input: never) => unknown
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Exponential backoff with full jitter: 25 ms, 50 ms, ... capped at 2 s. */
export const backoff = (attempt: number): number => Math.random() * Math.min(2_000, 25 * 2 ** attempt)

/**
 * A driver over a client. `owned` clients (created from a configuration) are destroyed by `close()`; a caller's
 * client is left alone.
 */
export const driver = (client: Promise<DynamoDbClient>, owned: boolean, maxRetries: number): Driver => {
  let closed = false
  return {
    async send<K extends Operation>(op: K, input: Operations[K][0], options: SendOptions = {}): Promise<Operations[K][1]> {
      const [m, c] = await Promise.all([loadSdk(), client])
      const Command = commandOf(m, op)
      for (let attempt = 0; ; attempt++) {
        if (options.deadline !== undefined && Date.now() > options.deadline) {
          throw new NotSent(`${op} not sent: its deadline passed`)
        }
        try {
          return (await c.send(new Command(input as never))) as Operations[K][1]
        } catch (cause) {
          if (!isThrottled(cause) || attempt >= maxRetries) throw cause
          await sleep(backoff(attempt))
        }
      }
    },
    async close() {
      if (closed) return
      closed = true
      if (owned) (await client.catch(() => undefined))?.destroy?.()
    },
  }
}
