import type { DynamoDbClient } from './config.js'

/**
 * A client wrapper that counts what a store sends: requests by operation, the capacity units DynamoDB (or the
 * emulator) reports for them (it asks for `ReturnConsumedCapacity: INDEXES` on every request that takes it), and
 * how many requests were in flight at once. For the request and cost figures of docs/stores/dynamodb.md and their
 * tests; not exported by the package.
 */

export interface Metered {
  readonly client: DynamoDbClient
  /** Counts since the last `reset()`. */
  readonly counts: () => Meter
  readonly reset: () => void
}

export interface Meter {
  readonly requests: number
  readonly byOperation: Readonly<Record<string, number>>
  /** Read and write capacity units reported, table and indexes together. */
  readonly readUnits: number
  readonly writeUnits: number
  /** The most requests in flight at one moment: sequential requests give 1. */
  readonly maxInFlight: number
  /**
   * Round trips in a row: a request sent after others answered is one deeper than the deepest of them, so requests
   * sent together count once and a request that waits for an answer counts again.
   */
  readonly roundTrips: number
}

interface Capacity {
  readonly CapacityUnits?: number
  readonly ReadCapacityUnits?: number
  readonly WriteCapacityUnits?: number
}

type Command = { readonly constructor: { readonly name: string }; readonly input: Record<string, unknown> }

const takesCapacity = new Set(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan', 'BatchWriteItem'])
const writes = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'])

const empty = (): { -readonly [K in keyof Meter]: Meter[K] } => ({ requests: 0, byOperation: {}, readUnits: 0, writeUnits: 0, maxInFlight: 0, roundTrips: 0 })

export const metered = (inner: DynamoDbClient): Metered => {
  let meter = empty()
  let inFlight = 0
  let answeredDepth = 0
  const send = async (command: unknown): Promise<unknown> => {
    const c = command as Command
    const op = c.constructor.name.replace(/Command$/, '')
    meter.requests += 1
    meter.byOperation = { ...meter.byOperation, [op]: (meter.byOperation[op] ?? 0) + 1 }
    const depth = answeredDepth + 1
    meter.roundTrips = Math.max(meter.roundTrips, depth)
    inFlight += 1
    meter.maxInFlight = Math.max(meter.maxInFlight, inFlight)
    if (takesCapacity.has(op)) c.input['ReturnConsumedCapacity'] = 'INDEXES'
    try {
      const out = (await inner.send(command as never)) as { readonly ConsumedCapacity?: Capacity | readonly Capacity[] }
      const consumed = out.ConsumedCapacity
      for (const cap of consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed as Capacity]) {
        const units = cap.CapacityUnits ?? 0
        if (writes.has(op)) meter.writeUnits += units
        else meter.readUnits += units
      }
      return out
    } finally {
      inFlight -= 1
      answeredDepth = Math.max(answeredDepth, depth)
    }
  }
  return {
    client: { send } as DynamoDbClient,
    counts: () => ({ ...meter }),
    reset: () => {
      meter = empty()
      answeredDepth = 0
    },
  }
}
