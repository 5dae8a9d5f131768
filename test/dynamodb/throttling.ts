import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { DynamoDbClient } from '../../src/dynamodb/index.js'
import type { Item } from '../../src/dynamodb/connection.js'
import { A, I } from '../../src/dynamodb/schema.js'

/**
 * A model of DynamoDB's per-partition write limit and of its global indexes' lag, around a real (emulated) client.
 *
 * Writes: every partition a write lands in has a token bucket of `writesPerSecond` (with a tenth of a second of
 * burst, at least 4 units): the table's partition (one unit for the item and one for each local index entry, which share its item
 * collection) and the partition of each global index the item is in (`byToken` by `gp`, `byTenant` by `t`, or on a
 * table of several feed shards by `tsh`, the (shard, tenant) key). A
 * write that finds any of its partitions empty is refused whole with `ProvisionedThroughputExceededException`,
 * as DynamoDB does, and consumes nothing. Reads are not limited.
 *
 * Index lag: an item written with a global index key is hidden from Queries of the global indexes for a random
 * delay of up to `indexDelayMs` after its write, in no particular order (dynalite updates indexes at once).
 */
/** The SDK command a client is asked to send (as server.ts's `SentCommand`; not imported, so benches can use this file). */
interface SentCommand {
  readonly input: Record<string, unknown>
  readonly constructor: { readonly name: string }
}

export interface ThrottleModel {
  readonly writesPerSecond: number
  readonly indexDelayMs: number
}

export interface Throttling {
  readonly client: DynamoDbClient
  /** Writes refused by the model, and writes let through. */
  readonly stats: () => { readonly throttled: number; readonly written: number }
}

const refused = (): Error => Object.assign(new Error('the model refused a write above its partition limit'), { name: 'ProvisionedThroughputExceededException' })

interface Bucket {
  tokens: number
  at: number
}

/** The partitions an item written to `table` lands in, with the units it takes in each. */
const partitionsOf = (table: string, item: Item): ReadonlyMap<string, number> => {
  const out = new Map<string, number>()
  const pk = item[A.pk]?.S ?? ''
  // The local indexes: an entry in each one whose key the item has (revision, commit id).
  const local = (item[A.revision] === undefined ? 0 : 1) + (item[A.commitId] === undefined ? 0 : 1)
  out.set(`${table}|${pk}`, 1 + local)
  const g = item[A.global]?.S
  if (g !== undefined) out.set(`${table}|${I.byToken}|${g}`, 1)
  const t = item[A.tenantShard]?.S ?? item[A.tenant]?.S
  if (t !== undefined && item[A.token] !== undefined) out.set(`${table}|${I.byTenant}|${t}`, 1)
  return out
}

/** The items (or keys) a write command touches, by table. */
const writesOf = (c: SentCommand): readonly { readonly table: string; readonly item: Item }[] => {
  const op = c.constructor.name
  const input = c.input as { TableName?: string; Item?: Item; Key?: Item; RequestItems?: Record<string, readonly { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]> }
  if (op === 'PutItemCommand') return [{ table: input.TableName ?? '', item: input.Item ?? {} }]
  if (op === 'UpdateItemCommand' || op === 'DeleteItemCommand') return [{ table: input.TableName ?? '', item: input.Key ?? {} }]
  if (op === 'BatchWriteItemCommand') {
    return Object.entries(input.RequestItems ?? {}).flatMap(([table, requests]) =>
      requests.map((r) => ({ table, item: r.PutRequest?.Item ?? r.DeleteRequest?.Key ?? {} })),
    )
  }
  return []
}

const keyOf = (table: string, item: Item): string => `${table}|${item[A.pk]?.S ?? ''}|${item[A.sk]?.N ?? item[A.sk]?.S ?? ''}`

export const throttlingClient = (inner: DynamoDBClient, model: ThrottleModel): Throttling => {
  const buckets = new Map<string, Bucket>()
  const visibleAt = new Map<string, number>()
  let throttled = 0
  let written = 0
  // At least one whole write of an item with its local index entries fits, or that write could never pass.
  const burst = Math.max(4, model.writesPerSecond / 10)

  const take = (units: ReadonlyMap<string, number>): boolean => {
    const now = Date.now()
    const refill = (p: string): Bucket => {
      const b = buckets.get(p) ?? { tokens: burst, at: now }
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * model.writesPerSecond)
      b.at = now
      buckets.set(p, b)
      return b
    }
    for (const [p, n] of units) if (refill(p).tokens < n) return false
    for (const [p, n] of units) refill(p).tokens -= n
    return true
  }

  const send = async (command: unknown): Promise<unknown> => {
    const c = command as SentCommand
    const writes = writesOf(c)
    if (writes.length > 0) {
      const units = new Map<string, number>()
      for (const w of writes) for (const [p, n] of partitionsOf(w.table, w.item)) units.set(p, (units.get(p) ?? 0) + n)
      if (!take(units)) {
        throttled += 1
        throw refused()
      }
      written += 1
      const out = await inner.send(command as never)
      for (const w of writes) {
        if (w.item[A.global] !== undefined) visibleAt.set(keyOf(w.table, w.item), Date.now() + Math.random() * model.indexDelayMs)
      }
      return out
    }
    const out = (await inner.send(command as never)) as { Items?: Item[] }
    const index = c.input['IndexName']
    if (c.constructor.name === 'QueryCommand' && (index === I.byToken || index === I.byTenant) && out.Items !== undefined) {
      const table = String(c.input['TableName'])
      const now = Date.now()
      out.Items = out.Items.filter((item) => (visibleAt.get(keyOf(table, item)) ?? 0) <= now)
    }
    return out
  }
  return { client: { send }, stats: () => ({ throttled, written }) }
}
