import * as E from 'fp-ts/lib/Either.js'
import { storageError, type StorageError } from '../eventstore/errors.js'

/**
 * What the SQL stores share when turning rows back into commits, snapshots and heads. Drivers hand columns back in
 * different shapes (pg: bigint as string; mysql2: BIGINT as number or string, text as Buffer for binary
 * collations; better-sqlite3: numbers), so each helper takes `unknown` and says what it accepts.
 */

/**
 * An integer column: a number, a decimal string or a bigint. Values above 2^53 would lose precision; every
 * number the kit stores (revisions, sequences, milliseconds, tokens) stays below it.
 */
export const num = (v: unknown): number => {
  const n = typeof v === 'number' ? v : Number(v as string)
  if (!Number.isFinite(n)) throw new TypeError(`expected an integer column, got ${typeof v === 'string' ? JSON.stringify(v) : typeof v}`)
  return n
}

/** A text column: a string, or UTF-8 bytes from a binary collation. */
export const text = (v: unknown): string => {
  if (typeof v === 'string') return v
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8')
  throw new TypeError(`expected a text column, got ${v === null ? 'null' : typeof v}`)
}

/** A JSON column: text to parse, or a value the driver already parsed (pg parses json/jsonb itself). */
export const parseJson = <A>(v: unknown): A => (typeof v === 'string' || v instanceof Uint8Array ? (JSON.parse(text(v)) as A) : (v as A))

/**
 * Maps every row of a page, turning a row that does not parse (edited by hand, a column of another type) into a
 * StorageError instead of a throw, and stopping at the first.
 */
export const mapRows = <R, A>(operation: string, rows: readonly R[], f: (row: R) => A): E.Either<StorageError, A[]> => {
  const out: A[] = new Array(rows.length)
  try {
    for (let i = 0; i < rows.length; i++) out[i] = f(rows[i] as R)
  } catch (cause) {
    return E.left(storageError(`${operation} (decoding a row)`, cause))
  }
  return E.right(out)
}
