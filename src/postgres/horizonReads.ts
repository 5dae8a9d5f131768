import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import type { Commit } from '../eventstore/Commit.js'
import type { StorageError } from '../eventstore/errors.js'
import { mapRows } from '../sql/rows.js'
import type { Context } from './context.js'
import { toCommit, toHorizonHolder, type HorizonHolder } from './rows.js'

/** One global read: its page statement and, for the end of the read, the statement that finds the next commit. */
export interface HorizonRead {
  readonly operation: string
  readonly start: number
  readonly page: (after: number, limit: number) => readonly [string, unknown[]]
  /** Returns `next` (the lowest visible token beyond `after` in the read's window, or null) and `horizon`. */
  readonly next: (after: number) => readonly [string, unknown[]]
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Pages through commits in checkpoint order below the gap-free horizon (see `statements.ts`). A short page is
 * usually the end of the read; but when commits that are already committed wait behind an older transaction
 * still in flight, the read polls (2, 4, ... 50 ms) until they pass the horizon or `ctx.readWaitMs` runs out, so
 * that a writer reading right after its own commit sees it despite unrelated writers. Waiting only ever adds
 * commits after the last one handed out, so it cannot break the no-skipping rule.
 *
 * The check reads the next visible commit and the horizon in one snapshot: the horizon may have moved since the
 * page was read, and a commit that has just passed it must be fetched, not taken for the end.
 */
export async function* horizonReads(ctx: Context, read: HorizonRead): AsyncGenerator<E.Either<StorageError, Commit>, void, undefined> {
  let cursor = read.start
  let deadline: number | undefined
  let delay = 2
  for (;;) {
    const [text, values] = read.page(cursor, ctx.pageSize)
    const rows = await ctx.db.query(read.operation, text, values)
    const page = E.isLeft(rows) ? rows : mapRows(read.operation, rows.right, toCommit)
    if (E.isLeft(page)) {
      yield page
      return
    }
    for (const c of page.right) yield E.right(c)
    const last = page.right[page.right.length - 1]
    if (last !== undefined) cursor = last.checkpointToken
    if (page.right.length >= ctx.pageSize) continue
    if (ctx.readWaitMs <= 0) return
    deadline ??= Date.now() + ctx.readWaitMs
    if (Date.now() >= deadline) return
    const [checkText, checkValues] = read.next(cursor)
    const check = await ctx.db.query(`${read.operation} (horizon)`, checkText, checkValues)
    if (E.isLeft(check)) {
      yield check
      return
    }
    const next = check.right[0]?.['next']
    if (next === null || next === undefined) return
    // Already below the horizon: fetch it at once.
    if (BigInt(String(next)) < BigInt(String(check.right[0]?.['horizon']))) continue
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())))
    delay = Math.min(delay * 2, 50)
  }
}

/** The oldest transaction in flight, if any: the one global reads wait for (see `HorizonHolder`). */
export const horizonHolder = async (ctx: Context): Promise<E.Either<StorageError, O.Option<HorizonHolder>>> => {
  const rows = await ctx.db.query('horizonHolder', ctx.sql.horizonHolder, [])
  if (E.isLeft(rows)) return rows
  const holders = mapRows('horizonHolder', rows.right, toHorizonHolder)
  return E.isLeft(holders) ? holders : E.right(O.fromNullable(holders.right[0]))
}
