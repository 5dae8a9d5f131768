import * as E from 'fp-ts/lib/Either.js'
import { invalidArgument, type InvalidArgument } from '../errors.js'
import type { RevisionRange } from '../ports.js'

/**
 * Read bounds as every store receives them from the shell: safe integers, already normalised, so that no store
 * ever sees NaN, Infinity, a fraction or an Invalid Date (SEMANTICS 5, 7, 9, 11).
 */
export interface Window {
  /** First revision (≥ 1) and last revision (≤ MAX_SAFE_INTEGER) of a stream read; commits overlapping it match. */
  readonly minRevision: number
  readonly maxRevision: number
}

export const UNBOUNDED = Number.MAX_SAFE_INTEGER

const notANumber = (operation: string, what: string, v: unknown): InvalidArgument =>
  invalidArgument(operation, `${what} must be a number, got ${typeof v === 'number' ? 'NaN' : typeof v}`)

const isNumber = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v)

/**
 * A revision range, normalised: a missing or non-positive bound means "from the start" / "to the end"; a lower
 * bound is rounded up and an upper bound down (revisions are whole); bounds past MAX_SAFE_INTEGER are clamped.
 * `undefined` as the answer means the window holds nothing (its lower bound lies above every revision).
 */
export const toWindow = (operation: string, range: RevisionRange | undefined): E.Either<InvalidArgument, Window | undefined> => {
  const { minRevision, maxRevision } = range ?? {}
  if (minRevision !== undefined && !isNumber(minRevision)) return E.left(notANumber(operation, 'minRevision', minRevision))
  if (maxRevision !== undefined && !isNumber(maxRevision)) return E.left(notANumber(operation, 'maxRevision', maxRevision))
  const min = minRevision === undefined || minRevision <= 0 ? 1 : Math.ceil(minRevision)
  const max = upperRevisionBound(maxRevision)
  if (min > UNBOUNDED) return E.right(undefined)
  return E.right({ minRevision: min, maxRevision: max })
}

/** An upper revision bound (checked to be a number or undefined): non-positive or missing means "to the end". */
const upperRevisionBound = (maxRevision: number | undefined): number =>
  maxRevision === undefined || maxRevision <= 0 ? UNBOUNDED : Math.min(Math.floor(maxRevision), UNBOUNDED)

/** The upper revision of `getSnapshot`: the newest snapshot at or below it; missing or non-positive means any. */
export const toMaxRevision = (operation: string, maxRevision: number | undefined): E.Either<InvalidArgument, number> =>
  maxRevision !== undefined && !isNumber(maxRevision)
    ? E.left(notANumber(operation, 'maxRevision', maxRevision))
    : E.right(upperRevisionBound(maxRevision))

/**
 * A checkpoint window `(from, to]` over tokens, normalised: negative or -Infinity `from` means the beginning,
 * fractions are rounded down (a token above 2.5 is a token above 2), bounds past MAX_SAFE_INTEGER are clamped.
 * `undefined` as the answer means the window holds nothing. NaN is refused: a reader that lost its checkpoint
 * must not silently start over from 0.
 */
export const toTokens = (
  operation: string,
  from: number,
  to: number,
): E.Either<InvalidArgument, { readonly from: number; readonly to: number } | undefined> => {
  if (!isNumber(from)) return E.left(notANumber(operation, 'checkpoint', from))
  if (!isNumber(to)) return E.left(notANumber(operation, 'upper checkpoint', to))
  const f = from <= 0 ? 0 : Math.floor(from)
  const t = Math.min(Math.floor(to), UNBOUNDED)
  if (f >= UNBOUNDED || t <= f) return E.right(undefined)
  return E.right({ from: f, to: t })
}

/** A time bound: a valid Date, copied, so that the caller changing it later has no effect on the read. */
export const toTime = (operation: string, maxTime: Date): E.Either<InvalidArgument, Date> =>
  maxTime instanceof Date && !Number.isNaN(maxTime.getTime())
    ? E.right(new Date(maxTime.getTime()))
    : E.left(invalidArgument(operation, `maxTime must be a valid Date, got ${maxTime instanceof Date ? 'an Invalid Date' : typeof maxTime}`))

/**
 * A `streamsToSnapshot` threshold: a head at least `threshold` revisions past its newest snapshot. Non-positive
 * means every stream; fractions round up (a difference of at least 2.5 is one of at least 3); `undefined` as the
 * answer means no stream can qualify.
 */
export const toThreshold = (operation: string, threshold: number): E.Either<InvalidArgument, number | undefined> => {
  if (!isNumber(threshold)) return E.left(notANumber(operation, 'threshold', threshold))
  if (threshold <= 0) return E.right(0)
  const t = Math.ceil(threshold)
  return E.right(t > UNBOUNDED ? undefined : t)
}

/** The first revision a read starts at: a missing or non-positive bound means "from the start" (SEMANTICS 5). */
export const lowerRevision = (minRevision: number | undefined): number =>
  minRevision !== undefined && minRevision > 0 ? minRevision : 1

/** The last revision a read reaches: a missing or non-positive bound means "to the end" (SEMANTICS 5, 9). */
export const upperRevision = (maxRevision: number | undefined): number =>
  maxRevision !== undefined && maxRevision > 0 ? maxRevision : Number.MAX_SAFE_INTEGER
