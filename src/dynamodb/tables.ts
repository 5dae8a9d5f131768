import type { CreateTableCommandInput, TableDescription } from '@aws-sdk/client-dynamodb'
import type { DynamoDbConfig } from './config.js'
import { isResourceInUse, isResourceNotFound, sleep, type Driver } from './driver.js'
import { commitsTableInput, snapshotsTableInput } from './schema.js'

/** Persistence management of the tables themselves: create, wait until usable, delete, wait until gone. */

export interface TableContext {
  readonly driver: Driver
  readonly config: DynamoDbConfig
}

/** Real DynamoDB takes seconds to minutes to create or delete a table. */
const maxWaitMs = 10 * 60_000

const describe = async (ctx: TableContext, table: string): Promise<TableDescription | undefined> => {
  try {
    return (await ctx.driver.send('DescribeTable', { TableName: table })).Table
  } catch (cause) {
    if (isResourceNotFound(cause)) return undefined
    throw cause
  }
}

const ready = (t: TableDescription): boolean =>
  t.TableStatus === 'ACTIVE' && (t.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE')

const waitFor = async (what: string, done: () => Promise<boolean>): Promise<void> => {
  const start = Date.now()
  for (let delay = 20; !(await done()); delay = Math.min(delay * 2, 2_000)) {
    if (Date.now() - start > maxWaitMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(delay)
  }
}

/** Checks that an existing table has the indexes this store reads, rather than failing later. */
const checkIndexes = (input: CreateTableCommandInput, t: TableDescription): void => {
  const have = new Set([...(t.LocalSecondaryIndexes ?? []), ...(t.GlobalSecondaryIndexes ?? [])].map((i) => i.IndexName))
  const wanted = [...(input.LocalSecondaryIndexes ?? []), ...(input.GlobalSecondaryIndexes ?? [])].map((i) => i.IndexName)
  const missing = wanted.filter((name) => !have.has(name))
  if (missing.length > 0) throw new Error(`table ${input.TableName} exists without the indexes ${missing.join(', ')}`)
}

const ensure = async (ctx: TableContext, input: CreateTableCommandInput): Promise<void> => {
  const table = input.TableName as string
  const existing = await describe(ctx, table)
  if (existing === undefined) {
    try {
      await ctx.driver.send('CreateTable', input)
    } catch (cause) {
      // Another process is creating it at the same moment: wait for theirs.
      if (!isResourceInUse(cause)) throw cause
    }
  }
  let last: TableDescription | undefined
  await waitFor(`table ${table} to become ACTIVE`, async () => {
    last = await describe(ctx, table)
    return last !== undefined && ready(last)
  })
  if (last !== undefined) checkIndexes(input, last)
}

/** Creates both tables if missing and waits until they and their indexes are ACTIVE. Idempotent. */
export const createTables = async (ctx: TableContext): Promise<void> => {
  await Promise.all([ensure(ctx, commitsTableInput(ctx.config)), ensure(ctx, snapshotsTableInput(ctx.config))])
}

const remove = async (ctx: TableContext, table: string): Promise<void> => {
  await waitFor(`table ${table} to be deleted`, async () => {
    const t = await describe(ctx, table)
    if (t === undefined) return true
    // A table can only be deleted once it is ACTIVE; one that is being created or deleted is waited for.
    if (t.TableStatus === 'ACTIVE') {
      try {
        await ctx.driver.send('DeleteTable', { TableName: table })
      } catch (cause) {
        if (!isResourceNotFound(cause) && !isResourceInUse(cause)) throw cause
      }
    }
    return false
  })
}

/** Deletes both tables and waits until they are gone. */
export const deleteTables = async (ctx: TableContext): Promise<void> => {
  await Promise.all([remove(ctx, ctx.config.commitsTable), remove(ctx, ctx.config.snapshotsTable)])
}
