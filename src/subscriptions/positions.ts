import * as E from 'fp-ts/lib/Either.js'
import type { Commit } from '../eventstore/Commit.js'
import { storageError, type ReadError } from '../eventstore/errors.js'
import type { Persistence } from '../eventstore/ports.js'
import type { Reads } from '../eventstore/reads.js'
import type { Checkpoint } from '../eventstore/subscriptionStore.js'
import type { StartAt } from './options.js'

/** The feed shard of a store with one feed (SEMANTICS 7). */
export const SHARD = '0'

/** The feed shard a store reads: a shard's view names its own (`FeedShardView`), any other store has one feed. */
export const shardOf = (store: unknown): string => {
  const s = (store as { readonly feedShard?: unknown } | null)?.feedShard
  return typeof s === 'string' ? s : SHARD
}

export const checkpointAt = (position: number, shard: string = SHARD): Checkpoint => ({ positions: { [shard]: position } })

export const positionOf = (checkpoint: Checkpoint, shard: string = SHARD): number => {
  const p = checkpoint.positions[shard]
  return typeof p === 'number' && Number.isSafeInteger(p) && p > 0 ? p : 0
}

type Reader = Pick<Persistence, 'getFrom' | 'getFromTo'>

/**
 * Walks a read, handing each commit to `take` until it answers `false`; the read is then closed, so a store that
 * pages stops fetching. A read that throws (a store outside the kit) is a `StorageError`, never a throw.
 */
const walk = async (operation: string, reads: Reads<Commit>, take: (c: Commit) => boolean): Promise<E.Either<ReadError, void>> => {
  try {
    for await (const r of reads) {
      if (E.isLeft(r)) return r
      if (!take(r.right)) break
    }
    return E.right(undefined)
  } catch (cause) {
    return E.left(storageError(operation, cause))
  }
}

/**
 * The next at most `size` commits after `from`, in token order, without ever holding more: first the token
 * window `(from, from + size]` (which a store serves without looking further), then, when that window held fewer
 * (tokens have gaps, or the source is one tenant's), a read from the last token seen that is closed as soon as the
 * batch is full. Either way the result is exactly what `getFrom(from)` would start with.
 */
export const readBatch = async (store: Reader, from: number, size: number, tenantId: string | undefined): Promise<E.Either<ReadError, Commit[]>> => {
  const out: Commit[] = []
  let last = from
  const take = (c: Commit): boolean => {
    out.push(c)
    last = c.checkpointToken
    return out.length < size
  }
  const to = Math.min(from + size, Number.MAX_SAFE_INTEGER)
  const window = await walk('read a batch', store.getFromTo(from, to, tenantId), take)
  if (E.isLeft(window)) return window
  if (out.length < size && to < Number.MAX_SAFE_INTEGER) {
    const rest = await walk('read a batch', store.getFrom(last, tenantId), take)
    if (E.isLeft(rest)) return rest
  }
  return E.right(out)
}

/**
 * Reads batch after batch from one open `getFrom` while each batch starts where the last one ended, so that a
 * store pages through the log once (a token window per batch would return short batches, and cost a second
 * query, wherever tokens have gaps: PostgreSQL's transaction ids). At most one store page and one batch are ever
 * held. A batch that starts elsewhere (a retry from the checkpoint, a reset) opens a new read; an empty batch
 * always comes from a read opened for it, so "nothing more" is never stale.
 */
export class BatchReader {
  private open: { readonly it: AsyncIterator<E.Either<ReadError, Commit>>; after: number } | undefined

  constructor(
    private readonly store: Reader,
    private readonly tenantId: string | undefined,
  ) {}

  async next(from: number, size: number): Promise<E.Either<ReadError, Commit[]>> {
    if (this.open !== undefined && this.open.after === from) {
      const continued = await this.pull(size)
      if (E.isLeft(continued) || continued.right.length > 0) return continued
    }
    await this.close()
    this.open = { it: this.store.getFrom(from, this.tenantId)[Symbol.asyncIterator](), after: from }
    return this.pull(size)
  }

  /** Closes the open read, if any, so that a paging store stops fetching. */
  async close(): Promise<void> {
    const open = this.open
    this.open = undefined
    try {
      await open?.it.return?.()
    } catch {
      // Closing a read that failed already: nothing is left to release.
    }
  }

  private async pull(size: number): Promise<E.Either<ReadError, Commit[]>> {
    const open = this.open as NonNullable<BatchReader['open']>
    const out: Commit[] = []
    try {
      while (out.length < size) {
        const r = await open.it.next()
        if (r.done === true) {
          this.open = undefined
          break
        }
        if (E.isLeft(r.value)) {
          this.open = undefined
          return r.value
        }
        out.push(r.value.right)
        open.after = r.value.right.checkpointToken
      }
    } catch (cause) {
      this.open = undefined
      return E.left(storageError('read a batch', cause))
    }
    return E.right(out)
  }
}

/** The first commit after `token`, if any; only one commit is ever read. */
export const firstAfter = async (store: Reader, token: number, tenantId: string | undefined): Promise<E.Either<ReadError, Commit | undefined>> => {
  let found: Commit | undefined
  const r = await walk('find a token', store.getFrom(token, tenantId), (c) => {
    found = c
    return false
  })
  return E.isLeft(r) ? r : E.right(found)
}

/**
 * The last token of the log (or of one tenant's part of it), 0 when empty, found by a galloping then binary search
 * over `firstAfter`: about 2·log2(head) reads of one commit each, never a walk through the whole log.
 */
export const headToken = async (store: Reader, tenantId: string | undefined): Promise<E.Either<ReadError, number>> => {
  let lo = 0 // a token that exists (or 0)
  let hi: number | undefined // a bound with nothing above it
  for (;;) {
    const probe = hi === undefined ? Math.min(lo * 2, Number.MAX_SAFE_INTEGER - 1) : lo + Math.floor((hi - lo) / 2)
    const next = await firstAfter(store, probe, tenantId)
    if (E.isLeft(next)) return next
    if (next.right === undefined) {
      if (probe <= lo) return E.right(lo)
      hi = probe
    } else {
      lo = next.right.checkpointToken
      // Commits appended during the search can lift the head above the bound: search upwards again.
      if (hi !== undefined && lo > hi) hi = undefined
    }
  }
}

/**
 * The position just before the first commit (in token order) stamped at or after `time`: the token of the commit
 * before it, or 0. With no such commit, the head. One pass, one commit held at a time.
 */
export const positionAtTime = async (store: Reader, time: Date, tenantId: string | undefined): Promise<E.Either<ReadError, number>> => {
  const t = time.getTime()
  let previous = 0
  const r = await walk('find a time', store.getFrom(0, tenantId), (c) => {
    if (c.commitStamp.getTime() >= t) return false
    previous = c.checkpointToken
    return true
  })
  if (E.isLeft(r)) return r
  // Found: the commit before the first one at or after `time`; not found: the last commit, the head.
  return E.right(previous)
}

/** The checkpoint position a start means, now. */
export const positionOfStart = async (store: Reader, start: StartAt, tenantId: string | undefined): Promise<E.Either<ReadError, number>> => {
  if (start === 'beginning') return E.right(0)
  if (start === 'end') return headToken(store, tenantId)
  if ('token' in start) return E.right(start.token)
  return positionAtTime(store, start.time, tenantId)
}

/** How far `position` is behind: commits after it (counted up to `limit`), the head token, and the oldest stamp. */
export interface Lag {
  readonly commits: number
  /** `true` when more commits are behind than were counted (the count stopped at its limit). */
  readonly atLeast: boolean
  readonly headToken: number
  readonly oldestStamp: Date | undefined
}

export const lagAfter = async (store: Reader, position: number, tenantId: string | undefined, limit: number): Promise<E.Either<ReadError, Lag>> => {
  const head = await headToken(store, tenantId)
  if (E.isLeft(head)) return head
  let commits = 0
  let oldest: Date | undefined
  let atLeast = false
  if (head.right > position) {
    const r = await walk('measure the lag', store.getFromTo(position, head.right, tenantId), (c) => {
      if (commits === limit) {
        atLeast = true
        return false
      }
      if (commits === 0) oldest = c.commitStamp
      commits += 1
      return true
    })
    if (E.isLeft(r)) return r
  }
  return E.right({ commits, atLeast, headToken: Math.max(head.right, position), oldestStamp: oldest })
}
