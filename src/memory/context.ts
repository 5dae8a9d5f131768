import type { Commit } from '../eventstore/Commit.js'
import type { Snapshot } from '../eventstore/Snapshot.js'

/** One stream's data. */
export interface StreamData {
  readonly commits: Commit[]
  readonly commitIds: Set<string>
  /** Ordered by revision ascending; one per revision. */
  snapshots: Snapshot[]
}

/** Everything the store holds; the shell hands it to every operation. */
export interface MemoryContext {
  readonly tenants: Map<string, Map<string, StreamData>>
  /** Every commit in checkpoint order. */
  log: Commit[]
  nextToken: number
}

export const emptyContext = (): MemoryContext => ({ tenants: new Map(), log: [], nextToken: 1 })

export const streamOf = (ctx: MemoryContext, tenantId: string, streamId: string): StreamData | undefined =>
  ctx.tenants.get(tenantId)?.get(streamId)

export const createStream = (ctx: MemoryContext, tenantId: string, streamId: string): StreamData => {
  let streams = ctx.tenants.get(tenantId)
  if (streams === undefined) {
    streams = new Map()
    ctx.tenants.set(tenantId, streams)
  }
  const data: StreamData = { commits: [], commitIds: new Set(), snapshots: [] }
  streams.set(streamId, data)
  return data
}

const deepFreeze = <A>(value: A): A => {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}

/**
 * Keeps what the shell hands in: already a fresh JSON image, so the caller's objects are not shared; frozen, so
 * that readers cannot change history either.
 */
export const keep = <A>(value: A): A => deepFreeze(value)

/**
 * What a reader gets: the stored commit with a Date of its own. Freezing cannot protect a Date (its time lives
 * in an internal slot that `setTime` changes), so each read hands out a copy and history stays unchanged.
 */
export const handOut = (c: Commit): Commit => Object.freeze({ ...c, commitStamp: new Date(c.commitStamp.getTime()) })
