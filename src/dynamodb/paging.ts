import type { QueryCommandInput, ScanCommandInput, WriteRequest } from '@aws-sdk/client-dynamodb'
import * as E from 'fp-ts/lib/Either.js'
import { storageError } from '../eventstore/errors.js'
import type { Reads } from '../eventstore/reads.js'
import { backoff, sleep, type Driver, type Item, type Operations } from './driver.js'

/**
 * Every Query and Scan pages with `LastEvaluatedKey`: a page can end early (1 MB, or a filter that dropped
 * items), so only a missing key ends a read, never a short page.
 */
async function* pagesOf<K extends 'Query' | 'Scan'>(d: Driver, op: K, input: Operations[K][0], pageSize: number): AsyncGenerator<Item, void, undefined> {
  let start: Item | undefined
  do {
    const page: Operations['Query' | 'Scan'][1] = await d.send(op, { ...input, Limit: pageSize, ...(start === undefined ? {} : { ExclusiveStartKey: start }) })
    for (const item of page.Items ?? []) yield item
    start = page.LastEvaluatedKey
  } while (start !== undefined)
}

export const queryAll = (d: Driver, input: QueryCommandInput, pageSize: number): AsyncGenerator<Item, void, undefined> =>
  pagesOf(d, 'Query', input, pageSize)

export const scanAll = (d: Driver, input: ScanCommandInput, pageSize: number): AsyncGenerator<Item, void, undefined> =>
  pagesOf(d, 'Scan', input, pageSize)

/** The first item of a query, or undefined. */
export const first = async (d: Driver, input: QueryCommandInput): Promise<Item | undefined> =>
  (await d.send('Query', { ...input, Limit: 1 })).Items?.[0]

/**
 * Turns a generator that may throw (driver errors) into a read that never does: the failure is yielded as a
 * `Left` and ends the read.
 */
export async function* guarded<A>(operation: string, items: () => AsyncIterable<A>): Reads<A> {
  try {
    for await (const a of items()) yield E.right(a)
  } catch (cause) {
    yield E.left(storageError(operation, cause))
  }
}

const maxBatch = 25

/** Writes requests in batches of 25, sending unprocessed ones again with backoff (bounded). */
export const batchWrite = async (d: Driver, table: string, requests: readonly WriteRequest[], maxRetries: number): Promise<void> => {
  for (let i = 0; i < requests.length; i += maxBatch) {
    let pending: WriteRequest[] = requests.slice(i, i + maxBatch)
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > maxRetries) throw new Error(`BatchWriteItem left ${pending.length} requests unprocessed on ${table}`)
      if (attempt > 0) await sleep(backoff(attempt))
      const out = await d.send('BatchWriteItem', { RequestItems: { [table]: pending } })
      pending = out.UnprocessedItems?.[table] ?? []
    }
  }
}
