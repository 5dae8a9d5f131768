import * as E from 'fp-ts/lib/Either.js'
import type { StorageError } from './errors.js'

/**
 * A long read. Stores page through their data and yield one element at a time so that memory stays flat;
 * a failure is yielded as a `Left` and ends the iteration, so a read never throws.
 */
export type Reads<A> = AsyncIterable<E.Either<StorageError, A>>

/** Collects a read into an array, stopping at the first failure. */
export const toArray = async <A>(reads: Reads<A>): Promise<E.Either<StorageError, A[]>> => {
  const out: A[] = []
  for await (const r of reads) {
    if (E.isLeft(r)) return r
    out.push(r.right)
  }
  return E.right(out)
}

/** Folds a read without keeping it, stopping at the first failure. */
export const foldReads = async <A, B>(
  reads: Reads<A>,
  initial: B,
  step: (acc: B, a: A) => B,
): Promise<E.Either<StorageError, B>> => {
  let acc = initial
  for await (const r of reads) {
    if (E.isLeft(r)) return r
    acc = step(acc, r.right)
  }
  return E.right(acc)
}

/**
 * Turns a page fetcher into a read. `fetch(cursor)` returns the next page after `cursor` (or a failure); an
 * empty page, or one shorter than `pageSize`, ends the read. `next` derives the cursor from a page's last item.
 */
export async function* paged<A, C>(
  start: C,
  pageSize: number,
  fetch: (cursor: C, limit: number) => Promise<E.Either<StorageError, readonly A[]>>,
  next: (last: A) => C,
): AsyncGenerator<E.Either<StorageError, A>, void, undefined> {
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
export async function* fromIterable<A>(items: Iterable<A>): AsyncGenerator<E.Either<StorageError, A>, void, undefined> {
  for (const item of items) yield E.right(item)
}

/** A read that fails at once. */
export async function* failed<A>(error: StorageError): AsyncGenerator<E.Either<StorageError, A>, void, undefined> {
  yield E.left(error)
}
