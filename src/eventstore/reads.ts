import * as E from 'fp-ts/lib/Either.js'
import type { ReadError } from './errors.js'

/**
 * A long read. Stores page through their data and yield one element at a time so that memory stays flat;
 * a failure is yielded as a `Left` and ends the iteration, so a read never throws.
 */
export type Reads<A> = AsyncIterable<E.Either<ReadError, A>>

/** Collects a read into an array, stopping at the first failure. */
export const toArray = async <A>(reads: Reads<A>): Promise<E.Either<ReadError, A[]>> => {
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
): Promise<E.Either<ReadError, B>> => {
  let acc = initial
  for await (const r of reads) {
    if (E.isLeft(r)) return r
    acc = step(acc, r.right)
  }
  return E.right(acc)
}
