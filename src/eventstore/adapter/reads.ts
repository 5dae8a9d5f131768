import * as E from 'fp-ts/lib/Either.js'
import type { ReadError } from '../errors.js'
import type { Reads } from '../reads.js'

/**
 * Turns a page fetcher into a read. `fetch(cursor)` returns the next page after `cursor` (or a failure); an
 * empty page, or one shorter than `pageSize`, ends the read. `next` derives the cursor from a page's last item.
 */
export async function* paged<A, C>(
  start: C,
  pageSize: number,
  fetch: (cursor: C, limit: number) => Promise<E.Either<ReadError, readonly A[]>>,
  next: (last: A) => C,
): AsyncGenerator<E.Either<ReadError, A>, void, undefined> {
  let cursor = start
  for (;;) {
    const page = await fetch(cursor, pageSize)
    if (E.isLeft(page)) {
      yield page
      return
    }
    const items = page.right
    for (const item of items) yield E.right(item)
    const last = items[items.length - 1]
    if (last === undefined || items.length < pageSize) return
    cursor = next(last)
  }
}

/** A read over values already in memory. */
export async function* fromIterable<A>(items: Iterable<A>): AsyncGenerator<E.Either<ReadError, A>, void, undefined> {
  for (const item of items) yield E.right(item)
}

/** A read that fails at once. */
export async function* failed<A>(error: ReadError): AsyncGenerator<E.Either<ReadError, A>, void, undefined> {
  yield E.left(error)
}

/** A read that finds nothing (an id that cannot exist, a window that is empty). */
export const empty = <A>(): Reads<A> => fromIterable<A>([])
