import type { QueryCommandInput, ScanCommandInput, WriteRequest } from '@aws-sdk/client-dynamodb'
import * as E from 'fp-ts/lib/Either.js'
import { backoff, sleep, type Connection, type Item, type Operations } from './connection.js'

/**
 * DynamoDB's paging. Every Query and Scan pages with `LastEvaluatedKey`: a page can end early (1 MB, or a filter
 * that dropped items), so only a missing key ends a read, never a short page. Batch writes go 25 at a time, and
 * what DynamoDB leaves unprocessed is sent again.
 */

async function* pagesOf<K extends 'Query' | 'Scan'>(c: Connection, op: K, input: Operations[K][0], pageSize: number): AsyncGenerator<Item, void, undefined> {
  let start: Item | undefined
  do {
    const page: Operations['Query' | 'Scan'][1] = await c.send(op, { ...input, Limit: pageSize, ...(start === undefined ? {} : { ExclusiveStartKey: start }) })
    for (const item of page.Items ?? []) yield item
    start = page.LastEvaluatedKey
  } while (start !== undefined)
}

export const queryAll = (c: Connection, input: QueryCommandInput, pageSize: number): AsyncGenerator<Item, void, undefined> =>
  pagesOf(c, 'Query', input, pageSize)

export const scanAll = (c: Connection, input: ScanCommandInput, pageSize: number): AsyncGenerator<Item, void, undefined> =>
  pagesOf(c, 'Scan', input, pageSize)

/** The first item of a query, or undefined. */
export const first = async (c: Connection, input: QueryCommandInput): Promise<Item | undefined> =>
  (await c.send('Query', { ...input, Limit: 1 })).Items?.[0]

const maxBatch = 25

/** Writes requests in batches of 25, sending unprocessed ones again with backoff (bounded). */
export const batchWrite = async (c: Connection, table: string, requests: readonly WriteRequest[], maxRetries: number): Promise<void> => {
  for (let i = 0; i < requests.length; i += maxBatch) {
    let pending: WriteRequest[] = requests.slice(i, i + maxBatch)
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > maxRetries) throw new Error(`BatchWriteItem left ${pending.length} requests unprocessed on ${table}`)
      if (attempt > 0) await sleep(backoff(attempt))
      const out = await c.send('BatchWriteItem', { RequestItems: { [table]: pending } })
      pending = out.UnprocessedItems?.[table] ?? []
    }
  }
}

/** Goes through items a page of `size` at a time, so that memory stays flat. */
export const inPages = async (items: AsyncIterable<Item>, size: number, flush: (page: readonly Item[]) => Promise<void>): Promise<void> => {
  let page: Item[] = []
  for await (const item of items) {
    page.push(item)
    if (page.length >= size) {
      await flush(page)
      page = []
    }
  }
  if (page.length > 0) await flush(page)
}

/** A read over items that a query yields; a throw while reading is turned into a `StorageError` by the shell. */
export async function* asReads<A>(items: AsyncIterable<A>): AsyncGenerator<E.Either<never, A>, void, undefined> {
  for await (const a of items) yield E.right(a)
}
